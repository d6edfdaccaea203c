// Gradients compared exactly with hand-derived values: TorchLean's 2-layer MLP over Q and its
// division vectors, the subgradient conventions at kinks (docs/autodiff.md), detach, unused wrt
// nodes, and the error messages of bad requests.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "grad_test_util.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::testing {
namespace {

using autodiff::grad;
using autodiff::GradGraph;
using ir::OpKind;

// Runs grad on lg (wrt its leaves) and returns the gradients in F64.
std::vector<Tensor<F64>> grads_f64(const LossGraph& lg, const std::vector<Tensor<double>>& in) {
  const GradGraph gg = grad(lg.graph, {lg.loss, lg.leaves});
  std::vector<Tensor<F64>> out =
      run_outputs<F64>(gg.graph, autodiff::merge_payload(lg.payload, gg), in);
  out.erase(out.begin(), out.begin() + static_cast<long>(lg.graph.output_ids.size()));
  return out;
}

std::vector<double> values(const Tensor<F64>& t) {
  std::vector<double> v;
  for (const F64& x : t.vec()) v.push_back(x.v);
  return v;
}

// TorchLean's example: y = W2 relu(W1 x + b1) + b2 with
//   W1 = [[1/10, 2/10], [3/10, 4/10], [5/10, 6/10]], b1 = [1/10, 2/10, 3/10],
//   W2 = [[7/10, 8/10, 9/10]], b2 = [4/10], x = [5/10, 8/10], dL/dy = [1].
// Hidden pre-activations: W1 x + b1 = [5/100+16/100+10/100, 15/100+32/100+20/100,
// 25/100+48/100+30/100] = [31/100, 67/100, 103/100], all > 0, so relu passes them and dh = W2^T.
//   dW2 = h^T = [[31/100, 67/100, 103/100]],   db2 = [1]
//   db1 = [7/10, 8/10, 9/10]
//   dW1 = db1 x^T = [[35/100, 56/100], [40/100, 64/100], [45/100, 72/100]]
//   dx  = W1^T db1 = [7/100+24/100+45/100, 14/100+32/100+54/100] = [76/100, 1]
TEST(GradVectors, TorchLeanMlpOverRationals) {
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{2});
  const int64_t l1 = b.add(OpKind::linear, {x}, ir::NoAttrs{}, Shape{3});
  b.set_payload(l1, "weight", td(Shape{3, 2}, {.1, .2, .3, .4, .5, .6}));
  b.set_payload(l1, "bias", td(Shape{3}, {.1, .2, .3}));
  const int64_t h = b.add(OpKind::relu, {l1});
  const int64_t l2 = b.add(OpKind::linear, {h}, ir::NoAttrs{}, Shape{1});
  b.set_payload(l2, "weight", td(Shape{1, 3}, {.7, .8, .9}));
  b.set_payload(l2, "bias", td(Shape{1}, {.4}));
  const int64_t upstream = b.constant(td(Shape{1}, {1}));
  b.add(OpKind::sum, {b.add(OpKind::mul_elem, {l2, upstream})});
  b.mark_output(b.graph().nodes.size() - 1);
  auto [g, p] = std::move(b).finish();

  std::vector<autodiff::LiftedParameter> params;
  auto [lifted, lp] = autodiff::lift_parameters(g, p, &params);
  ASSERT_EQ(params.size(), 5u);  // l1 weight, bias, l2 weight, bias, the upstream const
  std::vector<int64_t> wrt{lifted.input_ids[0]};
  for (size_t i = 0; i < 4; ++i) wrt.push_back(params[i].const_id);
  const GradGraph gg = grad(lifted, {lifted.output_ids[0], wrt});

  // Exact parameters: the decimals as rationals, not their binary64 roundings.
  ir::PayloadStore<Exact> ep = ir::convert_payload<Exact>(autodiff::merge_payload(lp, gg));
  const auto set = [&](int64_t id, std::vector<std::string> qs) {
    std::vector<Exact> v;
    for (const std::string& s : qs) v.push_back(rq(s));
    Tensor<Exact>& t = ep.at(id).at("value");
    t = Tensor<Exact>(t.shape(), std::move(v));
  };
  set(params[0].const_id, {"1/10", "2/10", "3/10", "4/10", "5/10", "6/10"});
  set(params[1].const_id, {"1/10", "2/10", "3/10"});
  set(params[2].const_id, {"7/10", "8/10", "9/10"});
  set(params[3].const_id, {"4/10"});
  std::vector<Tensor<Exact>> in{Tensor<Exact>(Shape{2}, {rq("5/10"), rq("8/10")})};
  const std::vector<Tensor<Exact>> out = interp::evaluate_outputs<Exact>(gg.graph, ep, in);
  ASSERT_EQ(out.size(), 6u);
  const auto expect = [](const Tensor<Exact>& t, std::vector<std::string> qs) {
    ASSERT_EQ(t.numel(), static_cast<int64_t>(qs.size()));
    for (size_t i = 0; i < qs.size(); ++i)
      EXPECT_EQ(t[static_cast<int64_t>(i)], rq(qs[i]))
          << "element " << i << ": " << to_string(t[static_cast<int64_t>(i)]);
  };
  // y = 7/10*31/100 + 8/10*67/100 + 9/10*103/100 + 4/10 = (217 + 536 + 927 + 400)/1000.
  expect(out[0], {"2080/1000"});
  expect(out[1], {"76/100", "1"});
  expect(out[2], {"35/100", "56/100", "40/100", "64/100", "45/100", "72/100"});
  expect(out[3], {"7/10", "8/10", "9/10"});
  expect(out[4], {"31/100", "67/100", "103/100"});
  expect(out[5], {"1"});
}

// d(a/b)/da = 1/b = [1/2, 1/4];  d(a/b)/db = -a/b^2 = [-6/4, -8/16] = [-3/2, -1/2].
TEST(GradVectors, DivisionOverRationals) {
  const LossGraph lg = weighted_op(OpKind::div, ir::NoAttrs{}, {Shape{2}, Shape{2}}, {1, 1});
  const GradGraph gg = grad(lg.graph, {lg.loss, lg.leaves});
  const auto out = run_outputs<Exact>(gg.graph, autodiff::merge_payload(lg.payload, gg),
                                      {td(Shape{2}, {6, 8}), td(Shape{2}, {2, 4})});
  EXPECT_EQ(out[1][0], rq("1/2"));
  EXPECT_EQ(out[1][1], rq("1/4"));
  EXPECT_EQ(out[2][0], rq("-3/2"));
  EXPECT_EQ(out[2][1], rq("-1/2"));
}

// d(1/x)/dx = -1/x^2: [-1/4, -1/16] at x = [2, -4], weighted by [3, 5]: [-3/4, -5/16].
TEST(GradVectors, InverseOverRationals) {
  const LossGraph lg = weighted_op(OpKind::inv, ir::NoAttrs{}, {Shape{2}}, {3, 5});
  const GradGraph gg = grad(lg.graph, {lg.loss, lg.leaves});
  const auto out = run_outputs<Exact>(gg.graph, autodiff::merge_payload(lg.payload, gg),
                                      {td(Shape{2}, {2, -4})});
  EXPECT_EQ(out[1][0], rq("-3/4"));
  EXPECT_EQ(out[1][1], rq("-5/16"));
}

// The transform is a function of its input: the same request gives the same graph.
TEST(GradVectors, Deterministic) {
  const LossGraph lg = weighted_op(OpKind::matmul, ir::NoAttrs{}, {Shape{2, 3}, Shape{3, 4}},
                                   std::vector<double>(8, 1));
  const GradGraph a = grad(lg.graph, {lg.loss, lg.leaves});
  const GradGraph b = grad(lg.graph, {lg.loss, lg.leaves});
  EXPECT_EQ(a.graph, b.graph);
  EXPECT_EQ(a.grad_ids, b.grad_ids);
  // The original nodes keep their ids and attributes; gradients follow the original outputs.
  for (size_t i = 0; i < lg.graph.nodes.size(); ++i) EXPECT_EQ(a.graph.nodes[i], lg.graph.nodes[i]);
  ASSERT_EQ(a.graph.output_ids.size(), 3u);
  EXPECT_EQ(a.graph.output_ids[0], lg.loss);
  EXPECT_EQ(a.graph.output_ids[1], a.grad_ids[0]);
  EXPECT_EQ(a.graph.output_ids[2], a.grad_ids[1]);
}

// Kinks: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = alpha, clamp passes at its bounds.
TEST(GradConventions, ElementwiseKinks) {
  const std::vector<double> x{-1, -0.0, 0, 2};
  const std::vector<double> ones(4, 1.0);
  EXPECT_EQ(values(grads_f64(weighted_op(OpKind::relu, ir::NoAttrs{}, {Shape{4}}, ones),
                             {td(Shape{4}, x)})[0]),
            (std::vector<double>{0, 0, 0, 1}));
  EXPECT_EQ(values(grads_f64(weighted_op(OpKind::abs, ir::NoAttrs{}, {Shape{4}}, ones),
                             {td(Shape{4}, x)})[0]),
            (std::vector<double>{-1, 0, 0, 1}));
  EXPECT_EQ(
      values(grads_f64(weighted_op(OpKind::leaky_relu, ir::LeakyReluAttrs{0.25}, {Shape{4}}, ones),
                       {td(Shape{4}, x)})[0]),
      (std::vector<double>{0.25, 0.25, 0.25, 1}));
  ir::ClampAttrs c{-1, 0, true, true};
  EXPECT_EQ(values(grads_f64(weighted_op(OpKind::clamp, c, {Shape{4}}, ones),
                             {td(Shape{4}, {-2, -1, 0, 2})})[0]),
            (std::vector<double>{0, 1, 1, 0}));
}

// max/min ties send the whole gradient to the first operand.
TEST(GradConventions, MaxMinTiesGoToFirstOperand) {
  const std::vector<Tensor<double>> in{td(Shape{3}, {1, 5, 2}), td(Shape{3}, {1, 3, 4})};
  for (OpKind k : {OpKind::max_elem, OpKind::min_elem}) {
    const auto g = grads_f64(weighted_op(k, ir::NoAttrs{}, {Shape{3}, Shape{3}}, {2, 3, 4}), in);
    const bool is_max = k == OpKind::max_elem;
    EXPECT_EQ(values(g[0]), (std::vector<double>{2, is_max ? 3.0 : 0.0, is_max ? 0.0 : 4.0}));
    EXPECT_EQ(values(g[1]), (std::vector<double>{0, is_max ? 0.0 : 3.0, is_max ? 4.0 : 0.0}));
  }
}

// sqrt'(0) is IEEE's 1/(2*0) = +inf; where v1's clamp is active (x < 0) the derivative is 0.
TEST(GradConventions, SqrtAtZeroAndBelow) {
  const auto g = grads_f64(weighted_op(OpKind::sqrt, ir::NoAttrs{}, {Shape{3}}, {1, 1, 1}),
                           {td(Shape{3}, {-4, 0, 4})});
  EXPECT_EQ(values(g[0]), (std::vector<double>{0, std::numeric_limits<double>::infinity(), 0.25}));
}

// A 2x2 window with a tie routes its gradient to the first maximiser in row-major order.
TEST(GradConventions, MaxPoolFirstMaximiser) {
  ir::PoolNchwAttrs a;
  a.kH = a.kW = 2;
  a.stride_h = a.stride_w = 2;
  const LossGraph lg = weighted_op(OpKind::max_pool2d_nchw, a, {Shape{1, 1, 2, 4}}, {3, 5});
  const auto g = grads_f64(lg, {td(Shape{1, 1, 2, 4}, {1, 7, 2, 2, 7, 0, 2, 1})});
  EXPECT_EQ(values(g[0]), (std::vector<double>{0, 3, 5, 0, 0, 0, 0, 0}));
}

// v1 avg pooling whose padding reaches the kernel: kernel 1, stride 1, padding 1 over a 1x2x2
// image gives a 1x4x4 output whose interior 2x2 block is x (divisor 1), so dL/dx is the interior
// block of the weights.
TEST(GradConventions, AvgPoolPaddingBeyondKernel) {
  std::vector<double> w(16);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i);
  const LossGraph lg =
      weighted_op(OpKind::avg_pool2d_pad, ir::Pool2dPadAttrs{1, 1, 1, 1}, {Shape{1, 2, 2}}, w);
  EXPECT_EQ(values(grads_f64(lg, {td(Shape{1, 2, 2}, {1, 2, 3, 4})})[0]),
            (std::vector<double>{5, 6, 9, 10}));
}

// detach cuts the path; an unused wrt node gets zeros; the loss itself gets 1.
TEST(GradConventions, DetachUnusedAndSelf) {
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{2});
  const int64_t unused = b.input(Shape{3});
  const int64_t sq = b.add(OpKind::mul_elem, {x, b.add(OpKind::detach, {x})});
  const int64_t loss = b.add(OpKind::sum, {sq});
  b.mark_output(loss);
  auto [g, p] = std::move(b).finish();
  const GradGraph gg = grad(g, {loss, {x, unused, x}});
  ASSERT_EQ(gg.graph.output_ids.size(), 4u);
  ir::check_graph(gg.graph);
  const auto out = run_outputs<F64>(gg.graph, autodiff::merge_payload(p, gg),
                                    {td(Shape{2}, {3, -5}), td(Shape{3}, {1, 2, 3})});
  EXPECT_EQ(values(out[1]), (std::vector<double>{3, -5}));  // d(x * const x)/dx = x
  EXPECT_EQ(values(out[2]), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(values(out[3]), (std::vector<double>{3, -5}));
  ir::GraphBuilder b2;
  const int64_t s = b2.input(Shape{});
  b2.mark_output(s);
  auto [g2, p2] = std::move(b2).finish();
  const GradGraph self = grad(g2, {s, {s}});
  const auto one =
      run_outputs<Exact>(self.graph, autodiff::merge_payload(p2, self), {td(Shape{}, {7})});
  EXPECT_EQ(one[1][0], rq("1"));
}

void expect_error(const ir::Graph& g, const autodiff::GradRequest& req, const std::string& part) {
  try {
    grad(g, req);
    ADD_FAILURE() << "expected a UserError containing: " << part;
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(GradErrors, BadRequests) {
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{2});
  const int64_t y = b.add(OpKind::linear, {x}, ir::NoAttrs{}, Shape{2});
  b.set_payload(y, "weight", td(Shape{2, 2}, {1, 0, 0, 1}));
  b.set_payload(y, "bias", td(Shape{2}, {0, 0}));
  const int64_t r = b.add(OpKind::relu, {x});
  const int64_t loss = b.add(OpKind::sum, {y});
  b.mark_output(loss);
  auto [g, p] = std::move(b).finish();
  expect_error(g, {r, {x}},
               "[autodiff] loss node 2 (relu) must be a scalar (shape ()), has shape (2)");
  expect_error(g, {99, {x}}, "[autodiff] loss node 99 does not exist");
  expect_error(g, {loss, {r}}, "[autodiff] wrt node 2 (relu) is not an input or const node");
  expect_error(g, {loss, {-1}}, "[autodiff] wrt node -1 does not exist");
  expect_error(g, {loss, {x}},
               "[autodiff] node 1 (linear): operand 0 (linear keeps its weights in the payload): "
               "call autodiff::lift_parameters before grad");
}

TEST(GradErrors, IndexOperandsAreNotDifferentiable) {
  const LossGraph lg =
      weighted_op(OpKind::gather, ir::GatherAttrs{0}, {Shape{3}, Shape{2}}, {1, 1});
  expect_error(lg.graph, {lg.loss, {lg.leaves[1]}},
               "[autodiff] node 2 (gather): operand 1 (indices) is not differentiable");
  // Only the data operand requested: fine.
  const auto g = grads_f64(LossGraph{lg.graph, lg.payload, lg.loss, {lg.leaves[0]}},
                           {td(Shape{3}, {5, 6, 7}), td(Shape{2}, {2, 2})});
  EXPECT_EQ(values(g[0]), (std::vector<double>{0, 0, 2}));
}

TEST(LiftErrors, NegativeBatchNormEps) {
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{1, 1, 1, 1});
  const int64_t y = b.add(OpKind::batch_norm2d_nchw_eval, {x}, ir::BatchNormAttrs{1});
  for (const char* s : {"gamma", "beta", "mean", "var"}) b.set_payload(y, s, td(Shape{1}, {1}));
  b.set_payload(y, "eps", td(Shape{}, {-2}));
  b.mark_output(y);
  auto [g, p] = std::move(b).finish();
  try {
    autodiff::lift_parameters(g, p);
    ADD_FAILURE() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("[batch_norm2d_nchw_eval] node 1: eps -2"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace torchlean::testing
