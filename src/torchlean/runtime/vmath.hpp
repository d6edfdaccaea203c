// Vectorised elementary functions over arrays, and the instruction-set selection that every
// vectorised runtime kernel shares.
//
// vmath_exact: correctly rounded, so bit-identical to the scalar F32/F64 functions of
//   scalar/elementary.hpp (the reference semantics of exp, log, tanh, sigmoid, sin, cos, erf):
//   binary32 arrays go through vectorised kernels (AVX-512, AVX2 or portable, chosen at run time)
//   that evaluate in binary64, test the rounding, and call the scalar function for the rare lanes
//   they cannot decide; binary64 arrays call the scalar correctly rounded function per element
//   (MPFR: about a microsecond each).
// vmath_fast: within vmath_fast_ulps<T>(f) ulps of vmath_exact, a declared bound (binary32:
//   cheaper polynomials and no rounding test; binary64: glibc's libm, see docs/runtime.md).
// Special results (NaN, which is always the canonical quiet NaN, infinities, signed zeros) are
// the same in both variants. x and y may be the same array.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "torchlean/scalar/elementary.hpp"

namespace torchlean::runtime {

// Instruction-set paths of the vectorised kernels (vmath, elementwise, reductions).
enum class Isa : uint8_t { portable, avx2, avx512 };
std::string_view isa_name(Isa isa);
// Compiled in and supported by this CPU (and OS).
bool isa_supported(Isa isa);
// The path the kernels use: the best supported one, unless forced.
Isa active_isa();
// Test hook: makes every vectorised kernel use `isa` (which must be supported; UserError
// otherwise), or restores automatic selection for nullopt. Not for use while kernels run.
void force_isa_for_testing(std::optional<Isa> isa);

void vmath_exact(Elementary f, const float* x, float* y, int64_t n);
void vmath_exact(Elementary f, const double* x, double* y, int64_t n);
void vmath_fast(Elementary f, const float* x, float* y, int64_t n);
void vmath_fast(Elementary f, const double* x, double* y, int64_t n);

// The fast variants' declared bound: for every input, either both variants give the same special
// value (NaN, +-inf) or |fast - exact| <= ulps * ulp_of(exact).
template <class T>
int vmath_fast_ulps(Elementary f);
// The gap from |v| to the next larger finite magnitude of T (2^-149 or 2^-1074 at and below the
// smallest normal number); +inf for non-finite v.
template <class T>
double ulp_of(T v);

// Test hooks. How many binary32 lanes the vector kernels handed to the scalar function so far
// (process-wide); and the binary64 approximation y of f(x) that a path rounds, NaN on lanes
// answered without it (special inputs, scalar fallbacks).
uint64_t vmath_fallback_count();
void vmath_approx_for_testing(Isa isa, Elementary f, bool fast, const float* x, double* y,
                              int64_t n);

}  // namespace torchlean::runtime
