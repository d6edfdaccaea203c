// ONNX import of individual ops: opset-dependent forms (axes as attribute vs input, Clip bounds,
// Softmax's coerce-to-2D before opset 13, Slice attributes vs inputs, Reshape's 0 and -1), shape
// chains folded at import, NumPy broadcasting, and the IR each produces. Values are checked where
// the expected result is exact. Every model also round-trips (import -> export -> import gives the
// same graph and bit-identical outputs), and v1 graphs export to ONNX and come back with the same
// outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "io_test_util.hpp"
#include "onnx_test_util.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::io {
namespace {

using ir::OpKind;
using test::OnnxBuilder;

template <class S = F64>
std::vector<Tensor<S>> run(const ir::Graph& g, const ir::Payload& p,
                           const std::vector<Tensor<double>>& xs) {
  std::vector<Tensor<S>> in;
  for (const auto& x : xs) {
    std::vector<S> v;
    for (double d : x.vec()) v.push_back(S::from_double(d));
    in.emplace_back(x.shape(), std::move(v));
  }
  return interp::evaluate_outputs<S>(g, ir::convert_payload<S>(p), in);
}

Tensor<double> iota(Shape s, double start = 0) {
  Tensor<double> t(std::move(s));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = start + static_cast<double>(i);
  return t;
}

std::vector<double> values(const Tensor<F64>& t) {
  std::vector<double> v;
  for (const auto& x : t.vec()) v.push_back(x.to_double());
  return v;
}

std::vector<OpKind> kinds(const ir::Graph& g) {
  std::vector<OpKind> k;
  for (const auto& n : g.nodes) k.push_back(n.kind);
  return k;
}

// import -> export -> import: same graph and payload, bit-identical F64 outputs.
void expect_round_trip(const OnnxModel& m, const std::vector<Tensor<double>>& xs) {
  OnnxModel back = import_onnx(export_onnx(m.graph, m.payload), {}, "round trip");
  EXPECT_TRUE(back.graph == m.graph);
  EXPECT_EQ(back.payload.size(), m.payload.size());
  const auto a = run(m.graph, m.payload, xs), b = run(back.graph, back.payload, xs);
  ASSERT_EQ(a.size(), b.size());
  for (size_t o = 0; o < a.size(); ++o) {
    const auto va = values(a[o]), vb = values(b[o]);
    ASSERT_EQ(va.size(), vb.size());
    for (size_t i = 0; i < va.size(); ++i)
      EXPECT_EQ(test::bits(va[i]), test::bits(vb[i])) << "output " << o << " at " << i;
  }
}

TEST(OnnxOps, SoftmaxBeforeOpset13CoercesTo2D) {
  for (int64_t opset : {11, 13}) {
    OnnxBuilder b(opset);
    b.input("x", {2, 3, 4});
    OnnxBuilder::attr(b.node("Softmax", {"x"}, {"y"}), "axis", int64_t{1});
    b.output("y");
    OnnxModel m = b.import();
    if (opset == 11) {
      // Softmax-11 normalises over dims [1:] jointly: (2,3,4) viewed as (2,12).
      ASSERT_EQ(kinds(m.graph),
                (std::vector{OpKind::input, OpKind::reshape, OpKind::softmax, OpKind::reshape}));
      EXPECT_EQ(m.graph.node(1).shape, (Shape{2, 12}));
      EXPECT_EQ(std::get<ir::AxisAttrs>(m.graph.node(2).attrs).axis, 1);
    } else {
      ASSERT_EQ(kinds(m.graph), (std::vector{OpKind::input, OpKind::softmax}));
      EXPECT_EQ(std::get<ir::AxisAttrs>(m.graph.node(1).attrs).axis, 1);
    }
    expect_round_trip(m, {iota(Shape{2, 3, 4})});
  }
  OnnxBuilder last(11);  // the last axis needs no reshape
  last.input("x", {2, 3});
  OnnxBuilder::attr(last.node("LogSoftmax", {"x"}, {"y"}), "axis", int64_t{-1});
  last.output("y");
  EXPECT_EQ(kinds(last.import().graph), (std::vector{OpKind::input, OpKind::log_softmax}));
}

TEST(OnnxOps, SqueezeAndUnsqueezeAxesAttributeVsInput) {
  for (int64_t opset : {11, 13}) {
    OnnxBuilder b(opset);
    b.input("x", {2, 1, 3});
    if (opset == 11) {
      OnnxBuilder::attr(b.node("Squeeze", {"x"}, {"s"}), "axes", std::vector<int64_t>{1});
      OnnxBuilder::attr(b.node("Unsqueeze", {"s"}, {"y"}), "axes", std::vector<int64_t>{0, -1});
    } else {
      b.ints("a1", {1});
      b.ints("a2", {0, -1});
      b.node("Squeeze", {"x", "a1"}, {"s"});
      b.node("Unsqueeze", {"s", "a2"}, {"y"});
    }
    b.output("y");
    OnnxModel m = b.import();
    ASSERT_EQ(kinds(m.graph), (std::vector{OpKind::input, OpKind::reshape, OpKind::reshape}));
    EXPECT_EQ(m.graph.node(1).shape, (Shape{2, 3}));
    EXPECT_EQ(m.graph.node(2).shape, (Shape{1, 2, 3, 1}));
    expect_round_trip(m, {iota(Shape{2, 1, 3})});
  }
}

TEST(OnnxOps, ReduceAxesAttributeVsInputAndSeveralAxes) {
  for (int64_t opset : {11, 13}) {
    OnnxBuilder b(opset);
    b.input("x", {2, 3, 4});
    onnx::NodeProto* n;
    if (opset == 11) {
      n = b.node("ReduceSum", {"x"}, {"y"});
      OnnxBuilder::attr(n, "axes", std::vector<int64_t>{0, 2});
    } else {
      b.ints("axes", {2, 0});
      n = b.node("ReduceSum", {"x", "axes"}, {"y"});
    }
    OnnxBuilder::attr(n, "keepdims", int64_t{0});
    b.output("y");
    OnnxModel m = b.import();
    // Axes 0 and 2 are moved last, merged, reduced once.
    ASSERT_EQ(kinds(m.graph),
              (std::vector{OpKind::input, OpKind::permute, OpKind::reshape, OpKind::reduce_sum}));
    EXPECT_EQ(std::get<ir::PermuteAttrs>(m.graph.node(1).attrs).perm,
              (std::vector<int64_t>{1, 0, 2}));
    const auto y = run(m.graph, m.payload, {iota(Shape{2, 3, 4})});
    std::vector<double> want(3, 0.0);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j)
        for (int64_t k = 0; k < 4; ++k)
          want[static_cast<size_t>(j)] += static_cast<double>(i * 12 + j * 4 + k);
    EXPECT_EQ(values(y[0]), want);
    expect_round_trip(m, {iota(Shape{2, 3, 4})});
  }
  OnnxBuilder noop(13);  // ReduceSum-13 with no axes and noop_with_empty_axes is the identity
  noop.input("x", {2});
  OnnxBuilder::attr(noop.node("ReduceSum", {"x"}, {"y"}), "noop_with_empty_axes", int64_t{1});
  noop.output("y");
  EXPECT_EQ(kinds(noop.import().graph), (std::vector{OpKind::input}));
  OnnxBuilder mean(13);  // ReduceMean keeps the reduced dim by default
  mean.input("x", {2, 4});
  OnnxBuilder::attr(mean.node("ReduceMean", {"x"}, {"y"}), "axes", std::vector<int64_t>{-1});
  mean.output("y");
  OnnxModel mm = mean.import();
  EXPECT_EQ(mm.graph.node(mm.graph.output_ids[0]).shape, (Shape{2, 1}));
  EXPECT_EQ(values(run(mm.graph, mm.payload, {iota(Shape{2, 4})})[0]),
            (std::vector<double>{1.5, 5.5}));
}

TEST(OnnxOps, ClipAttributesVsInputs) {
  OnnxBuilder a(10);
  a.input("x", {5});
  OnnxBuilder::attr_f(a.node("Clip", {"x"}, {"y"}), "min", 1.0f);
  a.output("y");
  OnnxModel ma = a.import();
  const auto& ca = std::get<ir::ClampAttrs>(ma.graph.node(1).attrs);
  EXPECT_TRUE(ca.has_lo && !ca.has_hi);
  EXPECT_EQ(ca.lo, 1.0);

  OnnxBuilder b(13);
  b.input("x", {5});
  b.floats("hi", {}, {2.5f});
  b.node("Clip", {"x", "", "hi"}, {"y"});
  b.output("y");
  OnnxModel mb = b.import();
  const auto& cb = std::get<ir::ClampAttrs>(mb.graph.node(1).attrs);
  EXPECT_TRUE(!cb.has_lo && cb.has_hi);
  EXPECT_EQ(values(run(mb.graph, mb.payload, {iota(Shape{5})})[0]),
            (std::vector<double>{0, 1, 2, 2.5, 2.5}));
  expect_round_trip(mb, {iota(Shape{5})});
}

TEST(OnnxOps, SliceAttributesVsInputsWithClampingAndNegativeSteps) {
  OnnxBuilder a(9);
  a.input("x", {3, 5});
  onnx::NodeProto* n = a.node("Slice", {"x"}, {"y"});
  OnnxBuilder::attr(n, "starts", std::vector<int64_t>{1, -100});
  OnnxBuilder::attr(n, "ends", std::vector<int64_t>{1000, -1});
  a.output("y");
  OnnxModel ma = a.import();
  const auto& sa = std::get<ir::SliceAttrs>(ma.graph.node(1).attrs);
  EXPECT_EQ(sa.starts, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(sa.ends, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(values(run(ma.graph, ma.payload, {iota(Shape{3, 5})})[0]),
            (std::vector<double>{5, 6, 7, 8, 10, 11, 12, 13}));

  OnnxBuilder b(13);
  b.input("x", {5});
  b.ints("s", {-1});
  b.ints("e", {std::numeric_limits<int64_t>::min()});
  b.ints("ax", {0});
  b.ints("st", {-2});
  b.node("Slice", {"x", "s", "e", "ax", "st"}, {"y"});
  b.output("y");
  OnnxModel mb = b.import();
  const auto& sb = std::get<ir::SliceAttrs>(mb.graph.node(1).attrs);
  EXPECT_EQ(sb.starts, (std::vector<int64_t>{4}));
  EXPECT_EQ(sb.ends, (std::vector<int64_t>{-1}));
  EXPECT_EQ(sb.steps, (std::vector<int64_t>{-2}));
  EXPECT_EQ(values(run(mb.graph, mb.payload, {iota(Shape{5})})[0]), (std::vector<double>{4, 2, 0}));
  expect_round_trip(mb, {iota(Shape{5})});
}

TEST(OnnxOps, ReshapeZeroMinusOneAndFoldedShapeChain) {
  OnnxBuilder b(13);
  b.input("x", {2, 3, 4});
  b.ints("shape", {0, -1});
  b.node("Reshape", {"x", "shape"}, {"y"});
  b.output("y");
  OnnxModel m = b.import();
  EXPECT_EQ(m.graph.node(1).shape, (Shape{2, 12}));

  // PyTorch's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
  OnnxBuilder c(13);
  c.input("x", {2, 3, 4});
  c.node("Shape", {"x"}, {"s"});
  c.ints("zero", {0}, /*scalar=*/true);
  OnnxBuilder::attr(c.node("Gather", {"s", "zero"}, {"n"}), "axis", int64_t{0});
  c.ints("ax", {0});
  c.node("Unsqueeze", {"n", "ax"}, {"n1"});
  c.ints("minus1", {-1});
  OnnxBuilder::attr(c.node("Concat", {"n1", "minus1"}, {"target"}), "axis", int64_t{0});
  c.node("Reshape", {"x", "target"}, {"y"});
  c.output("y");
  OnnxModel mc = c.import();
  ASSERT_EQ(kinds(mc.graph), (std::vector{OpKind::input, OpKind::reshape}));
  EXPECT_EQ(mc.graph.node(1).shape, (Shape{2, 12}));
  expect_round_trip(mc, {iota(Shape{2, 3, 4})});
}

TEST(OnnxOps, GemmBecomesLinearWithTransposedWeight) {
  OnnxBuilder b(9);
  b.input("x", {1, 3});
  b.floats("B", {3, 2}, {1, 2, 3, 4, 5, 6});  // (K, O): transB = 0
  b.floats("C", {2}, {10, 20});
  b.node("Gemm", {"x", "B", "C"}, {"y"});
  b.output("y");
  OnnxModel m = b.import();
  ASSERT_EQ(kinds(m.graph), (std::vector{OpKind::input, OpKind::linear}));
  EXPECT_EQ(m.payload.at(1).at("weight").vec(), (std::vector<double>{1, 3, 5, 2, 4, 6}));
  // x = (0, 1, 2): y = (0*1 + 1*3 + 2*5 + 10, 0*2 + 1*4 + 2*6 + 20).
  EXPECT_EQ(values(run(m.graph, m.payload, {iota(Shape{1, 3})})[0]), (std::vector<double>{23, 36}));
  expect_round_trip(m, {iota(Shape{1, 3})});

  OnnxBuilder g(13);  // alpha != 1 and a dynamic B: matmul, scaling, broadcast add
  g.input("a", {2, 3});
  g.input("b", {2, 3});
  g.floats("C", {1}, {1});
  OnnxBuilder::attr_f(g.node("Gemm", {"a", "b", "C"}, {"y"}), "alpha", 2.0f);
  OnnxBuilder::attr(g.g()->mutable_node(0), "transB", int64_t{1});
  g.output("y");
  OnnxModel mg = g.import();
  const auto y = run(mg.graph, mg.payload, {iota(Shape{2, 3}), iota(Shape{2, 3}, 1)});
  // a b^T with a = [[0,1,2],[3,4,5]], b = [[1,2,3],[4,5,6]]: [[8,17],[26,62]]; *2 + 1.
  EXPECT_EQ(values(y[0]), (std::vector<double>{17, 35, 53, 125}));
  expect_round_trip(mg, {iota(Shape{2, 3}), iota(Shape{2, 3}, 1)});
}

TEST(OnnxOps, BroadcastingBinaryOpsMatMulAndWhere) {
  OnnxBuilder b(13);
  b.input("x", {2, 3});
  b.floats("v", {3}, {10, 20, 30});
  b.node("Add", {"x", "v"}, {"s"});
  b.node("Less", {"s", "x"}, {"c"});  // always false
  b.node("Not", {"c"}, {"nc"});
  b.node("Where", {"nc", "s", "x"}, {"y"});
  b.output("y");
  OnnxModel m = b.import();
  EXPECT_EQ(m.graph.node(2).kind, OpKind::broadcast);
  EXPECT_EQ(std::get<ir::BroadcastAttrs>(m.graph.node(2).attrs).to_shape, (Shape{2, 3}));
  EXPECT_EQ(values(run(m.graph, m.payload, {iota(Shape{2, 3})})[0]),
            (std::vector<double>{10, 21, 32, 13, 24, 35}));

  OnnxBuilder mm(13);  // batch dims broadcast: (2,1,3,4) x (5,4,2) -> (2,5,3,2)
  mm.input("a", {2, 1, 3, 4});
  mm.input("b", {5, 4, 2});
  mm.node("MatMul", {"a", "b"}, {"y"});
  mm.output("y");
  OnnxModel mmm = mm.import();
  EXPECT_EQ(mmm.graph.node(mmm.graph.output_ids[0]).shape, (Shape{2, 5, 3, 2}));
  expect_round_trip(mmm, {iota(Shape{2, 1, 3, 4}), iota(Shape{5, 4, 2})});

  OnnxBuilder v(13);  // 1-D operands: (3) x (3,2) -> (2)
  v.input("a", {3});
  v.floats("w", {3, 2}, {1, 0, 0, 1, 1, 1});
  v.node("MatMul", {"a", "w"}, {"y"});
  v.output("y");
  OnnxModel mv = v.import();
  EXPECT_EQ(values(run(mv.graph, mv.payload, {iota(Shape{3})})[0]), (std::vector<double>{2, 3}));
  expect_round_trip(mv, {iota(Shape{3})});
}

TEST(OnnxOps, PadGatherSplitPowAndBatchNorm) {
  OnnxBuilder b(13);
  b.input("x", {2, 2});
  b.ints("pads", {0, 1, 1, 0});
  b.floats("nine", {}, {9});
  b.node("Pad", {"x", "pads", "nine"}, {"p"});  // (3,3)
  b.ints("idx", {-1, 0});
  OnnxBuilder::attr(b.node("Gather", {"p", "idx"}, {"g"}), "axis", int64_t{1});  // (3,2)
  b.ints("sizes", {1, 2});
  b.node("Split", {"g", "sizes"}, {"top", "rest"});
  b.floats("two", {}, {2});
  b.node("Pow", {"rest", "two"}, {"sq"});
  b.output("top");
  b.output("sq");
  OnnxModel m = b.import();
  const auto y = run(m.graph, m.payload, {iota(Shape{2, 2}, 1)});
  // p = [[9,1,2],[9,3,4],[9,9,9]]; g = columns 2, 0: [[2,9],[4,9],[9,9]].
  EXPECT_EQ(values(y[0]), (std::vector<double>{2, 9}));
  EXPECT_EQ(values(y[1]), (std::vector<double>{16, 81, 81, 81}));
  expect_round_trip(m, {iota(Shape{2, 2}, 1)});

  OnnxBuilder bn(9);  // rank-2 input viewed as (N,C,1,1)
  bn.input("x", {2, 2});
  bn.floats("s", {2}, {2, 4});
  bn.floats("b", {2}, {1, -1});
  bn.floats("mu", {2}, {1, 2});
  bn.floats("var", {2}, {4, 16});
  OnnxBuilder::attr_f(bn.node("BatchNormalization", {"x", "s", "b", "mu", "var"}, {"y"}), "epsilon",
                      0.0f);
  bn.output("y");
  OnnxModel mbn = bn.import();
  ASSERT_EQ(kinds(mbn.graph), (std::vector{OpKind::input, OpKind::reshape,
                                           OpKind::batch_norm2d_nchw_eval, OpKind::reshape}));
  // x = [[0,1],[2,3]]: (x - mu) / sqrt(var) * s + b.
  EXPECT_EQ(values(run(mbn.graph, mbn.payload, {iota(Shape{2, 2})})[0]),
            (std::vector<double>{0, -2, 2, 0}));
}

TEST(OnnxOps, ConvAutoPadSameUpper) {
  OnnxBuilder b(13);
  b.input("x", {1, 1, 5, 5});
  b.floats("w", {1, 1, 2, 2}, {1, 1, 1, 1});
  onnx::NodeProto* n = b.node("Conv", {"x", "w"}, {"y"});
  OnnxBuilder::attr_s(n, "auto_pad", "SAME_UPPER");
  OnnxBuilder::attr(n, "strides", std::vector<int64_t>{2, 2});
  b.output("y");
  OnnxModel m = b.import();
  // out = ceil(5/2) = 3; total padding (3-1)*2 + 2 - 5 = 1, at the end (UPPER).
  const auto& a = std::get<ir::Conv2dNchwAttrs>(m.graph.node(2).attrs);
  EXPECT_EQ(a.pad_top, 0);
  EXPECT_EQ(a.pad_bottom, 1);
  EXPECT_EQ(m.graph.node(2).shape, (Shape{1, 1, 3, 3}));
  expect_round_trip(m, {iota(Shape{1, 1, 5, 5})});
}

// v1 graphs (single-image CHW ops, flatten, rank-1 linear) export through ONNX views and come back
// as the extension ops with bit-identical outputs.
TEST(OnnxOps, V1GraphExportsWithSameOutputs) {
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{2, 6, 6});
  int64_t c = b.add(OpKind::conv2d, {x}, ir::Conv2dAttrs{2, 3, 3, 3, 1, 1});
  Tensor<double> w(Shape{3, 2, 3, 3}), bias(Shape{3});
  for (int64_t i = 0; i < w.numel(); ++i)
    w[i] = std::ldexp(static_cast<double>((i * 37) % 19) - 9.0, -3);
  for (int64_t i = 0; i < 3; ++i) bias[i] = 0.25 * static_cast<double>(i) - 0.5;
  b.set_payload(c, "weight", w);
  b.set_payload(c, "bias", bias);
  c = b.add(OpKind::relu, {c});
  c = b.add(OpKind::max_pool2d_pad, {c}, ir::Pool2dPadAttrs{2, 2, 2, 1});
  c = b.add(OpKind::avg_pool2d, {c}, ir::Pool2dAttrs{2, 2, 1});
  c = b.add(OpKind::flatten, {c}, ir::FlattenAttrs{b.shape(c)});
  const int64_t l = b.add(OpKind::linear, {c}, ir::NoAttrs{}, Shape{4});
  Tensor<double> lw(Shape{4, b.shape(c)[0]}), lb(Shape{4}, 0.125);
  for (int64_t i = 0; i < lw.numel(); ++i)
    lw[i] = std::ldexp(static_cast<double>((i * 11) % 7) - 3.0, -2);
  b.set_payload(l, "weight", lw);
  b.set_payload(l, "bias", lb);
  const int64_t s = b.add(OpKind::softmax, {l}, ir::AxisAttrs{0});
  const int64_t t = b.add(OpKind::broadcast_to, {s}, ir::BroadcastToAttrs{Shape{4}, Shape{3, 4}});
  b.mark_output(b.add(OpKind::swap_first_two, {t}));
  auto [g, p] = std::move(b).finish();
  OnnxModel back = import_onnx(export_onnx(g, p), {}, "v1");
  Tensor<double> in(Shape{2, 6, 6});
  for (int64_t i = 0; i < in.numel(); ++i)
    in[i] = std::ldexp(static_cast<double>((i * 13) % 29) - 14.0, -4);
  const auto a = run<F32>(g, p, {in}), r = run<F32>(back.graph, back.payload, {in});
  ASSERT_EQ(a[0].shape(), r[0].shape());
  for (int64_t i = 0; i < a[0].numel(); ++i)
    EXPECT_EQ(test::bits(a[0][i].v), test::bits(r[0][i].v)) << i;
}

}  // namespace
}  // namespace torchlean::io
