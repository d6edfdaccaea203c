// Direct tests of op semantics that single-op graphs cannot reach: Exact enclosures that make a
// decision impossible (log's sign, inv's divisor, bernoulli_mask's comparison; compare, where,
// gather indices and max-pool gradients among the extension ops), the input op's
// lack of semantics, and the nearest-scalar-to-a-decimal helper behind layernorm's eps.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/ops/op_util.hpp"
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::ops {
namespace {

// Runs eval_<op> on one parent tensor, as the evaluator would for node 4.
template <class S, class F>
Tensor<S> call(F eval, ir::OpKind kind, ir::Attrs attrs, const Tensor<S>& x, Shape out) {
  ir::Node node{4, {0}, kind, std::move(attrs), std::move(out)};
  const Tensor<S>* parents[] = {&x};
  const std::map<std::string, Tensor<S>> no_payload;
  EvalArgs<S> args{node, parents, no_payload};
  return eval(args);
}

Tensor<Exact> enclosure(int lo, int hi) {
  return Tensor<Exact>(Shape{}, std::vector<Exact>{Exact(mpq_class(lo), mpq_class(hi))});
}

template <class F>
void expect_eval_error(F f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no EvalError";
  } catch (const EvalError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(OpSemantics, LogOfAnEnclosureReachingZeroIsAnError) {
  expect_eval_error(
      [] {
        call<Exact>(eval_log<Exact>, ir::OpKind::log, ir::NoAttrs{}, enclosure(-1, 1), Shape{});
      },
      "may not be positive");
}

TEST(OpSemantics, InvOfAnEnclosureOfZeroIsAnError) {
  expect_eval_error(
      [] {
        call<Exact>(eval_inv<Exact>, ir::OpKind::inv, ir::NoAttrs{}, enclosure(-1, 1), Shape{});
      },
      "division by zero");
}

TEST(OpSemantics, BernoulliMaskCannotCompareAnOverlappingKeepProb) {
  // [0, 1] contains every draw, so no element's keep decision is determined.
  expect_eval_error(
      [] {
        call<Exact>(eval_bernoulli_mask<Exact>, ir::OpKind::bernoulli_mask, ir::SeedAttrs{3},
                    enclosure(0, 1), Shape{2});
      },
      "[bernoulli_mask] node 4");
}

TEST(OpSemantics, BernoulliMaskDecidesASeparatedEnclosure) {
  // keepProb in [2, 3] exceeds every draw in [0, 1): all kept.
  Tensor<Exact> m = call<Exact>(eval_bernoulli_mask<Exact>, ir::OpKind::bernoulli_mask,
                                ir::SeedAttrs{3}, enclosure(2, 3), Shape{3});
  for (int64_t i = 0; i < 3; ++i) EXPECT_TRUE(m[i] == Exact::from_int(1));
}

TEST(OpSemantics, InputIsBoundByTheEvaluator) {
  Tensor<F64> x(Shape{1}, F64::of(1.0));
  EXPECT_THROW(call<F64>(eval_input<F64>, ir::OpKind::input, ir::NoAttrs{}, x, Shape{1}),
               InternalError);
}

TEST(OpSemantics, FromDecimalRoundsToNearest) {
  // 1e-6 is not dyadic: binary32 and binary64 hold different roundings, Exact the rational itself.
  EXPECT_EQ(from_decimal<F32>(1, -6).bits(), F32::of(1e-6f).bits());
  EXPECT_EQ(from_decimal<F64>(1, -6).bits(), F64::of(1e-6).bits());
  EXPECT_TRUE(from_decimal<Exact>(1, -6) == Exact(mpq_class(1, 1000000)));
  EXPECT_EQ(from_decimal<F64>(-25, -1).bits(), F64::of(-2.5).bits());
  EXPECT_TRUE(from_decimal<Exact>(3, 2) == Exact::from_int(300));
  // 0.1 rounds up in binary32 (0x1.99999ap-4) and in binary64 (0x1.999999999999ap-4).
  EXPECT_EQ(from_decimal<F32>(1, -1).bits(), F32::of(0x1.99999ap-4f).bits());
  EXPECT_EQ(from_decimal<F64>(1, -1).bits(), F64::of(0x1.999999999999ap-4).bits());
}

// ---- extension ops: decisions on Exact enclosures ----

template <class S, class F>
Tensor<S> call2(F eval, ir::OpKind kind, ir::Attrs attrs, const Tensor<S>& a, const Tensor<S>& b,
                Shape out) {
  ir::Node node{4, {0, 1}, kind, std::move(attrs), std::move(out)};
  const Tensor<S>* parents[] = {&a, &b};
  const std::map<std::string, Tensor<S>> no_payload;
  EvalArgs<S> args{node, parents, no_payload};
  return eval(args);
}

Tensor<Exact> point(int v) {
  return Tensor<Exact>(Shape{}, std::vector<Exact>{Exact::from_int(v)});
}

TEST(OpSemantics, CompareOfOverlappingEnclosuresIsAnError) {
  expect_eval_error(
      [] {
        call2<Exact>(eval_compare<Exact>, ir::OpKind::compare, ir::CompareAttrs{"lt"},
                     enclosure(0, 2), point(1), Shape{});
      },
      "[compare] node 4: cannot decide");
  // Disjoint enclosures decide: [0, 1] < 2, and [0, 1] != 2.
  for (const char* c : {"lt", "ne"}) {
    Tensor<Exact> r = call2<Exact>(eval_compare<Exact>, ir::OpKind::compare, ir::CompareAttrs{c},
                                   enclosure(0, 1), point(2), Shape{});
    EXPECT_TRUE(r[0] == Exact::from_int(1)) << c;
  }
}

TEST(OpSemantics, WhereNeedsADecidedCondition) {
  Tensor<Exact> c = enclosure(-1, 1);
  const Tensor<Exact> a = point(5), b = point(6);
  ir::Node node{4, {0, 1, 2}, ir::OpKind::where, ir::NoAttrs{}, Shape{}};
  const Tensor<Exact>* parents[] = {&c, &a, &b};
  const std::map<std::string, Tensor<Exact>> no_payload;
  expect_eval_error(
      [&] {
        eval_where<Exact>(EvalArgs<Exact>{node, parents, no_payload});
      },
      "[where] node 4: condition at index 0");
  c = enclosure(1, 2);
  EXPECT_TRUE(eval_where<Exact>(EvalArgs<Exact>{node, parents, no_payload})[0] == a[0]);
}

TEST(OpSemantics, LeakyReluOfAStraddlingEnclosureIsTheHull) {
  // x in [-2, 4], alpha 1/2: the image is [-1, 4].
  Tensor<Exact> r = call<Exact>(eval_leaky_relu<Exact>, ir::OpKind::leaky_relu,
                                ir::LeakyReluAttrs{0.5}, enclosure(-2, 4), Shape{});
  EXPECT_TRUE(r[0] == Exact(mpq_class(-1), mpq_class(4)));
  // alpha -1 (|x|): [-2, 4] maps to [0, 4].
  r = call<Exact>(eval_leaky_relu<Exact>, ir::OpKind::leaky_relu, ir::LeakyReluAttrs{-1},
                  enclosure(-2, 4), Shape{});
  EXPECT_TRUE(r[0] == Exact(mpq_class(0), mpq_class(4)));
}

TEST(OpSemantics, GatherIndexMustBeAPoint) {
  const Tensor<Exact> data(
      Shape{3}, std::vector<Exact>{Exact::from_int(7), Exact::from_int(8), Exact::from_int(9)});
  expect_eval_error(
      [&] {
        call2<Exact>(eval_gather<Exact>, ir::OpKind::gather, ir::GatherAttrs{0}, data,
                     enclosure(1, 2), Shape{});
      },
      "[gather] node 4: index at index 0");
}

TEST(OpSemantics, MaxPoolGradNeedsAnOrderedWindow) {
  // Cells [0, 2] and 1 overlap: the first maximiser is undetermined.
  const Tensor<Exact> x(Shape{1, 1, 1, 2},
                        std::vector<Exact>{Exact(mpq_class(0), mpq_class(2)), Exact::from_int(1)});
  const Tensor<Exact> g(Shape{1, 1, 1, 1}, std::vector<Exact>{Exact::from_int(1)});
  expect_eval_error(
      [&] {
        call2<Exact>(eval_max_pool2d_nchw_grad<Exact>, ir::OpKind::max_pool2d_nchw_grad,
                     ir::PoolNchwAttrs{1, 2, 1, 1, 0, 0, 0, 0, false, false}, x, g,
                     Shape{1, 1, 1, 2});
      },
      "[max_pool2d_nchw_grad] node 4: cannot order");
}

}  // namespace
}  // namespace torchlean::ops
