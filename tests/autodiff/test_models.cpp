// Whole models (tests/runtime/test_models.hpp): lift_parameters leaves every output bit-identical
// in F32, F64 and Exact, also on inputs with NaN, infinities, signed zeros and subnormals; and
// the compiled forward + backward Program of each model (and of two models of extension ops)
// passes the equivalence checker in exact mode (every node bit-identical to the reference F32
// evaluation), like any other Program, and round-trips through graph JSON.
#include "../runtime/test_models.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "grad_test_util.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::testing {
namespace {

using ir::OpKind;

std::vector<TestModel> v1_models() {
  return {mlp_model(3, 5, 7, 4, 11), cnn_model(12), attention_model(13), torchlean_mlp_fixture()};
}

template <class S>
void expect_same_outputs(const TestModel& m, const ir::Graph& lifted, const ir::Payload& lp,
                         const std::vector<Tensor<double>>& inputs) {
  const auto before = run_outputs<S>(m.graph, m.payload, inputs);
  const auto after = run_outputs<S>(lifted, lp, inputs);
  ASSERT_EQ(before.size(), after.size());
  for (size_t o = 0; o < before.size(); ++o) {
    ASSERT_EQ(before[o].shape(), after[o].shape());
    for (int64_t i = 0; i < before[o].numel(); ++i) {
      if constexpr (S::is_exact) {
        EXPECT_TRUE(before[o][i] == after[o][i]) << "output " << o << " element " << i;
      } else {
        EXPECT_TRUE(same_bits(before[o][i].v, after[o][i].v))
            << "output " << o << " element " << i << ": " << before[o][i].v << " vs "
            << after[o][i].v;
      }
    }
  }
}

TEST(LiftParameters, V1ModelsBitIdentical) {
  for (const TestModel& m : v1_models()) {
    SCOPED_TRACE(m.name);
    std::vector<autodiff::LiftedParameter> params;
    auto [lifted, lp] = autodiff::lift_parameters(m.graph, m.payload, &params);
    for (int64_t id : ir::parameterised_nodes(lifted))
      EXPECT_EQ(lifted.node(id).kind, OpKind::constant) << "node " << id;
    size_t slots = 0;
    for (int64_t id : ir::parameterised_nodes(m.graph))
      slots += ir::payload_slots(m.graph, m.graph.node(id)).size();
    EXPECT_EQ(params.size(), slots);
    expect_same_outputs<F32>(m, lifted, lp, m.inputs);
    expect_same_outputs<F64>(m, lifted, lp, m.inputs);
    expect_same_outputs<Exact>(m, lifted, lp, m.inputs);
    // Special values: NaN, +-inf, +-0, subnormals in the inputs.
    ValueSource src(99, 0.3);
    std::vector<Tensor<double>> special;
    for (const Tensor<double>& x : m.inputs) {
      Tensor<double> t(x.shape());
      for (double& v : t.vec()) v = src.value();
      special.push_back(std::move(t));
    }
    expect_same_outputs<F32>(m, lifted, lp, special);
    expect_same_outputs<F64>(m, lifted, lp, special);
  }
}

// loss = sum(output * w) for a model's first output, gradients wrt every input and parameter.
struct Training {
  ir::Graph graph;
  ir::Payload payload;
  std::vector<Tensor<double>> inputs;
};

Training backward_of(const TestModel& m) {
  Training t;
  std::vector<autodiff::LiftedParameter> params;
  auto [g, p] = autodiff::lift_parameters(m.graph, m.payload, &params);
  const int64_t out = g.output_ids.at(0);
  const Shape s = g.node(out).shape;
  ValueSource src(5, 0.0);
  std::vector<double> w(static_cast<size_t>(s.numel()));
  for (double& v : w) v = static_cast<double>(static_cast<float>(src.uniform() - 0.5));
  const int64_t wid = g.add(OpKind::constant, {}, ir::ConstAttrs{s}, s);
  p[wid]["value"] = Tensor<double>(s, w);
  const int64_t m_id = g.add(OpKind::mul_elem, {out, wid}, ir::NoAttrs{}, s);
  const int64_t loss = g.add(OpKind::sum, {m_id}, ir::NoAttrs{}, Shape{});
  g.output_ids.push_back(loss);
  // Every input and parameter, except index-valued inputs (those feeding gather/cross_entropy).
  std::vector<int64_t> wrt;
  for (int64_t id : g.input_ids) {
    bool index = false;
    for (const ir::Node& n : g.nodes)
      for (size_t k = 0; k < n.parents.size(); ++k)
        index = index || (n.parents[k] == id && k == 1 &&
                          (n.kind == OpKind::gather || n.kind == OpKind::cross_entropy));
    if (!index) wrt.push_back(id);
  }
  for (const auto& prm : params) wrt.push_back(prm.const_id);
  const autodiff::GradGraph gg = autodiff::grad(g, {loss, wrt});
  t.payload = autodiff::merge_payload(p, gg);
  t.graph = gg.graph;
  t.inputs = m.inputs;
  return t;
}

ir::PayloadStore<float> to_float_payload(const ir::Payload& p) {
  ir::PayloadStore<float> out;
  for (const auto& [id, slots] : p)
    for (const auto& [name, t] : slots) {
      std::vector<float> v;
      for (double d : t.vec()) v.push_back(to_elem<float>(d));
      out[id].emplace(name, Tensor<float>(t.shape(), std::move(v)));
    }
  return out;
}

// The extension ops whose VJPs the other models do not reach: an embedding (gather) feeding
// slice, concat, pad, the smooth activations, clamp, pow_const, div, log_softmax and
// cross_entropy. Differentiated with respect to the embedding table and the output weight.
TestModel extension_model(uint64_t seed) {
  TestModel m;
  m.name = "extension ops seed " + std::to_string(seed);
  ValueSource src(seed);
  ir::GraphBuilder b;
  const int64_t idx = b.input(Shape{2, 3});
  const int64_t targets = b.input(Shape{6});
  const int64_t table = b.constant(detail::uniform(src, Shape{5, 4}, 1.0));
  const int64_t emb = b.add(OpKind::gather, {table, idx}, ir::GatherAttrs{0});
  const int64_t flat = b.add(OpKind::reshape, {emb}, ir::ReshapeAttrs{Shape{2, 3, 4}, Shape{6, 4}});
  const int64_t part = b.add(OpKind::slice, {flat}, ir::SliceAttrs{{5, 1}, {-1, 4}, {-1, 1}});
  const int64_t cat = b.add(OpKind::concat, {flat, part}, ir::AxisAttrs{1});
  const int64_t padded = b.add(OpKind::pad, {cat}, ir::PadAttrs{{0, 1}, {0, 0}, 0.5});
  int64_t h = b.add(OpKind::gelu, {padded});
  h = b.add(OpKind::add, {h, b.add(OpKind::silu, {padded})});
  h = b.add(OpKind::add, {h, b.add(OpKind::softplus, {padded})});
  h = b.add(OpKind::add, {h, b.add(OpKind::leaky_relu, {padded}, ir::LeakyReluAttrs{0.125})});
  h = b.add(OpKind::add,
            {h, b.add(OpKind::clamp, {padded}, ir::ClampAttrs{-0.5, 0.5, true, true})});
  h = b.add(OpKind::add, {h, b.add(OpKind::pow_const, {padded}, ir::PowAttrs{3})});
  const int64_t denom =
      b.add(OpKind::add, {b.add(OpKind::exp, {padded}), b.add(OpKind::erf, {padded})});
  h = b.add(OpKind::div, {h, denom});
  const int64_t logits =
      b.add(OpKind::matmul, {h, b.constant(detail::uniform(src, Shape{8, 3}, 0.5))});
  const int64_t ls = b.add(OpKind::log_softmax, {logits}, ir::AxisAttrs{1});
  const int64_t ce = b.add(OpKind::cross_entropy, {logits, targets});
  b.mark_output(b.add(OpKind::add, {b.add(OpKind::sum, {ls}), ce}));
  std::tie(m.graph, m.payload) = std::move(b).finish();
  m.inputs.push_back(Tensor<double>(Shape{2, 3}, std::vector<double>{4, 0, 2, 2, 1, 3}));
  m.inputs.push_back(Tensor<double>(Shape{6}, std::vector<double>{0, 2, 1, 1, 0, 2}));
  return m;
}

TEST(BackwardProgram, PassesEquivalenceCheckerInExactMode) {
  std::vector<TestModel> models = v1_models();
  models.push_back(nchw_cnn_model(14));
  models.push_back(extension_model(15));
  for (const TestModel& m : models) {
    SCOPED_TRACE(m.name);
    const Training t = backward_of(m);
    ir::check_payload(t.graph, t.payload);
    const ir::PayloadStore<float> pf = to_float_payload(t.payload);
    compile::CompileOptions opts;
    runtime::Program<float> prog = compile::compile(t.graph, pf, opts);
    const runtime::CheckReport r = runtime::check_equivalence(prog, to_elem<float>(t.inputs));
    EXPECT_TRUE(r.ok) << r.text();
    EXPECT_EQ(r.mode, runtime::KernelMode::exact);
    EXPECT_GT(r.instructions, 0);
    EXPECT_EQ(r.exact_instructions, r.instructions) << "exact mode: every instruction bit-exact";
    std::printf("[ %s ] backward graph %zu nodes: %s\n", m.name.c_str(), t.graph.nodes.size(),
                r.text().c_str());
    // A gradient graph is an ordinary (extension) graph: it round-trips through graph JSON.
    const std::string text = io::write_graph_json(t.graph);
    EXPECT_NE(text.find(io::kGraphJsonExtFormat), std::string::npos);
    EXPECT_EQ(io::load_graph_json(text).graph, t.graph);
  }
}

}  // namespace
}  // namespace torchlean::testing
