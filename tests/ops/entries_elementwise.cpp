// Op database entries for the elementwise ops, v1 and extension. Expected values follow from IEEE
// 754 and the spec in src/torchlean/ops/elementwise{,_ext}.cpp, derived by hand; elementary
// functions at ordinary points use MPFR's correctly rounded values, and composite extension ops
// (gelu, softplus, silu) the spec's step order with MPFR pieces.
#include <cmath>

#include "op_database.hpp"

namespace torchlean::testing {

namespace {

using ir::OpKind;

GraphSpec unary(OpKind kind, Tensor<double> x) {
  Shape s = x.shape();
  return GraphSpec{kind, ir::NoAttrs{}, {std::move(x)}, s, {}};
}

GraphSpec binary(OpKind kind, Tensor<double> a, Tensor<double> b) {
  Shape s = a.shape();
  return GraphSpec{kind, ir::NoAttrs{}, {std::move(a), std::move(b)}, s, {}};
}

// A declared output shape that disagrees with the inferred one; the checker names op, node and
// both shapes.
ErrorSample wrong_declared_shape(OpKind kind, int parents) {
  GraphSpec spec{kind, ir::NoAttrs{}, {}, Shape{3}, {}};
  for (int i = 0; i < parents; ++i) spec.inputs.push_back(tensor({2}, {1, 2}));
  std::string op(ir::op_name(kind));
  return error("declared shape differs from inferred", spec,
               {"[" + op + "] node " + std::to_string(parents), "(3)", "(2)"});
}

ErrorSample mismatched_operands(OpKind kind) {
  std::string op(ir::op_name(kind));
  return error("operand shapes differ", binary(kind, tensor({2}, {1, 2}), tensor({3}, {1, 2, 3})),
               {"[" + op + "] node 2", "(2)", "(3)"});
}

// Elementary function samples at ordinary points: F32/F64 are MPFR's correctly rounded values of
// f at the domain's input (binary32 inputs are chosen representable), Exact must enclose f(x).
Sample elementary_values(OpKind kind, Fn f, std::vector<double> xs) {
  Sample s = sample("ordinary values (MPFR oracle)",
                    unary(kind, tensor({static_cast<int64_t>(xs.size())}, xs)));
  std::vector<double> f64, f32;
  std::vector<ExactExpect> exact;
  for (double x : xs) {
    f64.push_back(mpfr_rounded(f, x, 53));
    f32.push_back(mpfr_rounded(f, static_cast<float>(x), 24));
    exact.push_back(mpfr_enclosed(f, x));
  }
  expect_f64(s, f64);
  expect_f32(s, f32);
  return expect_exact(s, exact);
}

// Special values of a unary op; the Exact domain cannot hold NaN or infinities.
Sample specials(OpKind kind, std::vector<double> xs, std::vector<double> want) {
  Sample s =
      sample("IEEE special values", unary(kind, tensor({static_cast<int64_t>(xs.size())}, xs)));
  ieee_only(s);
  return expect_ieee(s, want);
}

Sample empty_unary(OpKind kind) {
  Sample s = sample("empty tensor", unary(kind, tensor({0, 3}, {})));
  return expect_all(s, {});
}

OpEntry elementary_entry(OpKind kind, std::vector<Sample> samples,
                         InputRange range = InputRange::any) {
  OpEntry e{
      kind, std::move(samples), {wrong_declared_shape(kind, 1)}, CrossDomain::elementary, range,
      true};
  e.samples.push_back(empty_unary(kind));
  return e;
}

}  // namespace

OpEntry entry_detach() {
  Sample s =
      sample("identity on specials",
             unary(OpKind::detach, tensor({2, 3}, {1, -0.0, kInf, -kInf, kNaN, kMinSubF32})));
  expect_ieee(ieee_only(s), {1, -0.0, kInf, -kInf, kNaN, kMinSubF32});
  Sample e = sample("identity", unary(OpKind::detach, tensor({2}, {0.25, -3})));
  expect_all(e, {0.25, -3});
  Sample r0 = sample("rank 0", unary(OpKind::detach, scalar(7)));
  expect_all(r0, {7});
  return OpEntry{OpKind::detach,
                 {s, e, r0, empty_unary(OpKind::detach)},
                 {wrong_declared_shape(OpKind::detach, 1)}};
}

OpEntry entry_add() {
  // 3 + -3 is +0 under round-to-nearest; -0 + -0 = -0; -0 + +0 = +0; inf - inf is NaN.
  Sample s =
      sample("IEEE specials",
             binary(OpKind::add, tensor({8}, {1, -0.0, -0.0, kInf, kInf, kNaN, kMinSubF32, 3}),
                    tensor({8}, {2, -0.0, 0.0, -kInf, 1, 1, kMinSubF32, -3})));
  expect_ieee(ieee_only(s), {3, -0.0, 0.0, kNaN, kInf, kNaN, 2 * kMinSubF32, 0.0});
  // 0.1 + 0.2: binary64 rounds the exact sum of its inputs up to 0x1.3333333333334p-2; binary32
  // (inputs rounded to 0x1.99999ap-4 and 0x1.99999ap-3) gets exactly float(0.3) = 0x1.333334p-2;
  // Exact keeps the sum of the two binary64 inputs.
  Sample r =
      sample("rounding: 0.1 + 0.2", binary(OpKind::add, tensor({1}, {0.1}), tensor({1}, {0.2})));
  expect_f64(r, {0x1.3333333333334p-2});
  expect_f32(r, {0x1.333334p-2});
  expect_exact(r, {q("10808639105689191/36028797018963968")});
  Sample r0 = sample("rank 0", binary(OpKind::add, scalar(1.5), scalar(-0.25)));
  expect_all(r0, {1.25});
  Sample e = sample("empty", binary(OpKind::add, tensor({0, 2}, {}), tensor({0, 2}, {})));
  expect_all(e, {});
  return OpEntry{OpKind::add, {s, r, r0, e}, {mismatched_operands(OpKind::add)}};
}

OpEntry entry_sub() {
  Sample s = sample("IEEE specials", binary(OpKind::sub, tensor({6}, {3, -0.0, 0.0, kInf, 1, kNaN}),
                                            tensor({6}, {3, 0.0, 0.0, kInf, -0.0, 2})));
  expect_ieee(ieee_only(s), {0.0, -0.0, 0.0, kNaN, 1, kNaN});
  Sample v = sample(
      "values", binary(OpKind::sub, tensor({2, 2}, {1, 2, 3, 4}), tensor({2, 2}, {0.5, 4, -1, 4})));
  expect_all(v, {0.5, -2, 4, 0.0});
  return OpEntry{OpKind::sub, {s, v}, {mismatched_operands(OpKind::sub)}};
}

OpEntry entry_mul_elem() {
  // 2^-100 * 2^-100 = 2^-200 is a binary64 normal but underflows to +0 in binary32; 2^-75 * 2^-74
  // is binary32's smallest subnormal; 0 * inf is NaN; the sign of a zero product is the xor.
  Sample s =
      sample("IEEE specials",
             binary(OpKind::mul_elem, tensor({7}, {2, -0.0, 0.0, kInf, 0x1p-100, -3, 0x1p-75}),
                    tensor({7}, {3, 5, -1, 0.0, 0x1p-100, -0.5, 0x1p-74})));
  ieee_only(s);
  expect_f64(s, {6, -0.0, -0.0, kNaN, 0x1p-200, 1.5, 0x1p-149});
  expect_f32(s, {6, -0.0, -0.0, kNaN, 0.0, 1.5, 0x1p-149});
  Sample v = sample(
      "values", binary(OpKind::mul_elem, tensor({3}, {1.5, -2, 0.25}), tensor({3}, {4, 0.5, -8})));
  expect_all(v, {6, -1, -2});
  return OpEntry{OpKind::mul_elem, {s, v}, {mismatched_operands(OpKind::mul_elem)}};
}

OpEntry entry_abs() {
  Sample s = specials(OpKind::abs, {-2, -0.0, 0.0, -kInf, kNaN, -kMinSubF32},
                      {2, 0.0, 0.0, kInf, kNaN, kMinSubF32});
  Sample v = sample("values", unary(OpKind::abs, tensor({3}, {-0.75, 3, -0.0})));
  expect_all(v, {0.75, 3, 0.0});
  return OpEntry{
      OpKind::abs, {s, v, empty_unary(OpKind::abs)}, {wrong_declared_shape(OpKind::abs, 1)}};
}

OpEntry entry_sqrt() {
  // Negatives (and -0, -inf) clamp to +0 before the square root: sqrt(-0) is +0 here, not IEEE's
  // -0.
  Sample s = specials(OpKind::sqrt, {-4, -0.0, 0.0, kInf, -kInf, kNaN, -kMinSubF32},
                      {0.0, 0.0, 0.0, kInf, 0.0, kNaN, 0.0});
  Sample squares = sample("perfect squares", unary(OpKind::sqrt, tensor({3}, {4, 2.25, 0x1p-148})));
  expect_ieee(squares, {2, 1.5, 0x1p-74});
  expect_exact(squares, {qd(2), qd(1.5), qd(0x1p-74)});
  return elementary_entry(
      OpKind::sqrt,
      {s, squares, elementary_values(OpKind::sqrt, Fn::sqrt, {2, 3, 0.5, 1e-3, 1e30})});
}

OpEntry entry_inv() {
  // 1/3 rounds down in binary64 (0x1.5555555555555p-2) and up in binary32 (0x1.555556p-2).
  Sample s = specials(OpKind::inv, {2, -4, 0.0, -0.0, kInf, -kInf, kNaN},
                      {0.5, -0.25, kInf, -kInf, 0.0, -0.0, kNaN});
  Sample third = sample("one third", unary(OpKind::inv, tensor({2}, {3, -0.5})));
  expect_f64(third, {0x1.5555555555555p-2, -2});
  expect_f32(third, {0x1.555556p-2, -2});
  expect_exact(third, {q("1/3"), q("-2")});
  ErrorSample zero = error("Exact division by zero", unary(OpKind::inv, tensor({3}, {1, 2, 0.0})),
                           {"[inv] node 1", "index 2", "division by zero"}, kExact, true);
  OpEntry e{OpKind::inv,
            {s, third, empty_unary(OpKind::inv)},
            {zero, wrong_declared_shape(OpKind::inv, 1)}};
  e.cross = CrossDomain::rounded_once;
  e.range = InputRange::positive;
  return e;
}

OpEntry entry_max_elem() {
  // IEEE 754-2019 maximum: NaN wins, and +0 > -0 in either argument order.
  Sample s = sample("IEEE specials",
                    binary(OpKind::max_elem, tensor({7}, {1, -0.0, 0.0, kNaN, 2, -kInf, 3}),
                           tensor({7}, {2, 0.0, -0.0, 1, kNaN, -5, 3})));
  expect_ieee(ieee_only(s), {2, 0.0, 0.0, kNaN, kNaN, -5, 3});
  Sample v = sample(
      "values", binary(OpKind::max_elem, tensor({3}, {-1, 0.5, 7}), tensor({3}, {-2, 0.75, 7})));
  expect_all(v, {-1, 0.75, 7});
  return OpEntry{OpKind::max_elem, {s, v}, {mismatched_operands(OpKind::max_elem)}};
}

OpEntry entry_min_elem() {
  Sample s = sample("IEEE specials",
                    binary(OpKind::min_elem, tensor({7}, {1, -0.0, 0.0, kNaN, 2, -kInf, 3}),
                           tensor({7}, {2, 0.0, -0.0, 1, kNaN, -5, 3})));
  expect_ieee(ieee_only(s), {1, -0.0, -0.0, kNaN, kNaN, -kInf, 3});
  Sample v = sample(
      "values", binary(OpKind::min_elem, tensor({3}, {-1, 0.5, 7}), tensor({3}, {-2, 0.75, 7})));
  expect_all(v, {-2, 0.5, 7});
  return OpEntry{OpKind::min_elem, {s, v}, {mismatched_operands(OpKind::min_elem)}};
}

OpEntry entry_relu() {
  // relu(x) = maximum(x, +0): relu(-0) = +0, relu(NaN) = NaN.
  Sample s = specials(OpKind::relu, {-1, -0.0, 0.0, 2, -kInf, kInf, kNaN, -kMinSubF32},
                      {0.0, 0.0, 0.0, 2, 0.0, kInf, kNaN, 0.0});
  Sample v = sample("values", unary(OpKind::relu, tensor({2, 2}, {-3, 0.5, 4, -0.25})));
  expect_all(v, {0.0, 0.5, 4, 0.0});
  return OpEntry{
      OpKind::relu, {s, v, empty_unary(OpKind::relu)}, {wrong_declared_shape(OpKind::relu, 1)}};
}

OpEntry entry_tanh() {
  Sample s = specials(OpKind::tanh, {0.0, -0.0, kInf, -kInf, kNaN}, {0.0, -0.0, 1, -1, kNaN});
  return elementary_entry(
      OpKind::tanh, {s, elementary_values(OpKind::tanh, Fn::tanh, {0.5, -1, 3, 20, 0x1p-30})});
}

OpEntry entry_sigmoid() {
  Sample s = specials(OpKind::sigmoid, {0.0, -0.0, kInf, -kInf, kNaN}, {0.5, 0.5, 1, 0.0, kNaN});
  return elementary_entry(OpKind::sigmoid, {s, elementary_values(OpKind::sigmoid, Fn::sigmoid,
                                                                 {1, -1, 30, -30, -100})});
}

OpEntry entry_exp() {
  // exp(89) overflows binary32 (e^89 > 2^128) but not binary64; exp(-104) is below half of
  // binary32's smallest subnormal and rounds to +0; exp(-745.5) does the same in binary64.
  Sample s = specials(OpKind::exp, {0.0, -0.0, kInf, -kInf, kNaN}, {1, 1, kInf, 0.0, kNaN});
  return elementary_entry(
      OpKind::exp,
      {s, elementary_values(OpKind::exp, Fn::exp, {1, -1, 0.5, 89, -104, -103, 710, -745.5})});
}

OpEntry entry_log() {
  Sample s = specials(OpKind::log, {1, kInf, kNaN}, {0.0, kInf, kNaN});
  auto log_error = [](std::string name, double bad, unsigned domains, std::string text) {
    return error(std::move(name), unary(OpKind::log, tensor({3}, {1, 2, bad})),
                 {"[log] node 1", "argument at index 2 is " + text, "not positive"}, domains, true);
  };
  OpEntry e = elementary_entry(
      OpKind::log, {s, elementary_values(OpKind::log, Fn::log, {2, 0.5, 10, 0x1p-149, 1e30})},
      InputRange::positive);
  e.errors.push_back(log_error("log(-1)", -1, kAllDomains, "-1"));
  e.errors.push_back(log_error("log(+0)", 0.0, kAllDomains, "0"));
  e.errors.push_back(log_error("log(-0)", -0.0, kIeee, "-0"));
  e.errors.push_back(log_error("log(-0) in Exact, which has one zero", -0.0, kExact, "0"));
  e.errors.push_back(log_error("log(-inf)", -kInf, kIeee, "-inf"));
  return e;
}

OpEntry entry_sin() {
  Sample s = specials(OpKind::sin, {0.0, -0.0, kInf, -kInf, kNaN}, {0.0, -0.0, kNaN, kNaN, kNaN});
  return elementary_entry(
      OpKind::sin, {s, elementary_values(OpKind::sin, Fn::sin, {1, -2, 100, 1e22, 0x1p-30})});
}

OpEntry entry_cos() {
  Sample s = specials(OpKind::cos, {0.0, -0.0, kInf, -kInf, kNaN}, {1, 1, kNaN, kNaN, kNaN});
  return elementary_entry(
      OpKind::cos, {s, elementary_values(OpKind::cos, Fn::cos, {1, -2, 100, 1e22, 0x1p-30})});
}

// ---- extension ops (src/torchlean/ops/elementwise_ext.cpp) ----

namespace {

GraphSpec unary_with(OpKind kind, ir::Attrs attrs, Tensor<double> x) {
  Shape s = x.shape();
  return GraphSpec{kind, std::move(attrs), {std::move(x)}, s, {}};
}

// The spec's step-by-step formulas with IEEE arithmetic in T (float or double) and MPFR's correctly
// rounded elementary functions: independent evaluations of the documented order.
template <class T>
T rounded(Fn f, T x) {
  return static_cast<T>(mpfr_rounded(f, static_cast<double>(x), sizeof(T) == 4 ? 24 : 53));
}
template <class T>
T gelu_spec(T x) {
  const T c = rounded(Fn::sqrt, T(0.5));  // the domain's nearest 1/sqrt(2)
  return (x * T(0.5)) * (T(1) + rounded(Fn::erf, T(x * c)));
}
template <class T>
T softplus_spec(T x) {
  const T m = x > 0 ? x : T(0);
  return m + rounded(Fn::log, T(T(1) + rounded(Fn::exp, T(-std::fabs(x)))));
}
template <class T>
T silu_spec(T x) {
  return x * rounded(Fn::sigmoid, x);
}

// F32, F64 from the spec formula `f` at binary32-representable points; Exact must enclose the true
// value of `truth`.
template <class F32Fn, class F64Fn>
Sample composite_values(OpKind kind, Fn truth, std::vector<double> xs, F32Fn f32, F64Fn f64) {
  Sample s = sample("ordinary values (spec order, MPFR pieces)",
                    unary(kind, tensor({static_cast<int64_t>(xs.size())}, xs)));
  std::vector<double> v64, v32;
  std::vector<ExactExpect> exact;
  for (double x : xs) {
    v64.push_back(f64(x));
    v32.push_back(f32(static_cast<float>(x)));
    exact.push_back(mpfr_enclosed(truth, x));
  }
  expect_f64(s, v64);
  expect_f32(s, v32);
  return expect_exact(s, exact);
}

OpEntry composite_entry(OpKind kind, std::vector<Sample> samples) {
  OpEntry e{kind,
            std::move(samples),
            {wrong_declared_shape(kind, 1)},
            CrossDomain::composite,
            InputRange::any,
            true};
  e.samples.push_back(empty_unary(kind));
  return e;
}

}  // namespace

OpEntry entry_neg() {
  Sample s = specials(OpKind::neg, {1, -0.0, 0.0, kInf, -kInf, kNaN, kMinSubF32},
                      {-1, 0.0, -0.0, -kInf, kInf, kNaN, -kMinSubF32});
  Sample v = sample("values", unary(OpKind::neg, tensor({2, 2}, {2.5, -3, 0.125, 7})));
  expect_all(v, {-2.5, 3, -0.125, -7});
  return OpEntry{
      OpKind::neg, {s, v, empty_unary(OpKind::neg)}, {wrong_declared_shape(OpKind::neg, 1)}};
}

OpEntry entry_div() {
  // IEEE: 1/+0 = inf, 1/-0 = -inf, 0/0 and inf/inf are NaN.
  Sample s = sample("IEEE specials", binary(OpKind::div, tensor({6}, {1, 1, 0.0, kInf, kNaN, -6}),
                                            tensor({6}, {0.0, -0.0, 0.0, kInf, 2, 3})));
  expect_ieee(ieee_only(s), {kInf, -kInf, kNaN, kNaN, kNaN, -2});
  // One correctly rounded division: 49/49 = 1, whereas 49 * fl64(1/49) = 1 - 2^-53 in binary64.
  // 1/3 rounds down in binary64 and up in binary32 (see inv).
  Sample one =
      sample("one rounding", binary(OpKind::div, tensor({2}, {49, 1}), tensor({2}, {49, 3})));
  expect_f64(one, {1, 0x1.5555555555555p-2});
  expect_f32(one, {1, 0x1.555556p-2});
  expect_exact(one, {q("1"), q("1/3")});
  ErrorSample zero = error(
      "Exact division by zero", binary(OpKind::div, tensor({2}, {1, 2}), tensor({2}, {1, 0.0})),
      {"[div] node 2", "divisor at index 1", "division by zero"}, kExact, true);
  OpEntry e{OpKind::div, {s, one}, {zero, mismatched_operands(OpKind::div)}};
  e.cross = CrossDomain::rounded_once;
  e.range = InputRange::positive;
  return e;
}

OpEntry entry_pow_const() {
  auto pw = [](double p, Tensor<double> x) {
    return unary_with(OpKind::pow_const, ir::PowAttrs{p}, std::move(x));
  };
  // p = 2 is x*x; p = 0 is 1 even for NaN and inf; p = -2 is 1/(x*x): 1/9 rounds to
  // 0x1.c71c71c71c71cp-4 (binary64) and 0x1.c71c72p-4 (binary32).
  Sample sq = sample("p=2", pw(2, tensor({3}, {3, -1.5, 0.0})));
  expect_all(sq, {9, 2.25, 0.0});
  Sample zero = sample("p=0", pw(0, tensor({4}, {kNaN, kInf, -0.0, 5})));
  expect_ieee(ieee_only(zero), {1, 1, 1, 1});
  Sample neg = sample("p=-2", pw(-2, tensor({2}, {3, 0.5})));
  expect_f64(neg, {0x1.c71c71c71c71cp-4, 4});
  expect_f32(neg, {0x1.c71c72p-4, 4});
  expect_exact(neg, {q("1/9"), q("4")});
  // p = 3 is the left fold (x*x)*x, not a correctly rounded cube: for x = fl64(1.2) the fold gives
  // 0x1.ba5e353f7ced9p+0, the correctly rounded cube is 0x1.ba5e353f7ced8p+0 (Python Fractions).
  // binary32: (x*x)*x at x = fl32(1.2) is 0x1.ba5e38p+0. Exact: the cube of the binary64 input.
  Sample cube = sample("p=3 order", pw(3, tensor({1}, {1.2})));
  expect_f64(cube, {0x1.ba5e353f7ced9p+0});
  expect_f32(cube, {0x1.ba5e38p+0});
  {
    mpq_class x(1.2);
    expect_exact(cube, {ExactExpect{x * x * x, true}});
  }
  // p = 0.5 is sqrt (no clamp: sqrt(-1) is NaN in IEEE).
  Sample half = sample("p=0.5", pw(0.5, tensor({3}, {4, -1, -0.0})));
  expect_ieee(ieee_only(half), {2, kNaN, -0.0});
  // Other p: exp(p * log x), rounding each step. 4^1.5: log 4 rounds, times 1.5 rounds, exp
  // rounds; the pieces come from MPFR.
  Sample general = sample("p=1.5", pw(1.5, tensor({2}, {4, 0.25})));
  std::vector<double> g64, g32;
  for (double x : {4.0, 0.25}) {
    g64.push_back(mpfr_rounded(Fn::exp, 1.5 * mpfr_rounded(Fn::log, x, 53), 53));
    float l32 = static_cast<float>(mpfr_rounded(Fn::log, x, 24));
    g32.push_back(mpfr_rounded(Fn::exp, static_cast<float>(1.5f * l32), 24));
  }
  expect_f64(general, g64);
  expect_f32(general, g32);
  expect_exact(general, {ExactExpect{mpq_class(8), false}, ExactExpect{mpq_class(1, 8), false}});
  auto err = [&](std::string name, double p, double x, std::vector<std::string> parts,
                 unsigned domains, bool eval) {
    return error(std::move(name), pw(p, tensor({2}, {1, x})), std::move(parts), domains, eval);
  };
  OpEntry e{
      OpKind::pow_const,
      {sq, zero, neg, cube, half, general},
      {err("non-positive base, p=1.5", 1.5, -2, {"[pow_const] node 1", "index 1", "x > 0"},
           kAllDomains, true),
       err("zero base, p=1.5", 1.5, 0.0, {"[pow_const] node 1", "index 1"}, kAllDomains, true),
       err("Exact sqrt of a negative", 0.5, -4, {"[pow_const] node 1", "index 1", "x >= 0"}, kExact,
           true),
       err("Exact 0^-1", -1, 0.0, {"[pow_const] node 1", "index 1", "division by zero"}, kExact,
           true),
       err("integer exponent too large", 2000, 1, {"[pow_const] node 1", "|p| <= 1024"},
           kAllDomains, false),
       err("infinite exponent", kInf, 1, {"[pow_const] node 1", "finite"}, kAllDomains, false)}};
  e.cross = CrossDomain::composite;
  e.range = InputRange::positive;
  return e;
}

OpEntry entry_erf() {
  Sample s = specials(OpKind::erf, {0.0, -0.0, kInf, -kInf, kNaN}, {0.0, -0.0, 1, -1, kNaN});
  return elementary_entry(OpKind::erf,
                          {s, elementary_values(OpKind::erf, Fn::erf, {0.5, -1, 2, 6, 0x1p-30})});
}

OpEntry entry_gelu() {
  // (x*0.5)*(1+erf(x*c)): gelu(-0) = -0; gelu(-inf) = -inf * (1 + -1) = NaN (as PyTorch).
  Sample s = specials(OpKind::gelu, {0.0, -0.0, kInf, -kInf, kNaN}, {0.0, -0.0, kInf, kNaN, kNaN});
  return composite_entry(OpKind::gelu,
                         {s, composite_values(OpKind::gelu, Fn::gelu, {1, -1, 0.5, 3, -3, -6},
                                              gelu_spec<float>, gelu_spec<double>)});
}

OpEntry entry_leaky_relu() {
  auto lr = [](double alpha, Tensor<double> x) {
    return unary_with(OpKind::leaky_relu, ir::LeakyReluAttrs{alpha}, std::move(x));
  };
  // x >= 0 keeps x (so -0 stays -0); NaN propagates through alpha*x.
  Sample s = sample("IEEE specials", lr(0.25, tensor({5}, {-0.0, 0.0, kNaN, -kInf, kInf})));
  expect_ieee(ieee_only(s), {-0.0, 0.0, kNaN, -kInf, kInf});
  Sample v = sample("alpha 0.25", lr(0.25, tensor({4}, {3, -2, -0.5, 0.75})));
  expect_all(v, {3, -0.5, -0.125, 0.75});
  Sample neg = sample("negative alpha", lr(-0.5, tensor({2}, {-2, 2})));
  expect_all(neg, {1, 2});
  // alpha = 0.01 is rounded to each domain: -2 * fl64(0.01) = -0x1.47ae147ae147bp-6, -2 *
  // fl32(0.01) = -0x1.47ae14p-6; Exact multiplies by the binary64 value. Cross-domain skipped:
  // binary32's alpha differs from binary64's.
  Sample small = sample("alpha 0.01 rounded per domain", lr(0.01, tensor({1}, {-2})));
  expect_f64(small, {-0x1.47ae147ae147bp-6});
  expect_f32(small, {-0x1.47ae14p-6});
  expect_exact(small, {qd(-0x1.47ae147ae147bp-6)});
  small.skip_cross = true;
  ErrorSample nan_alpha = error("NaN alpha", lr(kNaN, tensor({1}, {1})),
                                {"[leaky_relu] node 1", "alpha must be finite"});
  return OpEntry{OpKind::leaky_relu, {s, v, neg, small}, {nan_alpha}};
}

OpEntry entry_softplus() {
  // maximum(x,0) + log(1 + exp(-|x|)): softplus(±0) = log 2, softplus(-inf) = +0, and no
  // threshold: softplus(30) = 30 + log(1 + e^-30) > 30 in binary64.
  const double ln2_64 = mpfr_rounded(Fn::log, 2, 53), ln2_32 = mpfr_rounded(Fn::log, 2, 24);
  Sample s =
      sample("IEEE specials", unary(OpKind::softplus, tensor({5}, {0.0, -0.0, kInf, -kInf, kNaN})));
  expect_f64(ieee_only(s), {ln2_64, ln2_64, kInf, 0.0, kNaN});
  expect_f32(s, {ln2_32, ln2_32, kInf, 0.0, kNaN});
  Sample v = composite_values(OpKind::softplus, Fn::softplus, {1, -1, 0.5, 30, -30, 5},
                              softplus_spec<float>, softplus_spec<double>);
  return composite_entry(OpKind::softplus, {s, v});
}

OpEntry entry_silu() {
  // x * sigmoid(x): silu(-0) = -0 * 0.5 = -0; silu(-inf) = -inf * 0 = NaN.
  Sample s = specials(OpKind::silu, {0.0, -0.0, kInf, -kInf, kNaN}, {0.0, -0.0, kInf, kNaN, kNaN});
  return composite_entry(OpKind::silu,
                         {s, composite_values(OpKind::silu, Fn::silu, {1, -1, 0.5, 3, -20},
                                              silu_spec<float>, silu_spec<double>)});
}

OpEntry entry_clamp() {
  auto cl = [](ir::ClampAttrs a, Tensor<double> x) {
    return unary_with(OpKind::clamp, a, std::move(x));
  };
  const ir::ClampAttrs both{-1.5, 2.25, true, true};
  Sample v = sample("both bounds", cl(both, tensor({5}, {-3, -1.5, 0.5, 2.25, 7})));
  expect_all(v, {-1.5, -1.5, 0.5, 2.25, 2.25});
  // NaN propagates; lo = +0 turns -0 into +0 (IEEE 754-2019 maximum).
  Sample s = sample("IEEE specials",
                    cl(ir::ClampAttrs{0.0, 1, true, true}, tensor({4}, {kNaN, -0.0, -kInf, kInf})));
  expect_ieee(ieee_only(s), {kNaN, 0.0, 0.0, 1});
  Sample lo =
      sample("lower bound only", cl(ir::ClampAttrs{0.5, 0, true, false}, tensor({2}, {0, 9})));
  expect_all(lo, {0.5, 9});
  Sample hi =
      sample("upper bound only", cl(ir::ClampAttrs{0, 0.5, false, true}, tensor({2}, {0, 9})));
  expect_all(hi, {0, 0.5});
  // lo > hi: minimum(maximum(x, 3), 1) = 1 everywhere (PyTorch's rule too).
  Sample crossed = sample("lo above hi", cl(ir::ClampAttrs{3, 1, true, true}, tensor({2}, {0, 9})));
  expect_all(crossed, {1, 1});
  // An infinite no-op bound is fine in Exact.
  Sample inf_noop = sample("infinite no-op bounds",
                           cl(ir::ClampAttrs{-kInf, kInf, true, true}, tensor({2}, {-4, 4})));
  expect_all(inf_noop, {-4, 4});
  ErrorSample nan_bound =
      error("NaN bound", cl(ir::ClampAttrs{kNaN, 1, true, true}, tensor({1}, {0})),
            {"[clamp] node 1", "NaN"});
  ErrorSample inf_exact = error(
      "Exact cannot clamp to -inf", cl(ir::ClampAttrs{0, -kInf, false, true}, tensor({1}, {0})),
      {"[clamp] node 1", "upper bound", "not a real number"}, kExact, true);
  return OpEntry{OpKind::clamp, {v, s, lo, hi, crossed, inf_noop}, {nan_bound, inf_exact}};
}

OpEntry entry_compare() {
  auto cmp = [](std::string c, Tensor<double> a, Tensor<double> b) {
    Shape s = a.shape();
    return GraphSpec{
        OpKind::compare, ir::CompareAttrs{std::move(c)}, {std::move(a), std::move(b)}, s, {}};
  };
  const std::vector<double> a{1, 2, 3, -0.0}, b{2, 2, 1, 0.0};
  std::vector<Sample> samples;
  // a = (1, 2, 3, -0), b = (2, 2, 1, +0); -0 == +0.
  const std::vector<std::pair<std::string, std::vector<double>>> want = {
      {"lt", {1, 0, 0, 0}}, {"le", {1, 1, 0, 1}}, {"gt", {0, 0, 1, 0}},
      {"ge", {0, 1, 1, 1}}, {"eq", {0, 1, 0, 1}}, {"ne", {1, 0, 1, 0}}};
  for (const auto& [c, w] : want) {
    Sample s = sample(c, cmp(c, tensor({4}, a), tensor({4}, b)));
    samples.push_back(expect_all(s, w));
  }
  // Every comparison with NaN is false except ne.
  for (const auto& [c, w] : std::vector<std::pair<std::string, double>>{
           {"lt", 0}, {"le", 0}, {"gt", 0}, {"ge", 0}, {"eq", 0}, {"ne", 1}}) {
    Sample s = sample(c + " with NaN", cmp(c, tensor({2}, {kNaN, 1}), tensor({2}, {1, kNaN})));
    samples.push_back(expect_ieee(ieee_only(s), {w, w}));
  }
  ErrorSample unknown = error("unknown comparison", cmp("lte", tensor({1}, {1}), tensor({1}, {1})),
                              {"[compare] node 2", "unknown comparison \"lte\""});
  ErrorSample shapes =
      error("operand shapes differ", cmp("lt", tensor({2}, {1, 2}), tensor({3}, {1, 2, 3})),
            {"[compare] node 2", "(2)", "(3)"});
  return OpEntry{OpKind::compare, samples, {unknown, shapes}};
}

OpEntry entry_where() {
  auto wh = [](Tensor<double> c, Tensor<double> a, Tensor<double> b) {
    Shape s = c.shape();
    return GraphSpec{
        OpKind::where, ir::NoAttrs{}, {std::move(c), std::move(a), std::move(b)}, s, {}};
  };
  // cond != 0: -0 and +0 select b, NaN and any other value select a.
  Sample s = sample("IEEE conditions",
                    wh(tensor({5}, {1, 0.0, -0.0, kNaN, -0.5}), tensor({5}, {10, 11, 12, 13, 14}),
                       tensor({5}, {20, 21, 22, 23, 24})));
  expect_ieee(ieee_only(s), {10, 21, 22, 13, 14});
  Sample v = sample("values", wh(tensor({2, 2}, {1, 0, 0, 2}), tensor({2, 2}, {1, 2, 3, 4}),
                                 tensor({2, 2}, {-1, -2, -3, -4})));
  expect_all(v, {1, -2, -3, 4});
  ErrorSample shapes =
      error("shapes differ", wh(tensor({2}, {1, 0}), tensor({2}, {1, 2}), tensor({3}, {1, 2, 3})),
            {"[where] node 3", "(2)", "(3)"});
  return OpEntry{OpKind::where, {s, v}, {shapes}};
}

}  // namespace torchlean::testing
