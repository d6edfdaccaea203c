// Direct tests of op semantics that single-op graphs cannot reach: Exact enclosures that make a
// decision impossible (log's sign, inv's divisor, bernoulli_mask's comparison), the input op's
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

}  // namespace
}  // namespace torchlean::ops
