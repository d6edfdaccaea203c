// Exact-order and fast reduction, normalisation, pooling and loss kernels (reduce.hpp), and the
// fast kernels' bounds. Folds that the reference performs serially stay serial here (one
// accumulator per output, several outputs interleaved for instruction-level parallelism); the
// vectorised parts are elementwise steps across independent outputs (elementwise.hpp), the IEEE
// maximum fold, and the fast sums (elementwise_kernels.hpp).
#include "torchlean/runtime/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "torchlean/runtime/elementwise.hpp"
#include "torchlean/runtime/elementwise_isa.hpp"
#include "torchlean/scalar/f32.hpp"
#include "torchlean/scalar/interval.hpp"

namespace torchlean::runtime {

namespace {

template <class T>
T canon(T v) {
  return std::isnan(v) ? std::numeric_limits<T>::quiet_NaN() : v;
}

// Stack chunk for per-column temporaries (softmax across inner > 1, pooling columns).
constexpr int64_t kChunk = 256;

// The fold from +0 of x[0], x[stride], ..., one rounding per step; NaN payloads are dropped at
// the end (a NaN stays NaN through every later addition, so canonicalising once is the same).
template <class T>
T fold(const T* x, int64_t n) {
  T acc = T(0);
  for (int64_t k = 0; k < n; ++k) acc += x[k];
  return canon(acc);
}

// Four rows' folds interleaved (independent accumulators, each in index order).
template <class T>
void fold4(const T* x, int64_t len, T* out) {
  T a0 = T(0), a1 = T(0), a2 = T(0), a3 = T(0);
  const T *r0 = x, *r1 = x + len, *r2 = x + 2 * len, *r3 = x + 3 * len;
  for (int64_t k = 0; k < len; ++k) {
    a0 += r0[k];
    a1 += r1[k];
    a2 += r2[k];
    a3 += r3[k];
  }
  out[0] = canon(a0);
  out[1] = canon(a1);
  out[2] = canon(a2);
  out[3] = canon(a3);
}

template <class T>
IeeeScalar<T> ieee(T v) {
  return IeeeScalar<T>::of(v);
}

}  // namespace

// Reference: eval_sum (ops/reduction.cpp).
template <class T>
T sum_exact(const T* x, int64_t n) {
  return fold(x, n);
}

// Reference: sum_along (ops/reduction.cpp). inner == 1: one serial fold per row, four rows at a
// time; inner > 1: the rows k = 0..len-1 of each outer block are added to the inner-wide
// accumulator row in order, vectorised across the inner lanes.
template <class T>
void reduce_sum_exact(const T* x, T* y, int64_t outer, int64_t len, int64_t inner) {
  if (inner == 1) {
    int64_t o = 0;
    for (; o + 4 <= outer; o += 4) fold4(x + o * len, len, y + o);
    for (; o < outer; ++o) y[o] = fold(x + o * len, len);
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    T* acc = y + o * inner;
    std::fill(acc, acc + inner, T(0));
    for (int64_t k = 0; k < len; ++k)
      binary_exact(BinaryOp::add, acc, x + (o * len + k) * inner, acc, inner);
  }
}

// Reference: eval_reduce_mean: the sums, then each divided by (T)len.
template <class T>
void reduce_mean_exact(const T* x, T* y, int64_t outer, int64_t len, int64_t inner) {
  reduce_sum_exact(x, y, outer, len, inner);
  binary_exact_rhs_scalar(BinaryOp::div, y, static_cast<T>(len), y, outer * inner);
}

// Reference: eval_mse_loss: acc = acc + d * d with d = y - t (multiply, then add).
template <class T>
T mse_loss_exact(const T* y, const T* t, int64_t n) {
  T acc = T(0);
  for (int64_t i = 0; i < n; ++i) {
    const T d = y[i] - t[i];
    acc += d * d;
  }
  return canon(acc / static_cast<T>(n == 0 ? 1 : n));
}

// Reference: eval_softmax (ops/normalization.cpp): m = maximum over the line seeded with its first
// element, e_k = exp(x_k - m), s = fold of e_k from +0, y_k = e_k / s. The maximum is associative
// and commutative, so the vectorised fold gives the reference's m; the e_k are computed into y
// (for inner == 1 one exp call covers all rows, which are contiguous), then folded in order, then
// divided in place.
template <class T>
void softmax_exact(const T* x, T* y, int64_t outer, int64_t len, int64_t inner) {
  if (outer * len * inner == 0) return;
  const detail::EwOps<T>& ops = detail::ew_ops<T>();
  if (inner == 1) {
    // Short rows (classifier logits) are cheaper with scalar steps than with vector calls.
    const bool short_rows = len < 32;
    using S = IeeeScalar<T>;
    for (int64_t o = 0; o < outer; ++o) {
      const T* xr = x + o * len;
      T* yr = y + o * len;
      if (short_rows) {
        S m = S::of(xr[0]);
        for (int64_t k = 1; k < len; ++k) m = maximum(m, S::of(xr[k]));
        for (int64_t k = 0; k < len; ++k) yr[k] = (S::of(xr[k]) - m).v;
      } else {
        binary_exact_rhs_scalar(BinaryOp::sub, xr, ops.max_fold(xr, len), yr, len);
      }
    }
    unary_exact(UnaryOp::exp, y, y, outer * len);
    T totals[4];
    for (int64_t o = 0; o < outer; o += 4) {
      const int group = static_cast<int>(std::min<int64_t>(4, outer - o));
      if (group == 4) {
        fold4(y + o * len, len, totals);
      } else {
        for (int j = 0; j < group; ++j) totals[j] = fold(y + (o + j) * len, len);
      }
      for (int j = 0; j < group; ++j) {
        T* yr = y + (o + j) * len;
        if (short_rows) {
          for (int64_t k = 0; k < len; ++k) yr[k] = (S::of(yr[k]) / S::of(totals[j])).v;
        } else {
          binary_exact_rhs_scalar(BinaryOp::div, yr, totals[j], yr, len);
        }
      }
    }
    return;
  }
  alignas(64) T m[kChunk];
  alignas(64) T total[kChunk];
  for (int64_t o = 0; o < outer; ++o) {
    const T* xb = x + o * len * inner;
    T* yb = y + o * len * inner;
    for (int64_t i0 = 0; i0 < inner; i0 += kChunk) {
      const int64_t c = std::min(kChunk, inner - i0);
      std::copy(xb + i0, xb + i0 + c, m);
      for (int64_t k = 0; k < len; ++k) binary_exact(BinaryOp::maximum, m, xb + k * inner + i0, m, c);
      std::fill(total, total + c, T(0));
      for (int64_t k = 0; k < len; ++k) {
        T* yk = yb + k * inner + i0;
        binary_exact(BinaryOp::sub, xb + k * inner + i0, m, yk, c);
        unary_exact(UnaryOp::exp, yk, yk, c);
        binary_exact(BinaryOp::add, total, yk, total, c);
      }
      for (int64_t k = 0; k < len; ++k) {
        T* yk = yb + k * inner + i0;
        binary_exact(BinaryOp::div, yk, total, yk, c);
      }
    }
  }
}

// Reference: eval_layernorm (ops/normalization.cpp), per row of width D (as T):
//   mean = fold(x) / D; c_k = x_k - mean; var = maximum(fold(c*c)/D - (fold(c)/D)^2, +0);
//   y_k = (c_k / sqrt(var + eps)) * 1 + 0.
// The centred values live in y; "* 1" is the identity on every binary value (NaN results are
// canonical either way), "+ 0" is kept: it turns -0 into +0.
template <class T>
void layernorm_exact(const T* x, T* y, int64_t rows, int64_t width) {
  if (rows * width == 0) return;
  using S = IeeeScalar<T>;
  const S count = S::from_int(width);
  const S zero = S::from_int(0);
  // The nearest binary32 / binary64 value to 10^-6 (the compiler rounds decimal literals
  // correctly, as ops::from_decimal does).
  const S eps = S::of(std::is_same_v<T, float> ? static_cast<T>(1e-6f) : static_cast<T>(1e-6));
  // Groups of up to four rows: their folds are interleaved (independent accumulators).
  for (int64_t r0 = 0; r0 < rows; r0 += 4) {
    const int group = static_cast<int>(std::min<int64_t>(4, rows - r0));
    T sums[4] = {}, sum_c[4] = {}, sum_sq[4] = {};
    if (group == 4) {
      fold4(x + r0 * width, width, sums);
    } else {
      for (int j = 0; j < group; ++j) sums[j] = fold(x + (r0 + j) * width, width);
    }
    for (int j = 0; j < group; ++j) {
      const S mean = S::of(sums[j]) / count;
      binary_exact_rhs_scalar(BinaryOp::sub, x + (r0 + j) * width, mean.v, y + (r0 + j) * width,
                              width);
    }
    if (group == 4) {
      const T *c0 = y + r0 * width, *c1 = c0 + width, *c2 = c1 + width, *c3 = c2 + width;
      for (int64_t k = 0; k < width; ++k) {
        sum_c[0] += c0[k];
        sum_sq[0] += c0[k] * c0[k];
        sum_c[1] += c1[k];
        sum_sq[1] += c1[k] * c1[k];
        sum_c[2] += c2[k];
        sum_sq[2] += c2[k] * c2[k];
        sum_c[3] += c3[k];
        sum_sq[3] += c3[k] * c3[k];
      }
    } else {
      for (int j = 0; j < group; ++j) {
        const T* c = y + (r0 + j) * width;
        for (int64_t k = 0; k < width; ++k) {
          sum_c[j] += c[k];
          sum_sq[j] += c[k] * c[k];
        }
      }
    }
    for (int j = 0; j < group; ++j) {
      T* yr = y + (r0 + j) * width;
      const S mean_c = S::of(sum_c[j]) / count;
      const S var = maximum(S::of(sum_sq[j]) / count - mean_c * mean_c, zero);
      const S std_dev = sqrt(var + eps);
      binary_exact_rhs_scalar(BinaryOp::div, yr, std_dev.v, yr, width);
      binary_exact_rhs_scalar(BinaryOp::add, yr, T(0), yr, width);
    }
  }
}

// Reference: eval_batch_norm2d_nchw_eval: d_c = sqrt(maximum(var_c, +0) + eps) once per channel,
// y = ((x - mean_c) / d_c) * gamma_c + beta_c, four roundings, as a fused chain with the
// per-channel values as broadcast scalars.
template <class T>
void batch_norm_exact(const T* x, const T* gamma, const T* beta, const T* mean, const T* var,
                      T eps, T* y, int64_t batch, int64_t channels, int64_t plane) {
  using S = IeeeScalar<T>;
  static const ElementwiseChain chain = [] {
    ElementwiseChain c;
    c.then(ChainStep::of(BinaryOp::sub, ChainOperand::array(0), ChainOperand::scalar(0)))
        .then(ChainStep::of(BinaryOp::div, ChainOperand::value(), ChainOperand::scalar(1)))
        .then(ChainStep::of(BinaryOp::mul, ChainOperand::value(), ChainOperand::scalar(2)))
        .then(ChainStep::of(BinaryOp::add, ChainOperand::value(), ChainOperand::scalar(3)));
    return c;
  }();
  for (int64_t c = 0; c < channels; ++c) {
    const S d = sqrt(maximum(S::of(var[c]), S::from_int(0)) + S::of(eps));
    const T scalars[4] = {mean[c], d.v, gamma[c], beta[c]};
    for (int64_t n = 0; n < batch; ++n) {
      const T* xs = x + (n * channels + c) * plane;
      chain_run(chain, &xs, scalars, y + (n * channels + c) * plane, plane);
    }
  }
}

namespace {

// Output columns ow whose tap kw reads a real input column: ow * s + kw - p in [0, in_w).
struct ColumnRange {
  int64_t lo, hi;  // [lo, hi), possibly empty
};
ColumnRange real_columns(const PoolGeometry& g, int64_t kw) {
  // ow >= ceil((p - kw) / s) and ow <= floor((in_w - 1 + p - kw) / s).
  const int64_t a = g.padding - kw;
  const int64_t lo = a <= 0 ? 0 : (a + g.stride - 1) / g.stride;
  const int64_t b = g.in_w - 1 + g.padding - kw;
  const int64_t hi = b < 0 ? 0 : std::min(g.out_w, b / g.stride + 1);
  return {std::min(lo, hi), hi};
}

int64_t input_row(const PoolGeometry& g, int64_t oh, int64_t kh) {
  const int64_t r = oh * g.stride + kh - g.padding;
  return r >= 0 && r < g.in_h ? r : -1;
}

// y[ow - ow_begin] = y[ow - ow_begin] op x_row[ow * s + kw - p] for the output columns ow in
// [ow_begin, ow_end) whose tap kw reads a real input column.
template <class T>
void tap(BinaryOp op, const T* x_row, T* y, const PoolGeometry& g, int64_t kw, int64_t ow_begin,
         int64_t ow_end) {
  const ColumnRange cr = real_columns(g, kw);
  const int64_t lo = std::max(cr.lo, ow_begin), hi = std::min(cr.hi, ow_end);
  if (hi <= lo) return;
  const T* src = x_row + lo * g.stride + kw - g.padding;
  T* dst = y + (lo - ow_begin);
  if (g.stride == 1) {
    binary_exact(op, dst, src, dst, hi - lo);
    return;
  }
  for (int64_t ow = lo; ow < hi; ++ow, src += g.stride, ++dst) {
    const IeeeScalar<T> a = IeeeScalar<T>::of(*dst), b = IeeeScalar<T>::of(*src);
    *dst = (op == BinaryOp::maximum ? maximum(a, b) : a + b).v;
  }
}

}  // namespace

// Reference: max_pool (ops/conv_pool.cpp): IEEE maximum over the window's real cells, +0 for a
// window without one. Maximum is associative and commutative, so the taps are applied tap by tap
// across a whole output row (vectorised for stride 1), starting from -inf (its identity).
template <class T>
void max_pool2d_exact(const T* x, T* y, const PoolGeometry& g) {
  const T neg_inf = -std::numeric_limits<T>::infinity();
  for (int64_t c = 0; c < g.channels; ++c) {
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      T* yr = y + (c * g.out_h + oh) * g.out_w;
      std::fill(yr, yr + g.out_w, neg_inf);
      bool any_row = false;
      for (int64_t kh = 0; kh < g.k_h; ++kh) {
        const int64_t ih = input_row(g, oh, kh);
        if (ih < 0) continue;
        any_row = true;
        for (int64_t kw = 0; kw < g.k_w; ++kw)
          tap(BinaryOp::maximum, x + (c * g.in_h + ih) * g.in_w, yr, g, kw, 0, g.out_w);
      }
      // Windows with no real cell: +0 (TorchLean's `best?.getD 0`).
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t first = ow * g.stride - g.padding;
        if (!any_row || first >= g.in_w || first + g.k_w - 1 < 0) yr[ow] = T(0);
      }
    }
  }
}

// Reference: avg_pool (ops/conv_pool.cpp): per window, each column's fold over kh (padding cells
// count as +0), then the fold of the column sums over kw, then one division by kH * kW. Lanes are
// output columns: for each kw a column buffer is folded over kh, then added to the row of totals
// (held in y). Skipping a padding cell is exact: a fold from +0 is never -0, and v + (+0) = v for
// every v other than -0 (NaN and infinities included).
template <class T>
void avg_pool2d_exact(const T* x, T* y, const PoolGeometry& g) {
  const T divisor = static_cast<T>(g.k_h * g.k_w);
  alignas(64) T column[kChunk];
  for (int64_t c = 0; c < g.channels; ++c) {
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      T* yr = y + (c * g.out_h + oh) * g.out_w;
      std::fill(yr, yr + g.out_w, T(0));
      for (int64_t ow0 = 0; ow0 < g.out_w; ow0 += kChunk) {
        const int64_t cols = std::min(kChunk, g.out_w - ow0);
        for (int64_t kw = 0; kw < g.k_w; ++kw) {
          std::fill(column, column + cols, T(0));
          for (int64_t kh = 0; kh < g.k_h; ++kh) {
            const int64_t ih = input_row(g, oh, kh);
            if (ih >= 0) tap(BinaryOp::add, x + (c * g.in_h + ih) * g.in_w, column, g, kw, ow0, ow0 + cols);
          }
          binary_exact(BinaryOp::add, yr + ow0, column, yr + ow0, cols);
        }
      }
      binary_exact_rhs_scalar(BinaryOp::div, yr, divisor, yr, g.out_w);
    }
  }
}

// ---- fast variants and their bounds ----------------------------------------------------------
//
// A sum of n terms in any order (a tree of n - 1 additions; adding to a +0 accumulator is exact)
// is within gamma_{n-1} * sum|x_i| of the exact sum, gamma_k = k u / (1 - k u), as long as nothing
// overflows; the exact-order fold obeys the same bound, so |fast - exact| <= 2 gamma_{n-1} sum|x_i|.
// Additions are exact in the subnormal range, so no underflow term. The fast kernels take the
// exact path (bound 0) when sum|x_i| (binary64) is not finite or not below max/2, and when
// (n - 1) u >= 1/2; the bound functions below reproduce that condition conservatively.

namespace {

template <class T>
constexpr double kUnit = std::is_same_v<T, float> ? 0x1p-24 : 0x1p-53;
// Half the smallest subnormal: the largest absolute rounding error of a quotient in the subnormal
// range (for binary64 the next representable value up, the smallest subnormal itself).
template <class T>
constexpr double kEta = std::is_same_v<T, float> ? 0x1p-150 : 0x1p-1074;

using Up = Interval<double>;
Up up(double v) { return Up::point(v); }

// gamma_k rounded upward; +inf when k u >= 1/2 (no claim).
template <class T>
double gamma(int64_t k) {
  const Up ku = up(static_cast<double>(k)) * up(kUnit<T>);
  if (ku.hi >= 0.5) return std::numeric_limits<double>::infinity();
  return (ku / (up(1.0) - ku)).hi;
}

template <class T>
bool fast_sum_allowed(int64_t n, double abs_sum) {
  return n > 1 && std::isfinite(gamma<T>(n - 1)) && std::isfinite(abs_sum) &&
         abs_sum < 0.5 * static_cast<double>(std::numeric_limits<T>::max());
}

template <class T>
T sum_fast_impl(const T* x, int64_t n) {
  double abs_sum = 0;
  const T s = n > 0 ? detail::ew_ops<T>().sum_fast(x, n, &abs_sum) : T(0);
  return fast_sum_allowed<T>(n, abs_sum) ? canon(s) : fold(x, n);
}

// Upper bound of sum |x_i|, or +inf.
template <class T>
double abs_sum_up(const T* x, int64_t n, int64_t stride = 1) {
  Up s = up(0.0);
  for (int64_t i = 0; i < n; ++i) {
    const double v = std::fabs(static_cast<double>(x[i * stride]));
    if (!std::isfinite(v)) return std::numeric_limits<double>::infinity();
    s = s + up(v);
  }
  return s.hi;
}

// Bound for a fast sum of n terms whose absolute values sum to at most S. When S may be too large
// for the fast path (or the inputs are not finite), the kernel provably took the exact path:
// its binary64 sum of |x_i| is at least S (1 - 2 gamma) >= max/2.
template <class T>
double sum_bound_from(int64_t n, double abs_up) {
  if (n <= 1) return 0;
  const double g = gamma<T>(n - 1);
  if (!std::isfinite(g) || !std::isfinite(abs_up)) return 0;
  const Up b = up(2.0) * up(g) * up(abs_up);
  const double limit = static_cast<double>(std::numeric_limits<T>::max());
  if ((up(abs_up) + b).hi >= limit) return 0;
  return b.hi;
}

// Bound of fl(t / n) vs fl(s / n) given |t - s| <= b and |s|, |t| <= abs_up (1 + gamma):
//   |t - s| / n + u (|t| + |s|) / n + 2 eta.
template <class T>
double quotient_bound(double b, int64_t n, int64_t terms, double abs_up) {
  if (b == 0) return 0;
  const Up mag = up(abs_up) * (up(1.0) + up(gamma<T>(terms - 1)));
  const Up num = up(b) + up(2.0) * up(kUnit<T>) * mag;
  return (num / up(static_cast<double>(n)) + up(2.0) * up(kEta<T>)).hi;
}

}  // namespace

template <class T>
T sum_fast(const T* x, int64_t n) {
  return sum_fast_impl(x, n);
}

// Rows (inner == 1) are summed with the fast sum; with inner > 1 the exact kernel is already
// vectorised across the inner lanes and runs as is (bound 0).
template <class T>
void reduce_sum_fast(const T* x, T* y, int64_t outer, int64_t len, int64_t inner) {
  if (inner != 1) return reduce_sum_exact(x, y, outer, len, inner);
  for (int64_t o = 0; o < outer; ++o) y[o] = sum_fast_impl(x + o * len, len);
}

template <class T>
void reduce_mean_fast(const T* x, T* y, int64_t outer, int64_t len, int64_t inner) {
  reduce_sum_fast(x, y, outer, len, inner);
  binary_exact_rhs_scalar(BinaryOp::div, y, static_cast<T>(len), y, outer * inner);
}

// The squares fl(fl(y - t)^2) are the reference's own terms; only their sum is reordered.
template <class T>
T mse_loss_fast(const T* y, const T* t, int64_t n) {
  double sq_sum = 0;
  const T s = n > 0 ? detail::ew_ops<T>().sq_diff_sum_fast(y, t, n, &sq_sum) : T(0);
  if (!fast_sum_allowed<T>(n, sq_sum)) return mse_loss_exact(y, t, n);
  return canon(s / static_cast<T>(n));
}

template <class T>
double sum_fast_bound(const T* x, int64_t n) {
  return sum_bound_from<T>(n, abs_sum_up(x, n));
}

template <class T>
void reduce_sum_fast_bound(const T* x, double* bound, int64_t outer, int64_t len, int64_t inner) {
  if (inner != 1) {
    std::fill(bound, bound + outer * inner, 0.0);
    return;
  }
  for (int64_t o = 0; o < outer; ++o) bound[o] = sum_fast_bound(x + o * len, len);
}

template <class T>
void reduce_mean_fast_bound(const T* x, double* bound, int64_t outer, int64_t len, int64_t inner) {
  if (inner != 1) {
    std::fill(bound, bound + outer * inner, 0.0);
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    const double s = abs_sum_up(x + o * len, len);
    bound[o] = quotient_bound<T>(sum_bound_from<T>(len, s), len, len, s);
  }
}

template <class T>
double mse_loss_fast_bound(const T* y, const T* t, int64_t n) {
  Up s = up(0.0);
  for (int64_t i = 0; i < n; ++i) {
    const T d = y[i] - t[i];
    const double p = static_cast<double>(d * d);
    if (!std::isfinite(p)) return 0;  // the kernel's sum is not finite: exact path
    s = s + up(p);
  }
  return quotient_bound<T>(sum_bound_from<T>(n, s.hi), n, n, s.hi);
}

template <class T>
bool within_fast_bound(T fast, T exact, double bound) {
  if (IeeeScalar<T>{fast} == IeeeScalar<T>{exact}) return true;  // raw bits
  if (bound == 0 || !std::isfinite(fast) || !std::isfinite(exact)) return false;
  const Up d = up(static_cast<double>(fast)) - up(static_cast<double>(exact));
  return std::max(std::fabs(d.lo), std::fabs(d.hi)) <= bound;
}

#define TL_REDUCE_INSTANTIATE(T)                                                               \
  template T sum_exact<T>(const T*, int64_t);                                                  \
  template void reduce_sum_exact<T>(const T*, T*, int64_t, int64_t, int64_t);                  \
  template void reduce_mean_exact<T>(const T*, T*, int64_t, int64_t, int64_t);                 \
  template T mse_loss_exact<T>(const T*, const T*, int64_t);                                   \
  template void softmax_exact<T>(const T*, T*, int64_t, int64_t, int64_t);                     \
  template void layernorm_exact<T>(const T*, T*, int64_t, int64_t);                            \
  template void batch_norm_exact<T>(const T*, const T*, const T*, const T*, const T*, T, T*,   \
                                    int64_t, int64_t, int64_t);                                \
  template void max_pool2d_exact<T>(const T*, T*, const PoolGeometry&);                        \
  template void avg_pool2d_exact<T>(const T*, T*, const PoolGeometry&);                        \
  template T sum_fast<T>(const T*, int64_t);                                                   \
  template void reduce_sum_fast<T>(const T*, T*, int64_t, int64_t, int64_t);                   \
  template void reduce_mean_fast<T>(const T*, T*, int64_t, int64_t, int64_t);                  \
  template T mse_loss_fast<T>(const T*, const T*, int64_t);                                    \
  template double sum_fast_bound<T>(const T*, int64_t);                                        \
  template void reduce_sum_fast_bound<T>(const T*, double*, int64_t, int64_t, int64_t);        \
  template void reduce_mean_fast_bound<T>(const T*, double*, int64_t, int64_t, int64_t);       \
  template double mse_loss_fast_bound<T>(const T*, const T*, int64_t);                         \
  template bool within_fast_bound<T>(T, T, double);
TL_REDUCE_INSTANTIATE(float)
TL_REDUCE_INSTANTIATE(double)
#undef TL_REDUCE_INSTANTIATE

}  // namespace torchlean::runtime
