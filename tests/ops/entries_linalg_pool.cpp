// Op database entries for matmul, linear, conv2d and the four pools, and the NCHW extension ops
// (conv2d_nchw, the two pools and the four gradient ops). Expected values are derived by hand from
// the spec in src/torchlean/ops/{linalg,conv_pool,conv_pool_nchw}.cpp; the order-sensitive samples
// use 2^53 (where binary64 addition of 1 ties to even) so a different fold order gives a
// different answer.
#include <optional>

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
  // Extension forms. Rank 4, batch (2,1): [1 2] x [5 6]^T = 17 and [3 4] x [7 8]^T = 53.
  Sample rank4 = sample(
      "rank 4 (2,1,1,2) x (2,1,2,1)",
      matmul(tensor({2, 1, 1, 2}, {1, 2, 3, 4}), tensor({2, 1, 2, 1}, {5, 6, 7, 8}), {2, 1, 1, 1}));
  e.samples.push_back(expect_all(rank4, {17, 53}));
  // A 2-D right operand shared across the batch: rows [1 2], [3 4] times [5 6]^T = 17, 39.
  Sample shared = sample("(2,1,2) x shared (2,1)", matmul(tensor({2, 1, 2}, {1, 2, 3, 4}),
                                                          tensor({2, 1}, {5, 6}), {2, 1, 1}));
  e.samples.push_back(expect_all(shared, {17, 39}));
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

// ---- extension ops (src/torchlean/ops/conv_pool_nchw.cpp) ----

namespace {

ir::Conv2dNchwAttrs conv_attrs(int64_t stride_w = 1, int64_t pad_left = 0, int64_t pad_right = 0,
                               int64_t dilation_w = 1, int64_t groups = 1) {
  return ir::Conv2dNchwAttrs{1, stride_w, 0, pad_left, 0, pad_right, 1, dilation_w, groups};
}

GraphSpec conv_nchw(ir::Conv2dNchwAttrs a, Tensor<double> x, Tensor<double> w,
                    std::optional<Tensor<double>> b, Shape out) {
  GraphSpec spec{OpKind::conv2d_nchw, a, {std::move(x), std::move(w)}, std::move(out), {}};
  if (b) spec.inputs.push_back(std::move(*b));
  return spec;
}

ir::PoolNchwAttrs pool_attrs(int64_t k_h, int64_t k_w, int64_t stride_h, int64_t stride_w,
                             int64_t pad_left = 0, int64_t pad_right = 0, bool ceil = false,
                             bool include_pad = false) {
  return ir::PoolNchwAttrs{k_h,      k_w, stride_h,  stride_w, 0,
                           pad_left, 0,   pad_right, ceil,     include_pad};
}

GraphSpec pool_nchw(OpKind kind, ir::PoolNchwAttrs a, Tensor<double> x, Shape out) {
  return GraphSpec{kind, a, {std::move(x)}, std::move(out), {}};
}

}  // namespace

OpEntry entry_conv2d_nchw() {
  // x = [[1,2,3],[4,5,6],[7,8,9]], W = [[1,2],[3,4]]: y[i,j] = x[i,j] + 2x[i,j+1] + 3x[i+1,j] +
  // 4x[i+1,j+1] + 0.5 = 37.5, 47.5, 67.5, 77.5.
  Sample basic = sample("bias, stride 1", conv_nchw(conv_attrs(), tensor({1, 1, 3, 3}, iota(9)),
                                                    tensor({1, 1, 2, 2}, {1, 2, 3, 4}),
                                                    tensor({1}, {0.5}), {1, 1, 2, 2}));
  expect_all(basic, {37.5, 47.5, 67.5, 77.5});
  // groups = 2, O = 4: outputs 0,1 read channel 0 (= 10), outputs 2,3 read channel 1 (= 100).
  Sample groups =
      sample("groups", conv_nchw(conv_attrs(1, 0, 0, 1, 2), tensor({1, 2, 1, 1}, {10, 100}),
                                 tensor({4, 1, 1, 1}, {1, 2, 3, 4}), std::nullopt, {1, 4, 1, 1}));
  expect_all(groups, {10, 20, 300, 400});
  // Row [0 | 1 2 3 4 5] (pad_left 1), taps at w and w+2 (dilation 2), stride 2: out width
  // (6 - 3)/2 + 1 = 2; y0 = 0*1 + 2*10 = 20, y1 = 2*1 + 4*10 = 42.
  Sample dilated = sample("dilation, stride, asymmetric padding",
                          conv_nchw(conv_attrs(2, 1, 0, 2), tensor({1, 1, 1, 5}, iota(5)),
                                    tensor({1, 1, 1, 2}, {1, 10}), std::nullopt, {1, 1, 1, 2}));
  expect_all(dilated, {20, 42});
  Sample batch =
      sample("batch of 2", conv_nchw(conv_attrs(), tensor({2, 1, 1, 1}, {3, -4}),
                                     tensor({1, 1, 1, 1}, {2}), tensor({1}, {1}), {2, 1, 1, 1}));
  expect_all(batch, {7, -7});
  // fold over the taps from +0 with fma: (2^53 + 1) + 1 ties to even twice (binary64 and binary32
  // alike); the exact value is 2^53 + 2.
  Sample order =
      sample("fold order", conv_nchw(conv_attrs(), tensor({1, 1, 1, 3}, {k2p53, 1, 1}),
                                     tensor({1, 1, 1, 3}, {1, 1, 1}), std::nullopt, {1, 1, 1, 1}));
  expect_ieee(order, {k2p53});
  expect_exact(order, {q("9007199254740994")});
  // A padding tap is the value +0 times the weight: +0 * inf = NaN (as v1 conv2d).
  Sample pad_inf =
      sample("padding tap times inf",
             conv_nchw(conv_attrs(1, 1, 1), tensor({1, 1, 1, 1}, {1}),
                       tensor({1, 1, 1, 3}, {kInf, 1, 1}), std::nullopt, {1, 1, 1, 1}));
  expect_ieee(ieee_only(pad_inf), {kNaN});
  auto err = [](std::string name, ir::Conv2dNchwAttrs a, Shape x, Shape w,
                std::vector<std::string> parts) {
    Tensor<double> xt(x, 0.0), wt(w, 0.0);
    return error(std::move(name), conv_nchw(a, xt, wt, std::nullopt, Shape{1}), std::move(parts));
  };
  ErrorSample divisible =
      err("channels not divisible by groups", conv_attrs(1, 0, 0, 1, 2), {1, 3, 2, 2}, {2, 1, 1, 1},
          {"[conv2d_nchw] node 2", "not divisible by groups=2", "(1,3,2,2)"});
  ErrorSample channels =
      err("weight channels", conv_attrs(), {1, 3, 2, 2}, {2, 2, 1, 1},
          {"[conv2d_nchw] node 2", "weight expects 2 input channels", "(2,2,1,1)"});
  ErrorSample fits =
      err("kernel too large", conv_attrs(1, 0, 0, 4), {1, 1, 4, 4}, {1, 1, 1, 2},
          {"[conv2d_nchw] node 2", "kernel width extent 5 (dilation 4)", "padded input extent 4"});
  ErrorSample rank = err("input not NCHW", conv_attrs(), {1, 3, 3}, {1, 1, 1, 1},
                         {"[conv2d_nchw] node 2", "(N,C,H,W)", "(1,3,3)"});
  ErrorSample bias = error("bias shape",
                           conv_nchw(conv_attrs(), Tensor<double>(Shape{1, 1, 1, 1}, 0.0),
                                     Tensor<double>(Shape{2, 1, 1, 1}, 0.0),
                                     Tensor<double>(Shape{1}, 0.0), Shape{1, 2, 1, 1}),
                           {"[conv2d_nchw] node 3", "bias has shape (1), expected (2)"});
  ErrorSample stride = err("stride 0", ir::Conv2dNchwAttrs{0, 1, 0, 0, 0, 0, 1, 1, 1}, {1, 1, 1, 1},
                           {1, 1, 1, 1}, {"[conv2d_nchw] node 2", "stride_h must be > 0, got 0"});
  return OpEntry{OpKind::conv2d_nchw,
                 {basic, groups, dilated, batch, order, pad_inf},
                 {divisible, channels, fits, rank, bias, stride}};
}

OpEntry entry_max_pool2d_nchw() {
  Sample basic = sample("2x2 stride 1", pool_nchw(OpKind::max_pool2d_nchw, pool_attrs(2, 2, 1, 1),
                                                  tensor({1, 1, 3, 3}, iota(9)), {1, 1, 2, 2}));
  expect_all(basic, {5, 6, 8, 9});
  // Width 5, window 2, stride 2: floor mode 2 windows, ceil mode adds the partial window [4].
  Tensor<double> row = tensor({1, 1, 1, 5}, {1, 5, 2, 4, 3});
  Sample floor = sample(
      "floor mode", pool_nchw(OpKind::max_pool2d_nchw, pool_attrs(1, 2, 1, 2), row, {1, 1, 1, 2}));
  expect_all(floor, {5, 4});
  Sample ceil = sample(
      "ceil mode",
      pool_nchw(OpKind::max_pool2d_nchw, pool_attrs(1, 2, 1, 2, 0, 0, true), row, {1, 1, 1, 3}));
  expect_all(ceil, {5, 4, 3});
  // Width 3, pads 1/1, window 2, stride 2, ceil: ceil((5-2)/2)+1 = 3 windows, but the third would
  // start at 3, in the end padding, so it is dropped (PyTorch): windows [pad, 1] and [2, 3].
  Sample dropped = sample("ceil mode drops a window in the end padding",
                          pool_nchw(OpKind::max_pool2d_nchw, pool_attrs(1, 2, 1, 2, 1, 1, true),
                                    tensor({1, 1, 1, 3}, {1, 2, 3}), {1, 1, 1, 2}));
  expect_all(dropped, {1, 3});
  // Padding is -inf: a window of [pad, -5] is -5.
  Sample neg =
      sample("padding is ignored", pool_nchw(OpKind::max_pool2d_nchw, pool_attrs(1, 2, 1, 1, 1, 0),
                                             tensor({1, 1, 1, 2}, {-5, -3}), {1, 1, 1, 2}));
  expect_all(neg, {-5, -3});
  Sample specials = sample("signed zeros and NaN",
                           pool_nchw(OpKind::max_pool2d_nchw, pool_attrs(1, 2, 1, 2),
                                     tensor({1, 1, 2, 2}, {-0.0, 0.0, kNaN, 1}), {1, 1, 2, 1}));
  expect_ieee(ieee_only(specials), {0.0, kNaN});
  Sample planes =
      sample("N=2, C=2", pool_nchw(OpKind::max_pool2d_nchw, pool_attrs(1, 2, 1, 1),
                                   tensor({2, 2, 1, 2}, {1, 2, 4, 3, 5, 6, 8, 7}), {2, 2, 1, 1}));
  expect_all(planes, {2, 4, 6, 8});
  auto err = [](std::string name, ir::PoolNchwAttrs a, Shape x, std::vector<std::string> parts) {
    return error(std::move(name),
                 pool_nchw(OpKind::max_pool2d_nchw, a, Tensor<double>(x, 0.0), Shape{1}),
                 std::move(parts));
  };
  return OpEntry{
      OpKind::max_pool2d_nchw,
      {basic, floor, ceil, dropped, neg, specials, planes},
      {err("pad as large as the window", pool_attrs(1, 2, 1, 1, 2, 0), {1, 1, 1, 3},
           {"[max_pool2d_nchw] node 1", "must be < kW=2"}),
       err("window too large", pool_attrs(1, 4, 1, 1), {1, 1, 1, 3},
           {"[max_pool2d_nchw] node 1", "window width 4 does not fit", "(1,1,1,3)"}),
       err("not NCHW", pool_attrs(1, 1, 1, 1), {1, 3, 3}, {"[max_pool2d_nchw] node 1", "(1,3,3)"}),
       err("empty image", pool_attrs(1, 1, 1, 1), {1, 1, 0, 3},
           {"[max_pool2d_nchw] node 1", "height and width must be > 0"})}};
}

OpEntry entry_avg_pool2d_nchw() {
  Sample basic = sample("2x2", pool_nchw(OpKind::avg_pool2d_nchw, pool_attrs(2, 2, 1, 1),
                                         tensor({1, 1, 2, 2}, {1, 2, 3, 4}), {1, 1, 1, 1}));
  expect_all(basic, {2.5});
  // Row [pad | 2 4 | pad], window 2, stride 1: sums 2, 6, 4. count_include_pad divides by 2
  // everywhere; otherwise by the real cells 1, 2, 1.
  Tensor<double> row = tensor({1, 1, 1, 2}, {2, 4});
  Sample incl = sample("count_include_pad",
                       pool_nchw(OpKind::avg_pool2d_nchw, pool_attrs(1, 2, 1, 1, 1, 1, false, true),
                                 row, {1, 1, 1, 3}));
  expect_all(incl, {1, 3, 2});
  Sample excl = sample("exclude padding",
                       pool_nchw(OpKind::avg_pool2d_nchw,
                                 pool_attrs(1, 2, 1, 1, 1, 1, false, false), row, {1, 1, 1, 3}));
  expect_all(excl, {2, 3, 4});
  // Row [pad | 1 2 3 4 | pad], window 3, stride 2, ceil: windows start at -1, 1, 3. The last one
  // covers 4, the pad and a cell beyond the padded row: PyTorch's divisor counts the cells within
  // the padded row (2) with count_include_pad, the real cells (1) without. Sums 3, 9, 4.
  Tensor<double> row4 = tensor({1, 1, 1, 4}, {1, 2, 3, 4});
  Sample ceil_incl =
      sample("ceil mode, count_include_pad",
             pool_nchw(OpKind::avg_pool2d_nchw, pool_attrs(1, 3, 1, 2, 1, 1, true, true), row4,
                       {1, 1, 1, 3}));
  expect_all(ceil_incl, {1, 3, 2});
  Sample ceil_excl =
      sample("ceil mode, exclude padding",
             pool_nchw(OpKind::avg_pool2d_nchw, pool_attrs(1, 3, 1, 2, 1, 1, true, false), row4,
                       {1, 1, 1, 3}));
  expect_all(ceil_excl, {1.5, 3, 4});
  // v1 order: column sums first. x = [[2^53, 1], [1, 1]]: columns 2^53 + 1 = 2^53 (ties to even)
  // and 2, total 2^53 + 2, / 4 = 2^51 + 0.5 in binary64; binary32: 2^53 + 2 rounds to 2^53, / 4 =
  // 2^51. Row-major summation would give 2^53 / 4 = 2^51 in binary64. Exact: (2^53 + 3) / 4.
  Sample order =
      sample("column sums first", pool_nchw(OpKind::avg_pool2d_nchw, pool_attrs(2, 2, 1, 1),
                                            tensor({1, 1, 2, 2}, {k2p53, 1, 1, 1}), {1, 1, 1, 1}));
  expect_f64(order, {0x1.0000000000001p51});
  expect_f32(order, {0x1p51});
  expect_exact(order, {q("9007199254740995/4")});
  return OpEntry{OpKind::avg_pool2d_nchw,
                 {basic, incl, excl, ceil_incl, ceil_excl, order},
                 {error("stride 0",
                        pool_nchw(OpKind::avg_pool2d_nchw, pool_attrs(1, 1, 0, 1),
                                  Tensor<double>(Shape{1, 1, 1, 1}, 0.0), Shape{1}),
                        {"[avg_pool2d_nchw] node 1", "stride_h must be > 0, got 0"})},
                 CrossDomain::rounded_once};
}

OpEntry entry_max_pool2d_nchw_grad() {
  auto mg = [](ir::PoolNchwAttrs a, Tensor<double> x, Tensor<double> g) {
    Shape s = x.shape();
    return GraphSpec{OpKind::max_pool2d_nchw_grad, a, {std::move(x), std::move(g)}, s, {}};
  };
  // x = [[1, 3], [3, 2]]: the maximum 3 occurs at flat 1 and 2; the first (row-major) gets g.
  Sample tie = sample(
      "first maximiser",
      mg(pool_attrs(2, 2, 1, 1), tensor({1, 1, 2, 2}, {1, 3, 3, 2}), tensor({1, 1, 1, 1}, {5})));
  expect_all(tie, {0, 5, 0, 0});
  // Overlapping windows [1,3] and [3,2] both route to the 3: 2 + 0.5.
  Sample overlap = sample(
      "overlapping windows accumulate",
      mg(pool_attrs(1, 2, 1, 1), tensor({1, 1, 1, 3}, {1, 3, 2}), tensor({1, 1, 1, 2}, {2, 0.5})));
  expect_all(overlap, {0, 2.5, 0});
  // +0 is above -0, and NaN above everything (the first NaN wins).
  Sample specials = sample("signed zeros and NaN",
                           mg(pool_attrs(1, 2, 1, 2), tensor({1, 1, 2, 2}, {-0.0, 0.0, kNaN, kNaN}),
                              tensor({1, 1, 2, 1}, {7, 9})));
  expect_ieee(ieee_only(specials), {0, 7, 9, 0});
  // With left padding, window [pad, -5] routes to -5.
  Sample padded = sample("padding", mg(pool_attrs(1, 2, 1, 1, 1, 0), tensor({1, 1, 1, 2}, {-5, -3}),
                                       tensor({1, 1, 1, 2}, {1, 2})));
  expect_all(padded, {1, 2});
  ErrorSample shape = error(
      "gradient shape",
      mg(pool_attrs(1, 2, 1, 1), tensor({1, 1, 1, 3}, {1, 2, 3}), tensor({1, 1, 1, 3}, {1, 2, 3})),
      {"[max_pool2d_nchw_grad] node 2",
       "max_pool2d_nchw of the declared shape (1,1,1,3) is (1,1,1,2)", "(1,1,1,3)"});
  return OpEntry{OpKind::max_pool2d_nchw_grad, {tie, overlap, specials, padded}, {shape}};
}

OpEntry entry_avg_pool2d_nchw_grad() {
  auto ag = [](ir::PoolNchwAttrs a, Tensor<double> g, Shape x) {
    return GraphSpec{OpKind::avg_pool2d_nchw_grad, a, {std::move(g)}, std::move(x), {}};
  };
  Sample spread =
      sample("2x2", ag(pool_attrs(2, 2, 1, 1), tensor({1, 1, 1, 1}, {8}), {1, 1, 2, 2}));
  expect_all(spread, {2, 2, 2, 2});
  // Windows [pad, x0], [x0, x1], [x1, pad] with g = 1, 4, 8. Excluding padding the divisors are
  // 1, 2, 1: q = 1, 2, 8, dx0 = 1 + 2, dx1 = 2 + 8. Including it they are 2: q = 0.5, 2, 4.
  Sample excl = sample("exclude padding", ag(pool_attrs(1, 2, 1, 1, 1, 1, false, false),
                                             tensor({1, 1, 1, 3}, {1, 4, 8}), {1, 1, 1, 2}));
  expect_all(excl, {3, 10});
  Sample incl = sample("count_include_pad", ag(pool_attrs(1, 2, 1, 1, 1, 1, false, true),
                                               tensor({1, 1, 1, 3}, {1, 4, 8}), {1, 1, 1, 2}));
  expect_all(incl, {2.5, 6});
  // q = 1/3 is one rounding, added to +0.
  Sample third =
      sample("one rounding", ag(pool_attrs(1, 3, 1, 1), tensor({1, 1, 1, 1}, {1}), {1, 1, 1, 3}));
  expect_f64(third, {0x1.5555555555555p-2, 0x1.5555555555555p-2, 0x1.5555555555555p-2});
  expect_f32(third, {0x1.555556p-2, 0x1.555556p-2, 0x1.555556p-2});
  expect_exact(third, {q("1/3"), q("1/3"), q("1/3")});
  ErrorSample shape = error("declared shape does not pool to g",
                            ag(pool_attrs(1, 2, 1, 1), tensor({1, 1, 1, 1}, {1}), {1, 1, 1, 3}),
                            {"[avg_pool2d_nchw_grad] node 1", "(1,1,1,2)", "(1,1,1,1)"});
  return OpEntry{OpKind::avg_pool2d_nchw_grad,
                 {spread, excl, incl, third},
                 {shape},
                 CrossDomain::rounded_once};
}

OpEntry entry_conv2d_nchw_grad_input() {
  auto gi = [](ir::Conv2dNchwAttrs a, Tensor<double> g, Tensor<double> w, Shape x) {
    return GraphSpec{
        OpKind::conv2d_nchw_grad_input, a, {std::move(g), std::move(w)}, std::move(x), {}};
  };
  // g = [[1, 0], [0, 10]]: W = [[1,2],[3,4]] lands at (0,0) and, times 10, at (1,1).
  Sample basic =
      sample("transposed convolution", gi(conv_attrs(), tensor({1, 1, 2, 2}, {1, 0, 0, 10}),
                                          tensor({1, 1, 2, 2}, {1, 2, 3, 4}), {1, 1, 3, 3}));
  expect_all(basic, {1, 2, 0, 3, 14, 20, 0, 30, 40});
  // Stride 2, width 4, W = [1, 10]: y0 reads x0, x1; y1 reads x2, x3.
  Sample stride = sample("stride 2", gi(conv_attrs(2), tensor({1, 1, 1, 2}, {5, 7}),
                                        tensor({1, 1, 1, 2}, {1, 10}), {1, 1, 1, 4}));
  expect_all(stride, {5, 50, 7, 70});
  // Forward: y[w] = x[w-1] + 10 x[w+1] (pad 1/1, dilation 2), w = 0..2, g = 1, 2, 3:
  // dx0 = g1 = 2, dx1 = g2 + 10 g0 = 13, dx2 = 10 g1 = 20.
  Sample dilated =
      sample("dilation and padding", gi(conv_attrs(1, 1, 1, 2), tensor({1, 1, 1, 3}, {1, 2, 3}),
                                        tensor({1, 1, 1, 2}, {1, 10}), {1, 1, 1, 3}));
  expect_all(dilated, {2, 13, 20});
  Sample groups = sample("groups", gi(conv_attrs(1, 0, 0, 1, 2), tensor({1, 2, 1, 1}, {1, 1}),
                                      tensor({2, 1, 1, 1}, {2, 3}), {1, 2, 1, 1}));
  expect_all(groups, {2, 3});
  ErrorSample shape =
      error("declared shape does not convolve to g",
            gi(conv_attrs(), tensor({1, 1, 1, 1}, {1}), tensor({1, 1, 1, 2}, {1, 1}), {1, 1, 1, 3}),
            {"[conv2d_nchw_grad_input] node 2", "(1,1,1,2)", "(1,1,1,1)"});
  return OpEntry{OpKind::conv2d_nchw_grad_input, {basic, stride, dilated, groups}, {shape}};
}

OpEntry entry_conv2d_nchw_grad_weight() {
  auto gw = [](ir::Conv2dNchwAttrs a, Tensor<double> x, Tensor<double> g, Shape w) {
    return GraphSpec{
        OpKind::conv2d_nchw_grad_weight, a, {std::move(x), std::move(g)}, std::move(w), {}};
  };
  // x = [[1,2,3],[4,5,6],[7,8,9]], g = [[1,0],[0,1]]: dW[i,j] = x[i,j] + x[i+1,j+1].
  Sample basic = sample("correlation", gw(conv_attrs(), tensor({1, 1, 3, 3}, iota(9)),
                                          tensor({1, 1, 2, 2}, {1, 0, 0, 1}), {1, 1, 2, 2}));
  expect_all(basic, {6, 8, 12, 14});
  // Row [pad | 3 4]: y0 = 0 w0 + 3 w1, y1 = 3 w0 + 4 w1; g = 1, 2: dW = (0 + 6, 3 + 8).
  Sample padded = sample("padding", gw(conv_attrs(1, 1, 0), tensor({1, 1, 1, 2}, {3, 4}),
                                       tensor({1, 1, 1, 2}, {1, 2}), {1, 1, 1, 2}));
  expect_all(padded, {6, 11});
  // Padding taps are +0 values, as in the forward op: +0 * inf = NaN.
  Sample pad_inf =
      sample("padding tap times inf", gw(conv_attrs(1, 1, 0), tensor({1, 1, 1, 1}, {1}),
                                         tensor({1, 1, 1, 1}, {kInf}), {1, 1, 1, 2}));
  expect_ieee(ieee_only(pad_inf), {kNaN, kInf});
  Sample groups = sample("groups", gw(conv_attrs(1, 0, 0, 1, 2), tensor({1, 2, 1, 1}, {2, 3}),
                                      tensor({1, 2, 1, 1}, {5, 7}), {2, 1, 1, 1}));
  expect_all(groups, {10, 21});
  // Fold over (n, oh, ow) from +0: 2^53 + 1 + 1 ties to even twice; exact 2^53 + 2.
  Sample order = sample("fold order", gw(conv_attrs(), tensor({3, 1, 1, 1}, {k2p53, 1, 1}),
                                         tensor({3, 1, 1, 1}, {1, 1, 1}), {1, 1, 1, 1}));
  expect_ieee(order, {k2p53});
  expect_exact(order, {q("9007199254740994")});
  ErrorSample shape = error(
      "declared shape does not convolve to g",
      gw(conv_attrs(), tensor({1, 1, 1, 3}, {1, 2, 3}), tensor({1, 1, 1, 1}, {1}), {1, 1, 1, 2}),
      {"[conv2d_nchw_grad_weight] node 2", "(1,1,1,2)", "(1,1,1,1)"});
  return OpEntry{OpKind::conv2d_nchw_grad_weight, {basic, padded, pad_inf, groups, order}, {shape}};
}

}  // namespace torchlean::testing
