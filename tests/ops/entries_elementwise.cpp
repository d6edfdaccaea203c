// Op database entries for the elementwise ops. Expected values follow from IEEE 754 and the spec
// in src/torchlean/ops/elementwise.cpp, derived by hand; elementary functions at ordinary points
// use MPFR's correctly rounded values.
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

}  // namespace torchlean::testing
