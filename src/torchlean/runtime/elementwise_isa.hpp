// Internal: the per-ISA elementwise kernel tables (elementwise_avx512.cpp, elementwise_avx2.cpp,
// elementwise_portable.cpp) that elementwise.cpp and reduce.cpp dispatch to. Plain declarations
// only (see vmath_simd.hpp). Every function works on contiguous arrays, allocates nothing and
// never throws; results are canonical (any NaN is the canonical quiet NaN) except copy's.
#pragma once
#include <cstdint>

#include "torchlean/runtime/elementwise_ops.hpp"

namespace torchlean::runtime::detail {

template <class T>
struct EwOps {
  // copy, relu, abs, sqrt (with the clamp) and inv; the elementary functions live in vmath.
  void (*unary)(UnaryOp op, const T* x, T* y, int64_t n);
  void (*binary)(BinaryOp op, const T* a, const T* b, T* y, int64_t n);
  void (*binary_rhs_scalar)(BinaryOp op, const T* a, T b, T* y, int64_t n);  // a[i] op b
  void (*binary_lhs_scalar)(BinaryOp op, T a, const T* b, T* y, int64_t n);  // a op b[i]
  // The first i with x[i] <= 0 (including -0 and -inf; NaN is not), or -1.
  int64_t (*first_not_positive)(const T* x, int64_t n);
  // IEEE maximum of x[0..n), n >= 1 (associative and commutative, so any order gives it).
  T (*max_fold)(const T* x, int64_t n);
  // Fast (reordered) sums: sum x[i] with several vector accumulators, and sum |x[i]| in binary64
  // (any order; used only to rule out overflow and NaN/inf inputs).
  T (*sum_fast)(const T* x, int64_t n, double* abs_sum);
  // sum (a[i] - b[i])^2 reordered, each square rounded as in the reference (fl(fl(a-b)^2)), and
  // the binary64 sum of those squares.
  T (*sq_diff_sum_fast)(const T* a, const T* b, int64_t n, double* sq_sum);
};

struct EwTable {
  EwOps<float> f32;
  EwOps<double> f64;
};

// nullptr when the file was built without that instruction set.
const EwTable* ew_table_avx512();
const EwTable* ew_table_avx2();
const EwTable* ew_table_portable();

// The active path's kernels (vmath.hpp's active_isa); defined in elementwise.cpp.
template <class T>
const EwOps<T>& ew_ops();
template <>
const EwOps<float>& ew_ops<float>();
template <>
const EwOps<double>& ew_ops<double>();

}  // namespace torchlean::runtime::detail
