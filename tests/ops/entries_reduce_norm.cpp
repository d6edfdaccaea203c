// Op database entries for the reductions and normalisations, and log_softmax and cross_entropy.
// Expected values are derived by hand from the spec in
// src/torchlean/ops/{reduction,normalization,classification}.cpp. Where a value involves several
// roundings (softmax, layernorm) the expectation is computed here from the spec's formula in plain
// float/double arithmetic (FP contraction is off project-wide) with MPFR for exp, and the Exact
// expectation with 256-bit MPFR.
#include <mpfr.h>

#include <algorithm>
#include <cmath>

#include "op_database.hpp"

namespace torchlean::testing {

namespace {

using ir::OpKind;

constexpr double k2p53 = 0x1p53;

GraphSpec axis_op(OpKind kind, Tensor<double> x, int64_t axis, Shape out) {
  return GraphSpec{kind, ir::AxisAttrs{axis}, {std::move(x)}, std::move(out), {}};
}

GraphSpec batch_norm(Tensor<double> x, std::vector<double> gamma, std::vector<double> beta,
                     std::vector<double> mean, std::vector<double> var, double eps) {
  int64_t c = static_cast<int64_t>(gamma.size());
  Shape s = x.shape();
  return GraphSpec{OpKind::batch_norm2d_nchw_eval,
                   ir::BatchNormAttrs{c},
                   {std::move(x)},
                   s,
                   {{"gamma", tensor({c}, gamma)},
                    {"beta", tensor({c}, beta)},
                    {"mean", tensor({c}, mean)},
                    {"var", tensor({c}, var)},
                    {"eps", scalar(eps)}}};
}

// TorchLean's layernorm of one row in the arithmetic of T (float or double), with eps the nearest
// T to 1e-6 (the compiler's correctly rounded literal).
template <class F>
std::vector<double> layernorm_row(const std::vector<double>& row, F eps) {
  const F n = static_cast<F>(row.size());
  F sum = 0;
  for (double v : row) sum = sum + static_cast<F>(v);
  const F mean = sum / n;
  std::vector<F> c;
  F sum_c = 0, sum_sq = 0;
  for (double v : row) {
    c.push_back(static_cast<F>(v) - mean);
    sum_c = sum_c + c.back();
    sum_sq = sum_sq + c.back() * c.back();
  }
  const F mean_c = sum_c / n;
  F var = sum_sq / n - mean_c * mean_c;
  if (!(var > 0)) var = 0;  // maximum(var, +0) for the non-NaN values used here
  const F sd = std::sqrt(var + eps);
  std::vector<double> out;
  for (F ck : c) out.push_back(static_cast<double>((ck / sd) * F(1) + F(0)));
  return out;
}

// The real layernorm of a row (eps = 10^-6 exactly), each value to 256 bits.
std::vector<ExactExpect> layernorm_exact(const std::vector<double>& row) {
  mpq_class n(static_cast<long>(row.size())), mean(0);
  for (double v : row) mean += mpq_class(v);
  mean /= n;
  mpq_class var(0);
  for (double v : row) var += (mpq_class(v) - mean) * (mpq_class(v) - mean);
  var /= n;
  var += mpq_class(1, 1000000);
  mpfr_t sd, y;
  mpfr_init2(sd, 256);
  mpfr_init2(y, 256);
  mpfr_set_q(sd, var.get_mpq_t(), MPFR_RNDN);
  mpfr_sqrt(sd, sd, MPFR_RNDN);
  std::vector<ExactExpect> out;
  for (double v : row) {
    mpq_class c = mpq_class(v) - mean;
    mpfr_set_q(y, c.get_mpq_t(), MPFR_RNDN);
    mpfr_div(y, y, sd, MPFR_RNDN);
    mpq_class value;
    mpfr_get_q(value.get_mpq_t(), y);
    out.push_back(ExactExpect{value, false});
  }
  mpfr_clear(sd);
  mpfr_clear(y);
  return out;
}

Sample layernorm_sample(std::string name, std::vector<double> row) {
  Sample s = sample(std::move(name),
                    axis_op(OpKind::layernorm, tensor({static_cast<int64_t>(row.size())}, row), 0,
                            {static_cast<int64_t>(row.size())}));
  expect_f64(s, layernorm_row<double>(row, 1e-6));
  expect_f32(s, layernorm_row<float>(row, 1e-6f));
  return expect_exact(s, layernorm_exact(row));
}

}  // namespace

OpEntry entry_reduce_sum() {
  OpEntry e{OpKind::reduce_sum, {}, {}};
  Tensor<double> m = tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  Sample ax0 = sample("axis 0", axis_op(OpKind::reduce_sum, m, 0, {3}));
  e.samples.push_back(expect_all(ax0, {5, 7, 9}));
  Sample ax1 = sample("axis 1", axis_op(OpKind::reduce_sum, m, 1, {2}));
  e.samples.push_back(expect_all(ax1, {6, 15}));
  Sample mid =
      sample("middle axis of rank 3",
             axis_op(OpKind::reduce_sum, tensor({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), 1, {2, 2}));
  e.samples.push_back(expect_all(mid, {4, 6, 12, 14}));
  // ((0 + 2^53) + 1) + 1 = 2^53 in both formats (ties to even); Exact keeps 2^53 + 2.
  Sample order = sample("left fold in index order",
                        axis_op(OpKind::reduce_sum, tensor({3}, {k2p53, 1, 1}), 0, {}));
  expect_ieee(order, {k2p53});
  e.samples.push_back(expect_exact(order, {qd(k2p53 + 2)}));
  Sample zeros = sample("fold from +0: -0 + -0 sums to +0",
                        axis_op(OpKind::reduce_sum, tensor({2}, {-0.0, -0.0}), 0, {}));
  e.samples.push_back(expect_all(zeros, {0.0}));
  Sample empty_axis =
      sample("empty axis sums to +0", axis_op(OpKind::reduce_sum, tensor({2, 0}, {}), 1, {2}));
  e.samples.push_back(expect_all(empty_axis, {0.0, 0.0}));
  Sample specials =
      sample("infinities and NaN",
             axis_op(OpKind::reduce_sum, tensor({2, 2}, {kInf, 1, -kInf, kNaN}), 0, {2}));
  e.samples.push_back(expect_ieee(ieee_only(specials), {kNaN, kNaN}));
  e.errors.push_back(error("axis out of range", axis_op(OpKind::reduce_sum, m, 2, {2, 3}),
                           {"[reduce_sum] node 1", "axis 2", "(2,3)"}));
  return e;
}

OpEntry entry_reduce_mean() {
  OpEntry e{OpKind::reduce_mean, {}, {}};
  e.cross = CrossDomain::rounded_once;
  Tensor<double> m = tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  Sample ax1 = sample("axis 1", axis_op(OpKind::reduce_mean, m, 1, {2}));
  e.samples.push_back(expect_all(ax1, {2, 5}));
  Sample ax0 = sample("axis 0", axis_op(OpKind::reduce_mean, m, 0, {3}));
  e.samples.push_back(expect_all(ax0, {2.5, 3.5, 4.5}));
  Sample third =
      sample("one rounding: 1/3", axis_op(OpKind::reduce_mean, tensor({3}, {1, 0, 0}), 0, {}));
  expect_f64(third, {0x1.5555555555555p-2});
  expect_f32(third, {0x1.555556p-2});
  e.samples.push_back(expect_exact(third, {q("1/3")}));
  // Mean over an empty axis is 0/0: NaN in IEEE, an error in Exact (below).
  Sample empty_axis =
      sample("empty axis is 0/0", axis_op(OpKind::reduce_mean, tensor({2, 0}, {}), 1, {2}));
  empty_axis.skip_cross = true;
  e.samples.push_back(expect_ieee(ieee_only(empty_axis), {kNaN, kNaN}));
  Sample empty_out = sample("empty output divides nothing",
                            axis_op(OpKind::reduce_mean, tensor({0, 3}, {}), 1, {0}));
  e.samples.push_back(expect_all(empty_out, {}));
  e.errors.push_back(error("Exact mean over an empty axis",
                           axis_op(OpKind::reduce_mean, tensor({2, 0}, {}), 1, {2}),
                           {"[reduce_mean] node 1", "(2,0)", "division by zero"}, kExact, true));
  e.errors.push_back(error("axis out of range", axis_op(OpKind::reduce_mean, m, 5, {2, 3}),
                           {"[reduce_mean] node 1", "axis 5"}));
  return e;
}

OpEntry entry_sum() {
  OpEntry e{OpKind::sum, {}, {}};
  auto sum = [](Tensor<double> x) {
    return GraphSpec{OpKind::sum, ir::NoAttrs{}, {std::move(x)}, Shape{}, {}};
  };
  Sample basic = sample("all elements", sum(tensor({2, 2}, {1, 2, 3, 4})));
  e.samples.push_back(expect_all(basic, {10}));
  Sample order = sample("left fold in index order", sum(tensor({3}, {k2p53, 1, 1})));
  expect_ieee(order, {k2p53});
  e.samples.push_back(expect_exact(order, {qd(k2p53 + 2)}));
  Sample empty = sample("empty sum is +0", sum(tensor({0}, {})));
  e.samples.push_back(expect_all(empty, {0.0}));
  Sample neg_zero = sample("-0 sums to +0", sum(tensor({1}, {-0.0})));
  e.samples.push_back(expect_all(neg_zero, {0.0}));
  Sample rank0 = sample("rank 0 input", sum(scalar(5)));
  e.samples.push_back(expect_all(rank0, {5}));
  Sample specials = sample("NaN", sum(tensor({2}, {kInf, kNaN})));
  e.samples.push_back(expect_ieee(ieee_only(specials), {kNaN}));
  GraphSpec bad = sum(tensor({2}, {1, 2}));
  bad.out = Shape{1};
  e.errors.push_back(error("declared shape is not ()", bad, {"[sum] node 1", "(1)", "()"}));
  return e;
}

OpEntry entry_mse_loss() {
  OpEntry e{OpKind::mse_loss, {}, {}};
  e.cross = CrossDomain::rounded_once;
  auto mse = [](Tensor<double> y, Tensor<double> t) {
    return GraphSpec{OpKind::mse_loss, ir::NoAttrs{}, {std::move(y), std::move(t)}, Shape{}, {}};
  };
  // (0 + 4 + 4) / 3 = 8/3: binary64 rounds down, binary32 up.
  Sample basic = sample("8/3", mse(tensor({3}, {1, 2, 3}), tensor({3}, {1, 0, 5})));
  expect_f64(basic, {0x1.5555555555555p+1});
  expect_f32(basic, {0x1.555556p+1});
  e.samples.push_back(expect_exact(basic, {q("8/3")}));
  Sample equal =
      sample("equal tensors", mse(tensor({2, 2}, {1, 2, 3, 4}), tensor({2, 2}, {1, 2, 3, 4})));
  e.samples.push_back(expect_all(equal, {0.0}));
  Sample empty = sample("empty tensors divide by 1", mse(tensor({0}, {}), tensor({0}, {})));
  e.samples.push_back(expect_all(empty, {0.0}));
  Sample specials = sample("inf - inf", mse(tensor({2}, {kInf, 1}), tensor({2}, {kInf, 1})));
  e.samples.push_back(expect_ieee(ieee_only(specials), {kNaN}));
  e.errors.push_back(error("shapes differ", mse(tensor({2}, {1, 2}), tensor({3}, {1, 2, 3})),
                           {"[mse_loss] node 2", "(2)", "(3)"}));
  return e;
}

OpEntry entry_batch_norm2d_nchw_eval() {
  OpEntry e{OpKind::batch_norm2d_nchw_eval, {}, {}};
  e.cross = CrossDomain::composite;
  e.randomize_payload = false;
  // ((3 - 1) / sqrt(4 + 0)) * 2 + 1 = 3 and ((5 - 1) / 2) * 2 + 1 = 5.
  Sample basic =
      sample("one channel", batch_norm(tensor({1, 1, 1, 2}, {3, 5}), {2}, {1}, {1}, {4}, 0.0));
  expect_ieee(basic, {3, 5});
  e.samples.push_back(expect_exact(basic, {ExactExpect{3, false}, ExactExpect{5, false}}));
  // max(var, 0): var -4 with eps 1 gives sqrt(0 + 1) = 1, so y = (3 - 1) * 2 + 1 = 5.
  Sample clamp = sample("negative variance clamps to 0",
                        batch_norm(tensor({1, 1, 1, 1}, {3}), {2}, {1}, {1}, {-4}, 1.0));
  expect_ieee(clamp, {5});
  e.samples.push_back(expect_exact(clamp, {ExactExpect{5, false}}));
  // Channel c of sample n: c0: (x - 1) / 1, c1: (x - 2) / 2 + 10; NCHW order (n, c).
  Sample channels =
      sample("per-channel parameters",
             batch_norm(tensor({2, 2, 1, 1}, {1, 2, 3, 4}), {1, 1}, {0, 10}, {1, 2}, {1, 4}, 0.0));
  expect_ieee(channels, {0.0, 10, 2, 11});
  e.samples.push_back(expect_exact(channels, {ExactExpect{0, false}, ExactExpect{10, false},
                                              ExactExpect{2, false}, ExactExpect{11, false}}));
  // var = eps = 0: (3 - 1) / 0 * 2 + 1 = inf and (1 - 1) / 0 = NaN in IEEE; an error in Exact.
  Sample by_zero = sample("IEEE division by zero",
                          batch_norm(tensor({1, 1, 1, 2}, {3, 1}), {2}, {1}, {1}, {0}, 0.0));
  by_zero.skip_cross = true;
  e.samples.push_back(expect_ieee(ieee_only(by_zero), {kInf, kNaN}));
  e.errors.push_back(error(
      "Exact division by zero", batch_norm(tensor({1, 1, 1, 2}, {3, 1}), {2}, {1}, {1}, {0}, 0.0),
      {"[batch_norm2d_nchw_eval] node 1", "channel 0", "division by zero"}, kExact, true));
  GraphSpec bad_c = batch_norm(tensor({1, 1, 1, 2}, {3, 5}), {2, 2}, {1, 1}, {1, 1}, {4, 4}, 0.0);
  e.errors.push_back(
      error("channel count differs", bad_c, {"[batch_norm2d_nchw_eval] node 1", "(1,1,1,2)"}));
  GraphSpec no_eps = batch_norm(tensor({1, 1, 1, 2}, {3, 5}), {2}, {1}, {1}, {4}, 0.0);
  no_eps.slots.erase("eps");
  e.errors.push_back(error("missing eps", no_eps, {"[batch_norm2d_nchw_eval] node 1", "'eps'"}));
  return e;
}

OpEntry entry_softmax() {
  OpEntry e{OpKind::softmax, {}, {}};
  e.cross = CrossDomain::composite;
  // exp(0) / (1 + 1 + 1): one rounding of 1/3.
  Sample equal = sample("equal logits", axis_op(OpKind::softmax, tensor({3}, {1, 1, 1}), 0, {3}));
  expect_f64(equal, {0x1.5555555555555p-2, 0x1.5555555555555p-2, 0x1.5555555555555p-2});
  expect_f32(equal, {0x1.555556p-2, 0x1.555556p-2, 0x1.555556p-2});
  e.samples.push_back(
      expect_exact(equal, {ExactExpect{mpq_class(1, 3), false}, ExactExpect{mpq_class(1, 3), false},
                           ExactExpect{mpq_class(1, 3), false}}));
  Sample axis0 =
      sample("axis 0", axis_op(OpKind::softmax, tensor({2, 2}, {0, 5, 0, 5}), 0, {2, 2}));
  expect_ieee(axis0, {0.5, 0.5, 0.5, 0.5});
  e.samples.push_back(
      expect_exact(axis0, std::vector<ExactExpect>(4, ExactExpect{mpq_class(1, 2), false})));
  // The max is subtracted first, so large logits do not overflow.
  Sample shift =
      sample("large logits", axis_op(OpKind::softmax, tensor({2}, {1000, 1000}), 0, {2}));
  expect_ieee(shift, {0.5, 0.5});
  e.samples.push_back(
      expect_exact(shift, std::vector<ExactExpect>(2, ExactExpect{mpq_class(1, 2), false})));
  Sample single =
      sample("lines of length 1", axis_op(OpKind::softmax, tensor({2, 1}, {-3, 7}), 1, {2, 1}));
  expect_ieee(single, {1, 1});
  e.samples.push_back(
      expect_exact(single, std::vector<ExactExpect>(2, ExactExpect{mpq_class(1), false})));
  // [0, 1]: e = [exp(-1), 1], s = (0 + exp(-1)) + 1, y = e / s, each step rounded.
  Sample two = sample("[0, 1]", axis_op(OpKind::softmax, tensor({2}, {0, 1}), 0, {2}));
  const double e64 = mpfr_rounded(Fn::exp, -1, 53);
  const double s64 = (0.0 + e64) + 1.0;
  expect_f64(two, {e64 / s64, 1.0 / s64});
  const float e32 = static_cast<float>(mpfr_rounded(Fn::exp, -1, 24));
  const float s32 = (0.0f + e32) + 1.0f;
  expect_f32(two, {e32 / s32, 1.0f / s32});
  e.samples.push_back(two);
  Sample neg_inf = sample("-inf logit", axis_op(OpKind::softmax, tensor({2}, {-kInf, 0}), 0, {2}));
  e.samples.push_back(expect_ieee(ieee_only(neg_inf), {0.0, 1}));
  // m = inf makes inf - inf = NaN, and the NaN sum spreads to the whole line.
  Sample pos_inf = sample("+inf logit", axis_op(OpKind::softmax, tensor({2}, {kInf, 0}), 0, {2}));
  e.samples.push_back(expect_ieee(ieee_only(pos_inf), {kNaN, kNaN}));
  Sample nan = sample("NaN logit", axis_op(OpKind::softmax, tensor({2}, {kNaN, 1}), 0, {2}));
  e.samples.push_back(expect_ieee(ieee_only(nan), {kNaN, kNaN}));
  Sample empty = sample("empty", axis_op(OpKind::softmax, tensor({0, 3}, {}), 1, {0, 3}));
  e.samples.push_back(expect_all(empty, {}));
  e.errors.push_back(error("axis out of range",
                           axis_op(OpKind::softmax, tensor({3}, {1, 2, 3}), 1, {3}),
                           {"[softmax] node 1", "axis 1", "(3)"}));
  return e;
}

OpEntry entry_layernorm() {
  OpEntry e{OpKind::layernorm, {}, {}};
  e.cross = CrossDomain::composite;
  e.samples.push_back(layernorm_sample("[1, 2, 3, 4]", {1, 2, 3, 4}));
  e.samples.push_back(layernorm_sample("[0.5, -7, 3]", {0.5, -7, 3}));
  e.samples.push_back(layernorm_sample("single element", {42}));
  // Rows of (2,2) with axis 1 normalise [1, 3] and [1, 3]; axis 0 normalises all four values.
  std::vector<double> row = layernorm_row<double>({1, 3}, 1e-6);
  std::vector<double> row32 = layernorm_row<float>({1, 3}, 1e-6f);
  std::vector<ExactExpect> rowq = layernorm_exact({1, 3});
  Sample rows = sample("axis 1 of (2,2)",
                       axis_op(OpKind::layernorm, tensor({2, 2}, {1, 3, 1, 3}), 1, {2, 2}));
  expect_f64(rows, {row[0], row[1], row[0], row[1]});
  expect_f32(rows, {row32[0], row32[1], row32[0], row32[1]});
  e.samples.push_back(expect_exact(rows, {rowq[0], rowq[1], rowq[0], rowq[1]}));
  std::vector<double> all = layernorm_row<double>({1, 3, 1, 3}, 1e-6);
  std::vector<double> all32 = layernorm_row<float>({1, 3, 1, 3}, 1e-6f);
  Sample whole = sample("axis 0 of (2,2)",
                        axis_op(OpKind::layernorm, tensor({2, 2}, {1, 3, 1, 3}), 0, {2, 2}));
  expect_f64(whole, all);
  expect_f32(whole, all32);
  e.samples.push_back(expect_exact(whole, layernorm_exact({1, 3, 1, 3})));
  // A constant row has c = +0 everywhere: y = (0 / sqrt(eps)) * 1 + 0 = +0.
  Sample flat = sample("constant rows", axis_op(OpKind::layernorm,
                                                tensor({2, 3}, {3, 3, 3, -2, -2, -2}), 1, {2, 3}));
  expect_ieee(flat, std::vector<double>(6, 0.0));
  e.samples.push_back(expect_exact(flat, std::vector<ExactExpect>(6, ExactExpect{0, false})));
  Sample nan = sample("NaN", axis_op(OpKind::layernorm, tensor({2}, {kNaN, 1}), 0, {2}));
  e.samples.push_back(expect_ieee(ieee_only(nan), {kNaN, kNaN}));
  Sample inf = sample("inf", axis_op(OpKind::layernorm, tensor({2}, {kInf, 1}), 0, {2}));
  e.samples.push_back(expect_ieee(ieee_only(inf), {kNaN, kNaN}));
  Sample empty = sample("empty", axis_op(OpKind::layernorm, tensor({0, 3}, {}), 1, {0, 3}));
  e.samples.push_back(expect_all(empty, {}));
  e.errors.push_back(error("axis out of range",
                           axis_op(OpKind::layernorm, tensor({2, 2}, {1, 2, 3, 4}), 2, {2, 2}),
                           {"[layernorm] node 1", "axis 2", "(2,2)"}));
  return e;
}

// ---- extension ops (src/torchlean/ops/classification.cpp) ----

namespace {

// log_softmax of a line by the spec's order in T, MPFR for exp and log: m, d_k = x_k - m,
// s = fold from +0 of exp(d_k), l = log s, y_k = d_k - l.
template <class T>
std::vector<double> log_softmax_line(const std::vector<double>& xs) {
  T m = static_cast<T>(xs[0]);
  for (double x : xs) m = std::max(m, static_cast<T>(x));
  const int precision = sizeof(T) == 4 ? 24 : 53;
  T total = 0;
  std::vector<T> d;
  for (double x : xs) {
    d.push_back(static_cast<T>(x) - m);
    total = total + static_cast<T>(mpfr_rounded(Fn::exp, d.back(), precision));
  }
  const T l = static_cast<T>(mpfr_rounded(Fn::log, total, precision));
  std::vector<double> out;
  for (T v : d) out.push_back(static_cast<double>(v - l));
  return out;
}

// The real log_softmax of a line, 256 bits: x_k - log(sum_j exp(x_j)).
std::vector<ExactExpect> log_softmax_exact(const std::vector<double>& xs) {
  mpfr_t lse, t;
  mpfr_init2(lse, 256);
  mpfr_init2(t, 256);
  mpfr_set_zero(lse, 1);
  for (double x : xs) {
    mpfr_set_d(t, x, MPFR_RNDN);
    mpfr_exp(t, t, MPFR_RNDN);
    mpfr_add(lse, lse, t, MPFR_RNDN);
  }
  mpfr_log(lse, lse, MPFR_RNDN);
  std::vector<ExactExpect> out;
  for (double x : xs) {
    mpfr_set_d(t, x, MPFR_RNDN);
    mpfr_sub(t, t, lse, MPFR_RNDN);
    mpq_class v;
    mpfr_get_q(v.get_mpq_t(), t);
    out.push_back(ExactExpect{v, false});
  }
  mpfr_clear(lse);
  mpfr_clear(t);
  return out;
}

Sample log_softmax_sample(std::string name, std::vector<double> xs) {
  const int64_t n = static_cast<int64_t>(xs.size());
  Sample s = sample(std::move(name), axis_op(OpKind::log_softmax, tensor({n}, xs), 0, {n}));
  expect_f64(s, log_softmax_line<double>(xs));
  expect_f32(s, log_softmax_line<float>(xs));
  return expect_exact(s, log_softmax_exact(xs));
}

GraphSpec cross_entropy(Tensor<double> logits, Tensor<double> targets) {
  return GraphSpec{
      OpKind::cross_entropy, ir::NoAttrs{}, {std::move(logits), std::move(targets)}, Shape{}, {}};
}

}  // namespace

OpEntry entry_log_softmax() {
  OpEntry e{OpKind::log_softmax, {}, {}};
  e.cross = CrossDomain::composite;
  // [0, 0]: s = 2, y = -log 2; [1000, 1000] the same (the max is subtracted first).
  e.samples.push_back(log_softmax_sample("equal logits", {0, 0}));
  e.samples.push_back(log_softmax_sample("large logits", {1000, 1000}));
  e.samples.push_back(log_softmax_sample("[1, 2, 3]", {1, 2, 3}));
  e.samples.push_back(log_softmax_sample("[-4, 0.5]", {-4, 0.5}));
  // Along axis 0 of [[0, 5], [0, 5]]: each column is equal, -log 2 everywhere.
  Sample axis0 =
      sample("axis 0", axis_op(OpKind::log_softmax, tensor({2, 2}, {0, 5, 0, 5}), 0, {2, 2}));
  const double l64 = -mpfr_rounded(Fn::log, 2, 53), l32 = -mpfr_rounded(Fn::log, 2, 24);
  expect_f64(axis0, {l64, l64, l64, l64});
  expect_f32(axis0, {l32, l32, l32, l32});
  e.samples.push_back(
      expect_exact(axis0, std::vector<ExactExpect>(4, log_softmax_exact({0, 0})[0])));
  // -inf: d = -inf, exp(-inf) = 0, s = 1, l = 0.
  Sample neg_inf =
      sample("-inf logit", axis_op(OpKind::log_softmax, tensor({2}, {-kInf, 0}), 0, {2}));
  e.samples.push_back(expect_ieee(ieee_only(neg_inf), {-kInf, 0.0}));
  Sample nan = sample("NaN logit", axis_op(OpKind::log_softmax, tensor({2}, {kNaN, 1}), 0, {2}));
  e.samples.push_back(expect_ieee(ieee_only(nan), {kNaN, kNaN}));
  e.errors.push_back(error("axis out of range",
                           axis_op(OpKind::log_softmax, tensor({2}, {1, 2}), 1, {2}),
                           {"[log_softmax] node 1", "invalid axis 1", "(2)"}));
  return e;
}

OpEntry entry_cross_entropy() {
  OpEntry e{OpKind::cross_entropy, {}, {}};
  e.cross = CrossDomain::composite;
  // Two rows of equal logits: each loss is log 2 (l - d_t = log 2 - 0), total 2 log 2 (exact
  // doubling), / 2 = log 2.
  Sample equal =
      sample("equal logits", cross_entropy(tensor({2, 2}, {0, 0, 0, 0}), tensor({2}, {0, 1})));
  expect_f64(equal, {mpfr_rounded(Fn::log, 2, 53)});
  expect_f32(equal, {mpfr_rounded(Fn::log, 2, 24)});
  expect_exact(equal, {mpfr_enclosed(Fn::log, 2)});
  equal.skip_cross = true;  // random targets are not class indices
  e.samples.push_back(equal);
  // One row [1, 2, 3], target 2 (d_t = 0): loss = l = log(((0 + e^-2) + e^-1) + 1), = -log_softmax.
  Sample row = sample("one row", cross_entropy(tensor({1, 3}, {1, 2, 3}), tensor({1}, {2})));
  expect_f64(row, {-log_softmax_line<double>({1, 2, 3})[2]});
  expect_f32(row, {-log_softmax_line<float>({1, 2, 3})[2]});
  {
    ExactExpect v = log_softmax_exact({1, 2, 3})[2];
    v.value = -v.value;
    expect_exact(row, {v});
  }
  row.skip_cross = true;
  e.samples.push_back(row);
  auto bad = [](std::string name, double t, unsigned domains, std::string text) {
    return error(std::move(name), cross_entropy(tensor({2, 2}, {0, 1, 2, 3}), tensor({2}, {1, t})),
                 {"[cross_entropy] node 2", "target at index 1 is " + text, "[0, 1]"}, domains,
                 true);
  };
  e.errors = {
      bad("class out of range", 2, kAllDomains, "2"),
      bad("ignore_index -100 is not supported", -100, kAllDomains, "-100"),
      bad("fractional class", 0.5, kIeee, "0.5"),
      error("targets do not match the batch",
            cross_entropy(tensor({2, 2}, {0, 1, 2, 3}), tensor({3}, {0, 0, 0})),
            {"[cross_entropy] node 2", "expected logits (N,C) and targets (N)", "(2,2)", "(3)"}),
      error("empty batch", cross_entropy(Tensor<double>(Shape{0, 2}), Tensor<double>(Shape{0})),
            {"[cross_entropy] node 2", "must be > 0"})};
  return e;
}

}  // namespace torchlean::testing
