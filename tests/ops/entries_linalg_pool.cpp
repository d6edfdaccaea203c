// Op database entries for matmul, linear, conv2d and the four pools. Expected values are derived
// by hand from the spec in src/torchlean/ops/{linalg,conv_pool}.cpp; the order-sensitive samples
// use 2^53 (where binary64 addition of 1 ties to even) so a different fold order gives a
// different answer.
#include "op_database.hpp"

namespace torchlean::testing {

namespace {

using ir::OpKind;

constexpr double k2p53 = 0x1p53;

std::vector<double> iota(int n, double start = 1) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(start + i);
  return v;
}

GraphSpec pool(OpKind kind, Tensor<double> x, int64_t k_h, int64_t k_w, int64_t stride,
               int64_t padding, Shape out) {
  ir::Attrs attrs = ir::Pool2dAttrs{k_h, k_w, stride};
  if (kind == OpKind::max_pool2d_pad || kind == OpKind::avg_pool2d_pad)
    attrs = ir::Pool2dPadAttrs{k_h, k_w, stride, padding};
  return GraphSpec{kind, attrs, {std::move(x)}, std::move(out), {}};
}

GraphSpec matmul(Tensor<double> a, Tensor<double> b, Shape out) {
  return GraphSpec{OpKind::matmul, ir::NoAttrs{}, {std::move(a), std::move(b)}, std::move(out), {}};
}

GraphSpec linear(Tensor<double> x, Tensor<double> w, Tensor<double> b, Shape out) {
  return GraphSpec{OpKind::linear,
                   ir::NoAttrs{},
                   {std::move(x)},
                   std::move(out),
                   {{"weight", std::move(w)}, {"bias", std::move(b)}}};
}

GraphSpec conv(Tensor<double> x, Tensor<double> w, Tensor<double> b, int64_t stride,
               int64_t padding, Shape out) {
  const Shape& ws = w.shape();
  ir::Conv2dAttrs a{ws[1], ws[0], ws[2], ws[3], stride, padding};
  return GraphSpec{OpKind::conv2d,
                   a,
                   {std::move(x)},
                   std::move(out),
                   {{"weight", std::move(w)}, {"bias", std::move(b)}}};
}

ErrorSample window_too_big(OpKind kind) {
  std::string op(ir::op_name(kind));
  return error("window does not fit",
               pool(kind, tensor({1, 2, 2}, {1, 2, 3, 4}), 3, 3, 1, 0, Shape{1, 1, 1}),
               {"[" + op + "] node 1", "3x3", "(1,2,2)"});
}

ErrorSample not_chw(OpKind kind) {
  std::string op(ir::op_name(kind));
  return error("input is not CHW",
               pool(kind, tensor({2, 2}, {1, 2, 3, 4}), 1, 1, 1, 0, Shape{2, 2}),
               {"[" + op + "] node 1", "(2,2)"});
}

}  // namespace

OpEntry entry_max_pool2d() {
  Sample basic = sample(
      "2x2 stride 1", pool(OpKind::max_pool2d, tensor({1, 3, 3}, iota(9)), 2, 2, 1, 0, {1, 2, 2}));
  expect_all(basic, {5, 6, 8, 9});
  Sample floor =
      sample("stride 2 floors the output size",
             pool(OpKind::max_pool2d, tensor({1, 3, 3}, iota(9)), 2, 2, 2, 0, {1, 1, 1}));
  expect_all(floor, {5});
  // Per channel: +0 beats -0; NaN propagates; a window of -0s and negatives gives -0.
  Sample specials =
      sample("signed zeros and NaN",
             pool(OpKind::max_pool2d,
                  tensor({3, 2, 2}, {-0.0, 0.0, -1, -2, kNaN, 1, 2, 3, -0.0, -0.0, -kInf, -1}), 2,
                  2, 1, 0, {3, 1, 1}));
  expect_ieee(ieee_only(specials), {0.0, kNaN, -0.0});
  Sample empty =
      sample("no channels", pool(OpKind::max_pool2d, tensor({0, 3, 3}, {}), 2, 2, 1, 0, {0, 2, 2}));
  expect_all(empty, {});
  return OpEntry{OpKind::max_pool2d,
                 {basic, floor, specials, empty},
                 {window_too_big(OpKind::max_pool2d), not_chw(OpKind::max_pool2d)}};
}

OpEntry entry_max_pool2d_pad() {
  // Padding cells are ignored, not zeros: on an all-negative input every output is negative.
  Sample neg = sample(
      "padding is ignored",
      pool(OpKind::max_pool2d_pad, tensor({1, 2, 2}, {-1, -2, -3, -4}), 2, 2, 1, 1, {1, 3, 3}));
  expect_all(neg, {-1, -1, -2, -1, -1, -2, -3, -3, -4});
  // Windows that hold only padding produce +0 (TorchLean's best?.getD 0).
  Sample all_pad =
      sample("all-padding windows are +0",
             pool(OpKind::max_pool2d_pad, tensor({1, 1, 1}, {-5}), 1, 1, 1, 1, {1, 3, 3}));
  expect_all(all_pad, {0.0, 0.0, 0.0, 0.0, -5, 0.0, 0.0, 0.0, 0.0});
  Sample no_pad =
      sample("padding 0 is max_pool2d",
             pool(OpKind::max_pool2d_pad, tensor({1, 3, 3}, iota(9)), 2, 2, 1, 0, {1, 2, 2}));
  expect_all(no_pad, {5, 6, 8, 9});
  ErrorSample negative =
      error("negative padding",
            pool(OpKind::max_pool2d_pad, tensor({1, 2, 2}, {1, 2, 3, 4}), 1, 1, 1, -1, {1, 2, 2}),
            {"[max_pool2d_pad] node 1", "padding", "-1"});
  return OpEntry{OpKind::max_pool2d_pad,
                 {neg, all_pad, no_pad},
                 {window_too_big(OpKind::max_pool2d_pad), negative}};
}

OpEntry entry_avg_pool2d() {
  OpEntry e{
      OpKind::avg_pool2d, {}, {window_too_big(OpKind::avg_pool2d), not_chw(OpKind::avg_pool2d)}};
  e.cross = CrossDomain::rounded_once;
  Sample basic = sample(
      "2x2 stride 1", pool(OpKind::avg_pool2d, tensor({1, 3, 3}, iota(9)), 2, 2, 1, 0, {1, 2, 2}));
  e.samples.push_back(expect_all(basic, {3, 4, 6, 7}));
  // Window [[2^53, 1], [-2^53, 1]]: TorchLean sums each column first (2^53 - 2^53 = 0 and 1 + 1 =
  // 2) and then the column sums, giving 2/4; a row-major fold would lose a 1 to rounding (0.25).
  Sample order = sample(
      "column sums first",
      pool(OpKind::avg_pool2d, tensor({1, 2, 2}, {k2p53, 1, -k2p53, 1}), 2, 2, 1, 0, {1, 1, 1}));
  e.samples.push_back(expect_all(order, {0.5}));
  // Window [[2^53, 1], [0, 1]]: column sums 2^53 and 2 add exactly to 2^53 + 2 in binary64, where a
  // single fold (in either index order) would lose both 1s to ties-to-even. binary32 cannot hold
  // 2^53 + 2 and rounds it to 2^53.
  Sample columns =
      sample("column sums added last",
             pool(OpKind::avg_pool2d, tensor({1, 2, 2}, {k2p53, 1, 0, 1}), 2, 2, 1, 0, {1, 1, 1}));
  expect_f64(columns, {0x1p51 + 0.5});
  expect_f32(columns, {0x1p51});
  e.samples.push_back(expect_exact(columns, {qd(0x1p51 + 0.5)}));
  // The fold starts from +0, so the average of a single -0 is +0.
  Sample zero = sample("average of -0 is +0",
                       pool(OpKind::avg_pool2d, tensor({1, 1, 1}, {-0.0}), 1, 1, 1, 0, {1, 1, 1}));
  e.samples.push_back(expect_all(zero, {0.0}));
  Sample third = sample("one rounding: 1/3", pool(OpKind::avg_pool2d, tensor({1, 1, 3}, {1, 0, 0}),
                                                  1, 3, 1, 0, {1, 1, 1}));
  expect_f64(third, {0x1.5555555555555p-2});
  expect_f32(third, {0x1.555556p-2});
  e.samples.push_back(expect_exact(third, {q("1/3")}));
  Sample specials = sample(
      "infinities",
      pool(OpKind::avg_pool2d, tensor({2, 1, 2}, {kInf, 1, kInf, -kInf}), 1, 2, 1, 0, {2, 1, 1}));
  e.samples.push_back(expect_ieee(ieee_only(specials), {kInf, kNaN}));
  return e;
}

OpEntry entry_avg_pool2d_pad() {
  OpEntry e{OpKind::avg_pool2d_pad, {}, {window_too_big(OpKind::avg_pool2d_pad)}};
  e.cross = CrossDomain::rounded_once;
  // Padded cells count as zeros and the divisor is always kH*kW = 4 (count_include_pad).
  Sample pad = sample(
      "padding counts as zero",
      pool(OpKind::avg_pool2d_pad, tensor({1, 2, 2}, {4, 8, 12, 16}), 2, 2, 1, 1, {1, 3, 3}));
  e.samples.push_back(expect_all(pad, {1, 3, 2, 4, 10, 6, 3, 7, 4}));
  Sample no_pad =
      sample("padding 0 is avg_pool2d",
             pool(OpKind::avg_pool2d_pad, tensor({1, 3, 3}, iota(9)), 2, 2, 1, 0, {1, 2, 2}));
  e.samples.push_back(expect_all(no_pad, {3, 4, 6, 7}));
  return e;
}

OpEntry entry_matmul() {
  OpEntry e{OpKind::matmul, {}, {}};
  Sample basic = sample("2x2 by 2x2",
                        matmul(tensor({2, 2}, {1, 2, 3, 4}), tensor({2, 2}, {5, 6, 7, 8}), {2, 2}));
  e.samples.push_back(expect_all(basic, {19, 22, 43, 50}));
  // acc = fma(-1, 1, +0) = -1, then fma(1+2^-30, 1+2^-30, -1) keeps the 2^-60 that a separate
  // product would round away. In binary32 the inputs round to 1, so the result is fma(1, 1, -1) =
  // +0.
  Sample fma = sample("fused multiply-add", matmul(tensor({1, 2}, {-1, 1 + 0x1p-30}),
                                                   tensor({2, 1}, {1, 1 + 0x1p-30}), {1, 1}));
  expect_f64(fma, {0x1p-29 + 0x1p-60});
  expect_f32(fma, {0.0});
  e.samples.push_back(expect_exact(fma, {qd(0x1p-29 + 0x1p-60)}));
  Sample batched =
      sample("batched (2,1,2) x (2,2,1)",
             matmul(tensor({2, 1, 2}, {1, 2, 3, 4}), tensor({2, 2, 1}, {5, 6, 7, 8}), {2, 1, 1}));
  e.samples.push_back(expect_all(batched, {17, 53}));
  // The fold starts from +0: fma(-0, 5, +0) = +0.
  Sample zero = sample("-0 product plus the +0 start",
                       matmul(tensor({1, 1}, {-0.0}), tensor({1, 1}, {5}), {1, 1}));
  e.samples.push_back(expect_all(zero, {0.0}));
  Sample empty_inner =
      sample("empty inner dim", matmul(tensor({2, 0}, {}), tensor({0, 3}, {}), {2, 3}));
  e.samples.push_back(expect_all(empty_inner, {0, 0, 0, 0, 0, 0}));
  Sample empty_rows =
      sample("empty rows", matmul(tensor({0, 2}, {}), tensor({2, 3}, iota(6)), {0, 3}));
  e.samples.push_back(expect_all(empty_rows, {}));
  Sample nan =
      sample("inf * 0", matmul(tensor({1, 2}, {kInf, 1}), tensor({2, 1}, {0.0, 1}), {1, 1}));
  e.samples.push_back(expect_ieee(ieee_only(nan), {kNaN}));
  e.errors.push_back(error("inner dims differ",
                           matmul(tensor({2, 3}, iota(6)), tensor({2, 3}, iota(6)), {2, 3}),
                           {"[matmul] node 2", "(2,3)"}));
  e.errors.push_back(error("rank 1 operands", matmul(tensor({2}, {1, 2}), tensor({2}, {1, 2}), {}),
                           {"[matmul] node 2", "(2)"}));
  e.errors.push_back(
      error("batch dims differ",
            matmul(tensor({2, 1, 1}, {1, 2}), tensor({3, 1, 1}, {1, 2, 3}), {2, 1, 1}),
            {"[matmul] node 2", "(2,1,1)", "(3,1,1)"}));
  return e;
}

OpEntry entry_linear() {
  OpEntry e{OpKind::linear, {}, {}};
  Tensor<double> w = tensor({2, 3}, {1, 0, -1, 2, 1, 0});
  Tensor<double> b = tensor({2}, {0.5, -1});
  Sample vec = sample("vector input", linear(tensor({3}, {1, 2, 3}), w, b, {2}));
  e.samples.push_back(expect_all(vec, {-1.5, 3}));
  Sample rows = sample("rank 2 input", linear(tensor({2, 3}, {1, 2, 3, 0, 0, 1}), w, b, {2, 2}));
  e.samples.push_back(expect_all(rows, {-1.5, 3, -0.5, -1}));
  Sample rank3 =
      sample("rank 3 input", linear(tensor({2, 1, 2}, {1, 2, 3, 4}), tensor({1, 2}, {1, 1}),
                                    tensor({1}, {0.0}), {2, 1, 1}));
  e.samples.push_back(expect_all(rank3, {3, 7}));
  // No input features: every output is the bias (+0 + b).
  Sample empty = sample("no input features", linear(tensor({2, 0}, {}), tensor({3, 0}, {}),
                                                    tensor({3}, {1, 2, 3}), {2, 3}));
  e.samples.push_back(expect_all(empty, {1, 2, 3, 1, 2, 3}));
  Sample fma = sample("fused multiply-add then bias",
                      linear(tensor({2}, {-1, 1 + 0x1p-30}), tensor({1, 2}, {1, 1 + 0x1p-30}),
                             tensor({1}, {0.0}), {1}));
  expect_f64(fma, {0x1p-29 + 0x1p-60});
  expect_f32(fma, {0.0});
  e.samples.push_back(expect_exact(fma, {qd(0x1p-29 + 0x1p-60)}));
  GraphSpec missing = linear(tensor({3}, {1, 2, 3}), w, b, {2});
  missing.slots.clear();
  e.errors.push_back(error("missing payload", missing, {"[linear] node 1", "'weight'"}));
  e.errors.push_back(error("weight shape",
                           linear(tensor({3}, {1, 2, 3}), tensor({2, 4}, iota(8)), b, {2}),
                           {"[linear] node 1", "(2,4)", "(2,3)"}));
  return e;
}

OpEntry entry_conv2d() {
  OpEntry e{OpKind::conv2d, {}, {}};
  Sample basic =
      sample("2x2 kernel", conv(tensor({1, 3, 3}, iota(9)), tensor({1, 1, 2, 2}, {1, 0, 0, 1}),
                                tensor({1}, {0.5}), 1, 0, {1, 2, 2}));
  e.samples.push_back(expect_all(basic, {6.5, 8.5, 12.5, 14.5}));
  Sample padded = sample("padding 1", conv(tensor({1, 2, 2}, {1, 2, 3, 4}),
                                           tensor({1, 1, 3, 3}, std::vector<double>(9, 1.0)),
                                           tensor({1}, {0.0}), 1, 1, {1, 2, 2}));
  e.samples.push_back(expect_all(padded, {10, 10, 10, 10}));
  Sample channels =
      sample("two channels in and out",
             conv(tensor({2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40}),
                  tensor({2, 2, 1, 1}, {1, 1, 1, -1}), tensor({2}, {0.0, 0.0}), 1, 0, {2, 2, 2}));
  e.samples.push_back(expect_all(channels, {11, 22, 33, 44, -9, -18, -27, -36}));
  Sample strided = sample("stride 2", conv(tensor({1, 3, 3}, iota(9)), tensor({1, 1, 1, 1}, {2}),
                                           tensor({1}, {1}), 2, 0, {1, 2, 2}));
  e.samples.push_back(expect_all(strided, {3, 7, 15, 19}));
  // In-order folds over ic and over (kh, kw): 2^53 + 1 + 1 stays 2^53 (ties to even), where the
  // reverse order would give 2^53 + 2, the Exact value.
  Sample order_ic = sample("fold order over channels",
                           conv(tensor({3, 1, 1}, {k2p53, 1, 1}), tensor({1, 3, 1, 1}, {1, 1, 1}),
                                tensor({1}, {0.0}), 1, 0, {1, 1, 1}));
  expect_ieee(order_ic, {k2p53});
  e.samples.push_back(expect_exact(order_ic, {qd(k2p53 + 2)}));
  Sample order_k = sample("fold order over the kernel",
                          conv(tensor({1, 1, 3}, {k2p53, 1, 1}), tensor({1, 1, 1, 3}, {1, 1, 1}),
                               tensor({1}, {0.0}), 1, 0, {1, 1, 1}));
  expect_ieee(order_k, {k2p53});
  e.samples.push_back(expect_exact(order_k, {qd(k2p53 + 2)}));
  // A padding tap multiplies +0 by its weight (TorchLean's getAtOrZero), so an infinite weight on
  // a padding tap makes the output NaN.
  Sample inf_pad =
      sample("padding tap times inf weight",
             conv(tensor({1, 1, 1}, {1}), tensor({1, 1, 3, 3}, {kInf, 0, 0, 0, 1, 0, 0, 0, 0}),
                  tensor({1}, {0.0}), 1, 1, {1, 1, 1}));
  e.samples.push_back(expect_ieee(ieee_only(inf_pad), {kNaN}));
  GraphSpec bad_inc = conv(tensor({1, 3, 3}, iota(9)), tensor({1, 1, 2, 2}, {1, 0, 0, 1}),
                           tensor({1}, {0.5}), 1, 0, {1, 2, 2});
  std::get<ir::Conv2dAttrs>(bad_inc.attrs).inC = 2;
  e.errors.push_back(error("inC differs from the input", bad_inc, {"[conv2d] node 1", "(1,3,3)"}));
  e.errors.push_back(error("bias shape",
                           conv(tensor({1, 3, 3}, iota(9)), tensor({1, 1, 2, 2}, {1, 0, 0, 1}),
                                tensor({2}, {0.5, 1}), 1, 0, {1, 2, 2}),
                           {"[conv2d] node 1", "'bias'", "(2)", "(1)"}));
  return e;
}

}  // namespace torchlean::testing
