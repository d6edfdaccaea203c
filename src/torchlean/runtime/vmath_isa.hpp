// Internal: the interface between the vmath dispatcher (vmath.cpp) and the per-ISA kernel files
// (vmath_avx512.cpp, vmath_avx2.cpp, vmath_portable.cpp). Plain declarations only: this header is
// included by files compiled with different -m flags (see vmath_simd.hpp).
#pragma once
#include <cstdint>

namespace torchlean::runtime::detail {

// The seven functions, numbered as torchlean::Elementary (scalar/elementary.hpp).
constexpr int kNumElementary = 7;

using VmathSpan = void (*)(const float* x, float* y, int64_t n);
// Test hook: the binary64 approximation of f(x) before rounding, NaN on lanes whose answer does
// not come from the approximation (special inputs, scalar fallbacks).
using VmathApproxSpan = void (*)(const float* x, double* y, int64_t n);

struct VmathTable {
  VmathSpan exact[kNumElementary];
  VmathSpan fast[kNumElementary];
  VmathApproxSpan approx_exact[kNumElementary];
  VmathApproxSpan approx_fast[kNumElementary];
};

// nullptr when the file was built without that instruction set (e.g. on a non-x86 target).
const VmathTable* vmath_table_avx512();
const VmathTable* vmath_table_avx2();
const VmathTable* vmath_table_portable();

// The scalar correctly rounded function (scalar/elementary.cpp) for the lanes a vector kernel
// cannot decide; counts each call (vmath_fallback_count). Defined in vmath.cpp.
float vmath_scalar_fallback(int fn, float x);

}  // namespace torchlean::runtime::detail
