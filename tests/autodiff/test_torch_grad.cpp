// Gradients agree with PyTorch's autograd in binary64 on small models: an MLP, a CNN with
// conv2d_nchw / batch norm / pooling / cross-entropy, softmax and log_softmax, layernorm, the
// smooth activations, and an attention-like chain of batched products. The reference values come
// from scripts/torch_grad_reference.py (tests/autodiff/data/torch_grads.json); the models are
// rebuilt here as IR. Both sides are binary64 with different summation orders on sums of at most
// a few hundred terms of size O(1), so they agree to ~1e-14; the tolerance is 1e-10 * max(1,
// |ref|).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "grad_test_util.hpp"

namespace torchlean::testing {
namespace {

using ir::OpKind;
using json = nlohmann::json;

const json& reference() {
  static const json j = [] {
    std::ifstream f(std::string(TORCHLEAN_SOURCE_DIR) + "/tests/autodiff/data/torch_grads.json");
    return json::parse(f);
  }();
  return j;
}

const json& find_case(const std::string& name) {
  for (const json& c : reference().at("cases"))
    if (c.at("name") == name) return c;
  throw std::runtime_error("no case " + name);
}

Tensor<double> tensor_of(const json& t) {
  return Tensor<double>(Shape(t.at("shape").get<std::vector<int64_t>>()),
                        t.at("data").get<std::vector<double>>());
}

// A model under construction: leaves by name (inputs or consts), then the loss.
struct Model {
  const json& c;
  ir::GraphBuilder b;
  std::map<std::string, int64_t> leaf;
  std::vector<Tensor<double>> inputs;

  explicit Model(const std::string& name) : c(find_case(name)) {}
  Tensor<double> value(const std::string& n) const { return tensor_of(c.at("tensors").at(n)); }
  int64_t input(const std::string& n) {
    inputs.push_back(value(n));
    return leaf[n] = b.input(inputs.back().shape());
  }
  int64_t constant(const std::string& n) { return leaf[n] = b.constant(value(n)); }
  int64_t op(OpKind k, std::vector<int64_t> ps, ir::Attrs a = ir::NoAttrs{}) {
    return b.add(k, std::move(ps), std::move(a));
  }
  // x W^T + b over the last axis.
  int64_t linear(int64_t x, int64_t w, int64_t bias) {
    const int64_t y = op(OpKind::matmul, {x, op(OpKind::permute, {w}, ir::PermuteAttrs{{1, 0}})});
    return op(OpKind::add, {y, op(OpKind::broadcast, {bias}, ir::BroadcastAttrs{b.shape(y)})});
  }
  int64_t weighted_sum(int64_t y, int64_t w) {
    return op(OpKind::sum, {op(OpKind::mul_elem, {y, w})});
  }
  int64_t scalar(double v) { return b.constant(Tensor<double>(Shape{}, std::vector<double>{v})); }

  // Differentiates `loss` wrt every tensor the reference has a gradient for and compares.
  void check(int64_t loss, const std::map<std::string, int64_t>& extra_leaves = {}) {
    b.mark_output(loss);
    auto [g, p] = std::move(b).finish();
    std::vector<std::string> names;
    std::vector<int64_t> wrt;
    for (const auto& [n, gj] : c.at("grads").items()) {
      names.push_back(n);
      auto it = leaf.find(n);
      wrt.push_back(it != leaf.end() ? it->second : extra_leaves.at(n));
    }
    check_graph(g, p, loss, names, wrt);
  }

  void check_graph(const ir::Graph& g, const ir::Payload& p, int64_t loss,
                   const std::vector<std::string>& names, const std::vector<int64_t>& wrt) {
    const autodiff::GradGraph gg = autodiff::grad(g, {loss, wrt});
    const auto out = run_outputs<F64>(gg.graph, autodiff::merge_payload(p, gg), inputs);
    const double ref_loss = c.at("loss").get<double>();
    EXPECT_NEAR(out[0][0].v, ref_loss, 1e-10 * std::max(1.0, std::fabs(ref_loss))) << "loss";
    for (size_t k = 0; k < names.size(); ++k) {
      const Tensor<double> ref = tensor_of(c.at("grads").at(names[k]));
      const Tensor<F64>& got = out.at(1 + k);
      ASSERT_EQ(got.shape(), ref.shape()) << names[k];
      for (int64_t i = 0; i < ref.numel(); ++i)
        EXPECT_NEAR(got[i].v, ref[i], 1e-10 * std::max(1.0, std::fabs(ref[i])))
            << "d loss / d " << names[k] << " [" << i << "]";
    }
  }
};

TEST(TorchGrad, Mlp) {
  Model m("mlp");
  const int64_t x = m.input("x");
  const int64_t h = m.op(OpKind::tanh, {m.linear(x, m.constant("w1"), m.constant("b1"))});
  const int64_t y = m.linear(h, m.constant("w2"), m.constant("b2"));
  m.check(m.op(OpKind::mse_loss, {y, m.constant("t")}));
}

// conv2d_nchw -> v1 batch_norm2d_nchw_eval (lifted) -> relu -> max pool -> avg pool -> linear ->
// cross_entropy.
TEST(TorchGrad, Cnn) {
  Model m("cnn");
  const int64_t x = m.input("x");
  ir::Conv2dNchwAttrs ca;
  ca.pad_top = ca.pad_left = ca.pad_bottom = ca.pad_right = 1;
  int64_t h = m.op(OpKind::conv2d_nchw, {x, m.constant("w"), m.constant("b")}, ca);
  const int64_t bn = m.op(OpKind::batch_norm2d_nchw_eval, {h}, ir::BatchNormAttrs{3});
  for (const char* s : {"gamma", "beta", "mean", "var"}) m.b.set_payload(bn, s, m.value(s));
  m.b.set_payload(bn, "eps", Tensor<double>(Shape{}, std::vector<double>{1e-5}));
  h = m.op(OpKind::relu, {bn});
  ir::PoolNchwAttrs mp;
  mp.kH = mp.kW = mp.stride_h = mp.stride_w = 2;
  h = m.op(OpKind::max_pool2d_nchw, {h}, mp);
  ir::PoolNchwAttrs ap;
  ap.kH = ap.kW = 3;
  ap.pad_top = ap.pad_left = ap.pad_bottom = ap.pad_right = 1;
  ap.count_include_pad = true;
  h = m.op(OpKind::avg_pool2d_nchw, {h}, ap);
  h = m.op(OpKind::reshape, {h}, ir::ReshapeAttrs{m.b.shape(h), Shape{2, 27}});
  const int64_t logits = m.linear(h, m.constant("wfc"), m.constant("bfc"));
  const int64_t loss = m.op(OpKind::cross_entropy, {logits, m.constant("target")});
  m.b.mark_output(loss);
  auto [g, p] = std::move(m.b).finish();
  std::vector<autodiff::LiftedParameter> params;
  auto [lg, lp] = autodiff::lift_parameters(g, p, &params);
  // Lifting renumbers nodes: map each leaf through the lifted parameter list (consts keep their
  // order) and the input order.
  std::map<int64_t, int64_t> moved;
  for (const auto& prm : params)
    if (prm.slot == "value") moved[prm.node] = prm.const_id;
  std::vector<std::string> names;
  std::vector<int64_t> wrt;
  for (const auto& [n, gj] : m.c.at("grads").items()) {
    names.push_back(n);
    if (n == "x") {
      wrt.push_back(lg.input_ids[0]);
    } else if (n == "gamma" || n == "beta") {
      for (const auto& prm : params)
        if (prm.node == bn && prm.slot == n) wrt.push_back(prm.const_id);
    } else {
      wrt.push_back(moved.at(m.leaf.at(n)));
    }
  }
  m.check_graph(lg, lp, lg.output_ids[0], names, wrt);
}

TEST(TorchGrad, SoftmaxAndLogSoftmax) {
  Model m("softmax");
  const int64_t x = m.input("x");
  const int64_t a = m.weighted_sum(m.op(OpKind::softmax, {x}, ir::AxisAttrs{1}), m.constant("c1"));
  const int64_t b2 =
      m.weighted_sum(m.op(OpKind::log_softmax, {x}, ir::AxisAttrs{1}), m.constant("c2"));
  m.check(m.op(OpKind::add, {a, b2}));
}

TEST(TorchGrad, Layernorm) {
  Model m("layernorm");
  const int64_t x = m.input("x");
  m.check(m.weighted_sum(m.op(OpKind::layernorm, {x}, ir::AxisAttrs{1}), m.constant("c")));
}

TEST(TorchGrad, Activations) {
  Model m("activations");
  const int64_t x = m.input("x");
  int64_t s = m.op(OpKind::gelu, {x});
  for (OpKind k : {OpKind::erf, OpKind::silu, OpKind::softplus})
    s = m.op(OpKind::add, {s, m.op(k, {x})});
  s = m.op(OpKind::add, {s, m.op(OpKind::leaky_relu, {x}, ir::LeakyReluAttrs{0.1})});
  s = m.op(OpKind::add,
           {s, m.op(OpKind::mul_elem, {m.op(OpKind::sigmoid, {x}), m.op(OpKind::exp, {x})})});
  m.check(m.weighted_sum(s, m.constant("c")));
}

TEST(TorchGrad, AttentionChain) {
  Model m("attention");
  const int64_t x = m.input("x");
  const int64_t q = m.op(OpKind::matmul, {x, m.constant("wq")});
  const int64_t k = m.op(OpKind::matmul, {x, m.constant("wk")});
  const int64_t v = m.op(OpKind::matmul, {x, m.constant("wv")});
  const int64_t kt = m.op(OpKind::permute, {k}, ir::PermuteAttrs{{0, 2, 1}});
  const int64_t raw = m.op(OpKind::matmul, {q, kt});
  const int64_t scale =
      m.op(OpKind::broadcast, {m.scalar(std::sqrt(3.0))}, ir::BroadcastAttrs{m.b.shape(raw)});
  const int64_t attn = m.op(OpKind::softmax, {m.op(OpKind::div, {raw, scale})}, ir::AxisAttrs{2});
  m.check(m.weighted_sum(m.op(OpKind::matmul, {attn, v}), m.constant("c")));
}

}  // namespace
}  // namespace torchlean::testing
