// Small fixed models for the compiler tests and golden snapshots: an MLP (linear/relu), a CNN
// touching conv, pools, batch norm, reshape, a fused elementwise chain, linear and softmax, and
// TorchLean's published MLP state dict (../shared/data/torchlean/Interop/PyTorch/MLP/mlp.json).
#pragma once
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "runtime_test_util.hpp"
#include "torchlean/io/state_dict.hpp"
#include "torchlean/ir/builder.hpp"

namespace torchlean::testing {

struct TestModel {
  std::string name;
  ir::Graph graph;
  ir::Payload payload;
  std::vector<Tensor<double>> inputs;
};

namespace detail {

// Values uniform in [-scale, scale), rounded to binary32 so the f32 and f64 programs see the same
// parameters.
inline Tensor<double> uniform(ValueSource& src, Shape s, double scale) {
  std::vector<double> v(static_cast<size_t>(s.numel()));
  for (double& x : v) x = static_cast<double>(static_cast<float>((src.uniform() * 2 - 1) * scale));
  return Tensor<double>(std::move(s), std::move(v));
}

inline int64_t linear(TestModel& m, ValueSource& src, int64_t x, int64_t rows, int64_t in,
                      int64_t out) {
  const int64_t id = m.graph.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{rows, out});
  m.payload[id].emplace("weight",
                        uniform(src, Shape{out, in}, 1.0 / std::sqrt(static_cast<double>(in))));
  m.payload[id].emplace("bias", uniform(src, Shape{out}, 0.1));
  return id;
}

}  // namespace detail

// (batch, in) -> linear(hidden) -> relu -> linear(hidden) -> relu -> linear(out).
inline TestModel mlp_model(int64_t batch, int64_t in, int64_t hidden, int64_t out, uint64_t seed) {
  TestModel m;
  m.name = "mlp " + std::to_string(in) + "-" + std::to_string(hidden) + "-" +
           std::to_string(hidden) + "-" + std::to_string(out) + " batch " + std::to_string(batch);
  ValueSource src(seed);
  ir::Graph& g = m.graph;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{batch, in});
  int64_t h = detail::linear(m, src, x, batch, in, hidden);
  h = g.add(ir::OpKind::relu, {h}, ir::NoAttrs{}, Shape{batch, hidden});
  h = detail::linear(m, src, h, batch, hidden, hidden);
  h = g.add(ir::OpKind::relu, {h}, ir::NoAttrs{}, Shape{batch, hidden});
  const int64_t y = detail::linear(m, src, h, batch, hidden, out);
  g.input_ids = {x};
  g.output_ids = {y};
  m.inputs.push_back(detail::uniform(src, Shape{batch, in}, 1.0));
  return m;
}

// (2,9,9) -> conv 3x3 p1 -> relu -> max_pool_pad 3/2/1 -> [reshape, batch norm, reshape, tanh]
// + residual -> avg_pool 2/1 -> conv 3x3 -> flatten -> linear -> softmax.
inline TestModel cnn_model(uint64_t seed) {
  TestModel m;
  m.name = "cnn seed " + std::to_string(seed);
  ValueSource src(seed);
  ir::Graph& g = m.graph;
  auto conv = [&](int64_t x, int64_t in_c, int64_t out_c, int64_t k, int64_t stride, int64_t pad,
                  Shape out) {
    const int64_t id = g.add(ir::OpKind::conv2d, {x},
                             ir::Conv2dAttrs{in_c, out_c, k, k, stride, pad}, std::move(out));
    m.payload[id].emplace("weight", detail::uniform(src, Shape{out_c, in_c, k, k}, 0.5));
    m.payload[id].emplace("bias", detail::uniform(src, Shape{out_c}, 0.1));
    return id;
  };
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{2, 9, 9});
  int64_t h = conv(x, 2, 4, 3, 1, 1, Shape{4, 9, 9});
  h = g.add(ir::OpKind::relu, {h}, ir::NoAttrs{}, Shape{4, 9, 9});
  const int64_t pooled =
      g.add(ir::OpKind::max_pool2d_pad, {h}, ir::Pool2dPadAttrs{3, 3, 2, 1}, Shape{4, 5, 5});
  h = g.add(ir::OpKind::reshape, {pooled}, ir::ReshapeAttrs{Shape{4, 5, 5}, Shape{1, 4, 5, 5}},
            Shape{1, 4, 5, 5});
  const int64_t bn =
      g.add(ir::OpKind::batch_norm2d_nchw_eval, {h}, ir::BatchNormAttrs{4}, Shape{1, 4, 5, 5});
  for (const char* name : {"gamma", "beta", "mean"})
    m.payload[bn].emplace(name, detail::uniform(src, Shape{4}, 1.0));
  Tensor<double> var = detail::uniform(src, Shape{4}, 1.0);
  for (double& v : var.vec()) v = std::fabs(v);
  m.payload[bn].emplace("var", std::move(var));
  m.payload[bn].emplace("eps", Tensor<double>(Shape{}, std::vector<double>{1e-5}));
  h = g.add(ir::OpKind::reshape, {bn}, ir::ReshapeAttrs{Shape{1, 4, 5, 5}, Shape{4, 5, 5}},
            Shape{4, 5, 5});
  h = g.add(ir::OpKind::tanh, {h}, ir::NoAttrs{}, Shape{4, 5, 5});
  h = g.add(ir::OpKind::add, {h, pooled}, ir::NoAttrs{}, Shape{4, 5, 5});
  h = g.add(ir::OpKind::avg_pool2d, {h}, ir::Pool2dAttrs{2, 2, 1}, Shape{4, 4, 4});
  h = conv(h, 4, 6, 3, 1, 0, Shape{6, 2, 2});
  h = g.add(ir::OpKind::flatten, {h}, ir::FlattenAttrs{Shape{6, 2, 2}}, Shape{24});
  const int64_t l = g.add(ir::OpKind::linear, {h}, ir::NoAttrs{}, Shape{10});
  m.payload[l].emplace("weight", detail::uniform(src, Shape{10, 24}, 0.2));
  m.payload[l].emplace("bias", detail::uniform(src, Shape{10}, 0.1));
  const int64_t y = g.add(ir::OpKind::softmax, {l}, ir::AxisAttrs{0}, Shape{10});
  g.input_ids = {x};
  g.output_ids = {y};
  m.inputs.push_back(detail::uniform(src, Shape{2, 9, 9}, 1.0));
  return m;
}

// A one-head self-attention block with dropout and a loss, touching the layout ops and the
// row-wise kernels: x (1,4,8) -> layernorm -> q, k, v = matmul with constant (1,8,8) weights ->
// softmax(q . k^T) . v -> dropout mask (bernoulli_mask, keepProb a constant) -> + x ->
// permute -> reshape (4,8) -> (y, mse_loss(y, target)).
inline TestModel attention_model(uint64_t seed) {
  TestModel m;
  m.name = "attention seed " + std::to_string(seed);
  ValueSource src(seed);
  ir::Graph& g = m.graph;
  auto constant = [&](Shape s, double scale) {
    const int64_t id = g.add(ir::OpKind::constant, {}, ir::ConstAttrs{s}, s);
    m.payload[id].emplace("value", detail::uniform(src, s, scale));
    return id;
  };
  const Shape seq{1, 4, 8};
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, seq);
  const int64_t target = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{4, 8});
  const int64_t ln = g.add(ir::OpKind::layernorm, {x}, ir::AxisAttrs{2}, seq);
  auto project = [&] {
    return g.add(ir::OpKind::matmul, {ln, constant(Shape{1, 8, 8}, 0.35)}, ir::NoAttrs{}, seq);
  };
  const int64_t q = project(), k = project(), v = project();
  const int64_t kt = g.add(ir::OpKind::transpose3d_last_two, {k}, ir::NoAttrs{}, Shape{1, 8, 4});
  const int64_t scores = g.add(ir::OpKind::matmul, {q, kt}, ir::NoAttrs{}, Shape{1, 4, 4});
  const int64_t attn = g.add(ir::OpKind::softmax, {scores}, ir::AxisAttrs{2}, Shape{1, 4, 4});
  const int64_t mixed = g.add(ir::OpKind::matmul, {attn, v}, ir::NoAttrs{}, seq);
  const int64_t keep = g.add(ir::OpKind::constant, {}, ir::ConstAttrs{Shape{}}, Shape{});
  m.payload[keep].emplace("value", Tensor<double>(Shape{}, std::vector<double>{0.875}));
  const int64_t mask = g.add(ir::OpKind::bernoulli_mask, {keep}, ir::SeedAttrs{7}, seq);
  const int64_t dropped = g.add(ir::OpKind::mul_elem, {mixed, mask}, ir::NoAttrs{}, seq);
  const int64_t res = g.add(ir::OpKind::add, {dropped, x}, ir::NoAttrs{}, seq);
  const int64_t perm =
      g.add(ir::OpKind::permute, {res}, ir::PermuteAttrs{{1, 0, 2}}, Shape{4, 1, 8});
  const int64_t y = g.add(ir::OpKind::reshape, {perm},
                          ir::ReshapeAttrs{Shape{4, 1, 8}, Shape{4, 8}}, Shape{4, 8});
  const int64_t loss = g.add(ir::OpKind::mse_loss, {y, target}, ir::NoAttrs{}, Shape{});
  g.input_ids = {x, target};
  g.output_ids = {y, loss};
  m.inputs.push_back(detail::uniform(src, seq, 1.0));
  m.inputs.push_back(detail::uniform(src, Shape{4, 8}, 1.0));
  return m;
}

// A batched NCHW CNN of extension ops, as autodiff and the ONNX importer emit them: x (2,3,12,12)
// -> conv2d_nchw 3x3 pad 1 (+bias) -> relu -> max_pool2d_nchw 2/2 -> conv2d_nchw with 2 groups,
// stride 2, asymmetric padding, no bias -> relu -> avg_pool2d_nchw 2/1 (ceil mode,
// count_include_pad)
// -> reshape (2,32) -> matmul with a (32,10) weight -> + broadcast bias -> log_softmax.
inline TestModel nchw_cnn_model(uint64_t seed) {
  TestModel m;
  m.name = "nchw cnn seed " + std::to_string(seed);
  ValueSource src(seed);
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{2, 3, 12, 12});
  ir::Conv2dNchwAttrs c1;
  c1.pad_top = c1.pad_left = c1.pad_bottom = c1.pad_right = 1;
  int64_t h = b.add(ir::OpKind::conv2d_nchw,
                    {x, b.constant(detail::uniform(src, Shape{8, 3, 3, 3}, 0.5)),
                     b.constant(detail::uniform(src, Shape{8}, 0.1))},
                    c1);
  h = b.add(ir::OpKind::relu, {h});
  ir::PoolNchwAttrs p1;
  p1.kH = p1.kW = 2;
  p1.stride_h = p1.stride_w = 2;
  h = b.add(ir::OpKind::max_pool2d_nchw, {h}, p1);
  ir::Conv2dNchwAttrs c2;
  c2.stride_h = c2.stride_w = 2;
  c2.pad_top = c2.pad_left = 1;
  c2.groups = 2;
  h = b.add(ir::OpKind::conv2d_nchw, {h, b.constant(detail::uniform(src, Shape{8, 4, 3, 3}, 0.5))},
            c2);
  h = b.add(ir::OpKind::relu, {h});
  ir::PoolNchwAttrs p2;
  p2.kH = p2.kW = 2;
  p2.ceil_mode = p2.count_include_pad = true;
  h = b.add(ir::OpKind::avg_pool2d_nchw, {h}, p2);
  const Shape pooled = b.shape(h);
  h = b.add(ir::OpKind::reshape, {h},
            ir::ReshapeAttrs{pooled, Shape{pooled[0], pooled.numel() / pooled[0]}});
  const int64_t features = b.shape(h)[1];
  h = b.add(ir::OpKind::matmul, {h, b.constant(detail::uniform(src, Shape{features, 10}, 0.3))});
  const int64_t bias =
      b.add(ir::OpKind::broadcast, {b.constant(detail::uniform(src, Shape{10}, 0.1))},
            ir::BroadcastAttrs{b.shape(h)});
  h = b.add(ir::OpKind::add, {h, bias});
  b.mark_output(b.add(ir::OpKind::log_softmax, {h}, ir::AxisAttrs{1}));
  std::tie(m.graph, m.payload) = std::move(b).finish();
  m.inputs.push_back(detail::uniform(src, Shape{2, 3, 12, 12}, 1.0));
  return m;
}

// TorchLean's MLP fixture (layers.0 2->3, ReLU, layers.2 3->1) at x = (0.5, 0.8), the input
// its published PyTorch outputs were computed at (tests/conformance/data/torch_reference.json).
inline TestModel torchlean_mlp_fixture() {
  TestModel m;
  m.name = "torchlean mlp fixture";
  ir::Graph& g = m.graph;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{2});
  const int64_t l0 = g.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{3});
  const int64_t r = g.add(ir::OpKind::relu, {l0}, ir::NoAttrs{}, Shape{3});
  const int64_t l2 = g.add(ir::OpKind::linear, {r}, ir::NoAttrs{}, Shape{1});
  g.input_ids = {x};
  g.output_ids = {l2};
  const io::StateDict sd = io::read_state_dict_file(
      std::string(TORCHLEAN_SOURCE_DIR) + "/../shared/data/torchlean/Interop/PyTorch/MLP/mlp.json");
  m.payload = io::payload_from_state_dict(g, sd);
  m.inputs.push_back(Tensor<double>(Shape{2}, std::vector<double>{0.5, 0.8}));
  return m;
}

}  // namespace torchlean::testing
