// Internal: the elementwise and vector-reduction kernels, written once over vmath_simd.hpp and
// compiled per instruction set by elementwise_<isa>.cpp. Each lane computes exactly the scalar
// operation of ops/elementwise.cpp (one IEEE operation, rounded once, then NaN canonicalised),
// so the result does not depend on the vector width. Note that the x86 min/max instructions are
// not IEEE 754-2019 maximum/minimum (they return the second operand for NaN and for +-0 pairs);
// vmax/vmin below build the IEEE operations from comparisons.
#pragma once
#include "torchlean/runtime/elementwise_isa.hpp"
#include "torchlean/runtime/vmath_simd.hpp"

namespace torchlean::runtime::detail {
namespace {  // NOLINT(google-build-namespaces): per-TU copies, see vmath_simd.hpp

template <class T>
using VT = typename Vec<T>::V;
template <class T>
using MT = typename Vec<T>::M;
template <class T>
constexpr int kLanes = Vec<T>::lanes;

template <class T>
inline VT<T> qnan() {
  return reinterpret_cast<VT<T>>(splat<MT<T>>(Vec<T>::qnan_bits));
}
template <class T>
inline VT<T> canon(VT<T> v) {
  return v != v ? qnan<T>() : v;
}
template <class T>
inline VT<T> vand(VT<T> a, VT<T> b) {
  return reinterpret_cast<VT<T>>(reinterpret_cast<MT<T>>(a) & reinterpret_cast<MT<T>>(b));
}
template <class T>
inline VT<T> vor(VT<T> a, VT<T> b) {
  return reinterpret_cast<VT<T>>(reinterpret_cast<MT<T>>(a) | reinterpret_cast<MT<T>>(b));
}
// IEEE 754-2019 maximum/minimum: NaN if either is NaN; for equal operands the bitwise and (or)
// picks +0 (-0) from a pair of zeros and is the operand itself otherwise.
template <class T>
inline VT<T> vmax(VT<T> a, VT<T> b) {
  const VT<T> r = a == b ? vand<T>(a, b) : (a > b ? a : b);
  return ((a != a) | (b != b)) ? qnan<T>() : r;
}
template <class T>
inline VT<T> vmin(VT<T> a, VT<T> b) {
  const VT<T> r = a == b ? vor<T>(a, b) : (a < b ? a : b);
  return ((a != a) | (b != b)) ? qnan<T>() : r;
}

// Scalar IEEE maximum with the same semantics (no standard library, see vmath_simd.hpp).
template <class T>
inline T smax(T a, T b) {
  VT<T> va = splat<VT<T>>(a), vb = splat<VT<T>>(b);
  return vmax<T>(va, vb)[0];
}

// ---- unary ------------------------------------------------------------------------------------
// Reference: ops/elementwise.cpp. relu(x) = maximum(x, +0); sqrt(x) = sqrt(maximum(x, +0));
// abs(x) = |x|; inv(x) = 1 / x; neg(x) = -x; copy keeps the bits.
template <class T, UnaryOp Op>
inline VT<T> unary_lane(VT<T> x) {
  using V = VT<T>;
  if constexpr (Op == UnaryOp::copy) {
    return x;
  } else if constexpr (Op == UnaryOp::relu || Op == UnaryOp::sqrt) {
    // maximum(x, +0): x > 0 keeps x; -0, negatives and -inf give +0; NaN gives NaN.
    const V r = x != x ? qnan<T>() : (x > T(0) ? x : V{});
    if constexpr (Op == UnaryOp::relu) return r;
    return canon<T>(vsqrt(r));
  } else if constexpr (Op == UnaryOp::abs) {
    return canon<T>(reinterpret_cast<V>(reinterpret_cast<MT<T>>(x) & ~Vec<T>::sign_bit));
  } else if constexpr (Op == UnaryOp::neg) {
    return canon<T>(reinterpret_cast<V>(reinterpret_cast<MT<T>>(x) ^ Vec<T>::sign_bit));
  } else {
    static_assert(Op == UnaryOp::inv);
    return canon<T>(T(1) / x);
  }
}

// A tail shorter than one register goes through a padded register (the padding is never stored).
template <class T, UnaryOp Op>
void unary_loop(const T* x, T* y, int64_t n) {
  constexpr int L = kLanes<T>;
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    const VT<T> a = unary_lane<T, Op>(load<VT<T>>(x + i));
    const VT<T> b = unary_lane<T, Op>(load<VT<T>>(x + i + L));
    store(y + i, a);
    store(y + i + L, b);
  }
  for (; i + L <= n; i += L) store(y + i, unary_lane<T, Op>(load<VT<T>>(x + i)));
  if (i < n) {
    T buf[L] = {};
    for (int64_t j = 0; i + j < n; ++j) buf[j] = x[i + j];
    const VT<T> r = unary_lane<T, Op>(load<VT<T>>(buf));
    for (int64_t j = 0; i + j < n; ++j) y[i + j] = r[j];
  }
}

template <class T>
void unary(UnaryOp op, const T* x, T* y, int64_t n) {
  switch (op) {
    case UnaryOp::copy: return unary_loop<T, UnaryOp::copy>(x, y, n);
    case UnaryOp::relu: return unary_loop<T, UnaryOp::relu>(x, y, n);
    case UnaryOp::abs: return unary_loop<T, UnaryOp::abs>(x, y, n);
    case UnaryOp::sqrt: return unary_loop<T, UnaryOp::sqrt>(x, y, n);
    case UnaryOp::inv: return unary_loop<T, UnaryOp::inv>(x, y, n);
    case UnaryOp::neg: return unary_loop<T, UnaryOp::neg>(x, y, n);
    default: return;  // the elementary functions are vmath's (elementwise.cpp never sends them)
  }
}

// ---- binary -----------------------------------------------------------------------------------
// Reference: ops/elementwise.cpp (add, sub, mul_elem, max_elem, min_elem); div is IEEE division.
template <class T, BinaryOp Op>
inline VT<T> binary_lane(VT<T> a, VT<T> b) {
  if constexpr (Op == BinaryOp::add) return canon<T>(a + b);
  if constexpr (Op == BinaryOp::sub) return canon<T>(a - b);
  if constexpr (Op == BinaryOp::mul) return canon<T>(a * b);
  if constexpr (Op == BinaryOp::div) return canon<T>(a / b);
  if constexpr (Op == BinaryOp::maximum) return vmax<T>(a, b);
  if constexpr (Op == BinaryOp::minimum) return vmin<T>(a, b);
}

// Operand shapes: both arrays, or one side a broadcast scalar.
enum Shape { kArrays, kRhsScalar, kLhsScalar };

template <class T, BinaryOp Op, Shape S>
void binary_loop(const T* a, const T* b, T sa, T sb, T* y, int64_t n) {
  constexpr int L = kLanes<T>;
  const VT<T> va = splat<VT<T>>(sa), vb = splat<VT<T>>(sb);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    const VT<T> l = S == kLhsScalar ? va : load<VT<T>>(a + i);
    const VT<T> r = S == kRhsScalar ? vb : load<VT<T>>(b + i);
    store(y + i, binary_lane<T, Op>(l, r));
  }
  if (i < n) {
    T ba[L] = {}, bb[L] = {};
    for (int64_t j = 0; i + j < n; ++j) {
      if (S != kLhsScalar) ba[j] = a[i + j];
      if (S != kRhsScalar) bb[j] = b[i + j];
    }
    const VT<T> l = S == kLhsScalar ? va : load<VT<T>>(ba);
    const VT<T> r = S == kRhsScalar ? vb : load<VT<T>>(bb);
    const VT<T> out = binary_lane<T, Op>(l, r);
    for (int64_t j = 0; i + j < n; ++j) y[i + j] = out[j];
  }
}

template <class T, Shape S>
void binary_shaped(BinaryOp op, const T* a, const T* b, T sa, T sb, T* y, int64_t n) {
  switch (op) {
    case BinaryOp::add: return binary_loop<T, BinaryOp::add, S>(a, b, sa, sb, y, n);
    case BinaryOp::sub: return binary_loop<T, BinaryOp::sub, S>(a, b, sa, sb, y, n);
    case BinaryOp::mul: return binary_loop<T, BinaryOp::mul, S>(a, b, sa, sb, y, n);
    case BinaryOp::div: return binary_loop<T, BinaryOp::div, S>(a, b, sa, sb, y, n);
    case BinaryOp::maximum: return binary_loop<T, BinaryOp::maximum, S>(a, b, sa, sb, y, n);
    case BinaryOp::minimum: return binary_loop<T, BinaryOp::minimum, S>(a, b, sa, sb, y, n);
  }
}

template <class T>
void binary(BinaryOp op, const T* a, const T* b, T* y, int64_t n) {
  binary_shaped<T, kArrays>(op, a, b, T(0), T(0), y, n);
}
template <class T>
void binary_rhs_scalar(BinaryOp op, const T* a, T b, T* y, int64_t n) {
  binary_shaped<T, kRhsScalar>(op, a, nullptr, T(0), b, y, n);
}
template <class T>
void binary_lhs_scalar(BinaryOp op, T a, const T* b, T* y, int64_t n) {
  binary_shaped<T, kLhsScalar>(op, nullptr, b, a, T(0), y, n);
}

// ---- scans and reductions ---------------------------------------------------------------------
template <class T>
int64_t first_not_positive(const T* x, int64_t n) {
  constexpr int L = kLanes<T>;
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    const unsigned m = mask_bits(load<VT<T>>(x + i) <= T(0));
    if (m != 0) return i + __builtin_ctz(m);
  }
  for (; i < n; ++i)
    if (x[i] <= 0) return i;
  return -1;
}

// Reference: softmax's maximum over a line (ops/normalization.cpp). IEEE maximum is associative,
// commutative and idempotent, so lanes and tree order give the reference's value.
template <class T>
T max_fold(const T* x, int64_t n) {
  constexpr int L = kLanes<T>;
  VT<T> acc0 = splat<VT<T>>(x[0]), acc1 = acc0;
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    acc0 = vmax<T>(acc0, load<VT<T>>(x + i));
    acc1 = vmax<T>(acc1, load<VT<T>>(x + i + L));
  }
  for (; i + L <= n; i += L) acc0 = vmax<T>(acc0, load<VT<T>>(x + i));
  for (; i < n; ++i) acc0 = vmax<T>(acc0, splat<VT<T>>(x[i]));
  acc0 = vmax<T>(acc0, acc1);
  T m = acc0[0];
  for (int j = 1; j < L; ++j) m = smax<T>(m, acc0[j]);
  return m;
}

// Adds |v| to binary64 accumulators.
inline void add_abs(Dv* acc, Fv v) {
  const Fv a = reinterpret_cast<Fv>(reinterpret_cast<Iv>(v) & 0x7fffffff);
  Fh lo, hi;
  __builtin_memcpy(&lo, &a, sizeof lo);
  __builtin_memcpy(&hi, reinterpret_cast<const char*>(&a) + sizeof lo, sizeof hi);
  acc[0] += widen(lo);
  acc[1] += widen(hi);
}
inline void add_abs(Dv* acc, Dv v) { acc[0] += vabs(v); }

template <class T>
T hsum(VT<T> v) {
  T s = v[0];
  for (int j = 1; j < kLanes<T>; ++j) s += v[j];
  return s;
}
inline double hsum_d(const Dv* acc, int k) {
  Dv s = acc[0];
  for (int j = 1; j < k; ++j) s += acc[j];
  double t = s[0];
  for (int j = 1; j < kLanesD; ++j) t += s[j];
  return t;
}

// Reference (for the bound): sum / reduce_sum (ops/reduction.cpp). Four vector accumulators.
template <class T>
T sum_fast(const T* x, int64_t n, double* abs_sum) {
  constexpr int L = kLanes<T>;
  VT<T> acc[4] = {};
  Dv abs_acc[2] = {};
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    for (int u = 0; u < 4; ++u) {
      const VT<T> v = load<VT<T>>(x + i + u * L);
      acc[u] += v;
      add_abs(abs_acc, v);
    }
  }
  T tail = T(0);
  double tail_abs = 0;
  for (; i < n; ++i) {
    tail += x[i];
    tail_abs += x[i] < 0 ? -static_cast<double>(x[i]) : static_cast<double>(x[i]);
  }
  *abs_sum = hsum_d(abs_acc, 2) + tail_abs;
  return hsum<T>((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
}

// Reference (for the bound): mse_loss's fold of fl(fl(y - t)^2) (ops/reduction.cpp).
template <class T>
T sq_diff_sum_fast(const T* a, const T* b, int64_t n, double* sq_sum) {
  constexpr int L = kLanes<T>;
  VT<T> acc[4] = {};
  Dv sq_acc[2] = {};
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    for (int u = 0; u < 4; ++u) {
      const VT<T> d = load<VT<T>>(a + i + u * L) - load<VT<T>>(b + i + u * L);
      const VT<T> p = d * d;
      acc[u] += p;
      add_abs(sq_acc, p);
    }
  }
  T tail = T(0);
  double tail_sq = 0;
  for (; i < n; ++i) {
    const T d = a[i] - b[i];
    const T p = d * d;
    tail += p;
    tail_sq += static_cast<double>(p);
  }
  *sq_sum = hsum_d(sq_acc, 2) + tail_sq;
  return hsum<T>((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
}

template <class T>
constexpr EwOps<T> make_ops() {
  return {unary<T>,      binary<T>,  binary_rhs_scalar<T>, binary_lhs_scalar<T>,
          first_not_positive<T>, max_fold<T>, sum_fast<T>,     sq_diff_sum_fast<T>};
}

constexpr EwTable kEwTable = {make_ops<float>(), make_ops<double>()};

}  // namespace
}  // namespace torchlean::runtime::detail
