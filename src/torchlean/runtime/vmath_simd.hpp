// Internal: the SIMD vocabulary of the per-ISA translation units (vmath_<isa>.cpp and
// elementwise_<isa>.cpp). Each of those files defines exactly one of TL_ISA_AVX512, TL_ISA_AVX2 or
// TL_ISA_PORTABLE, is compiled with matching -m flags (src/torchlean/runtime/CMakeLists.txt), and is
// only called after a run-time CPU check (isa.cpp).
//
// Vectors are GCC vector extensions one register wide (64, 32 or 16 bytes), so the kernels are
// written once and each TU compiles them for its register width; the few operations that vector
// extensions lack (fma, sqrt, gathers, mask extraction) map to intrinsics here.
//
// Everything is in an anonymous namespace ON PURPOSE: an inline function shared between TUs built
// with different -m flags is one COMDAT symbol, and the linker may keep the AVX-512 copy for every
// caller, which would crash on a CPU without AVX-512. Internal linkage gives each TU its own copy.
// For the same reason the per-ISA TUs use no inline functions of the standard library.
#pragma once
#include <cstdint>

#if defined(TL_ISA_AVX512) || defined(TL_ISA_AVX2)
#include <immintrin.h>
#endif

#if (defined(TL_ISA_AVX512) + defined(TL_ISA_AVX2) + defined(TL_ISA_PORTABLE)) != 1
#error "define exactly one of TL_ISA_AVX512, TL_ISA_AVX2, TL_ISA_PORTABLE"
#endif

namespace torchlean::runtime::detail {
namespace {  // NOLINT(google-build-namespaces): per-TU copies, see the file comment

#if defined(TL_ISA_AVX512)
constexpr int kRegBytes = 64;
#elif defined(TL_ISA_AVX2)
constexpr int kRegBytes = 32;
#else
constexpr int kRegBytes = 16;
#endif
constexpr int kLanesD = kRegBytes / 8;  // doubles per register
constexpr int kLanesF = kRegBytes / 4;  // floats per register

typedef double Dv __attribute__((vector_size(kRegBytes)));
typedef int64_t Lv __attribute__((vector_size(kRegBytes)));  // masks and bits of Dv lanes
typedef float Fv __attribute__((vector_size(kRegBytes)));
typedef int32_t Iv __attribute__((vector_size(kRegBytes)));  // masks and bits of Fv lanes
// kLanesD floats: the binary32 values that widen to one Dv.
typedef float Fh __attribute__((vector_size(kRegBytes / 2)));
typedef int32_t Ih __attribute__((vector_size(kRegBytes / 2)));

// Element type -> vector and mask types.
template <class T>
struct Vec;
template <>
struct Vec<float> {
  using V = Fv;
  using M = Iv;
  static constexpr int lanes = kLanesF;
  static constexpr int32_t sign_bit = static_cast<int32_t>(0x80000000u);
  static constexpr int32_t qnan_bits = 0x7fc00000;
};
template <>
struct Vec<double> {
  using V = Dv;
  using M = Lv;
  static constexpr int lanes = kLanesD;
  static constexpr int64_t sign_bit = static_cast<int64_t>(0x8000000000000000ull);
  static constexpr int64_t qnan_bits = 0x7ff8000000000000ll;
};

template <class V>
inline V load(const void* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
inline void store(void* p, V v) {
  __builtin_memcpy(p, &v, sizeof v);
}
// Every lane holds x's bits (not V{} + x, which turns -0 into +0 and quiets NaN payloads).
template <class V, class S>
inline V splat(S x) {
  V v{};
  for (int i = 0; i < static_cast<int>(sizeof(V) / sizeof(S)); ++i) v[i] = x;
  return v;
}

inline Dv widen(Fh x) { return __builtin_convertvector(x, Dv); }
// Rounds each lane to binary32 (to nearest even, subnormals and overflow included).
inline Fh narrow(Dv x) { return __builtin_convertvector(x, Fh); }
inline Lv widen_mask(Ih m) { return __builtin_convertvector(m, Lv); }

// a * b + c with one rounding where the ISA has fma. The portable path rounds twice; every error
// analysis in vmath_kernels.hpp allows for that.
inline Dv madd(Dv a, Dv b, Dv c) {
#if defined(TL_ISA_AVX512)
  return _mm512_fmadd_pd(a, b, c);
#elif defined(TL_ISA_AVX2)
  return _mm256_fmadd_pd(a, b, c);
#else
  return a * b + c;
#endif
}

inline Fv vsqrt(Fv x) {
#if defined(TL_ISA_AVX512)
  return _mm512_maskz_sqrt_ps(0xffff, x);  // unmasked form: GCC 12 maybe-uninitialized
#elif defined(TL_ISA_AVX2)
  return _mm256_sqrt_ps(x);
#else
  Fv r;
  for (int i = 0; i < kLanesF; ++i) r[i] = __builtin_sqrtf(x[i]);
  return r;
#endif
}
inline Dv vsqrt(Dv x) {
#if defined(TL_ISA_AVX512)
  return _mm512_maskz_sqrt_pd(0xff, x);
#elif defined(TL_ISA_AVX2)
  return _mm256_sqrt_pd(x);
#else
  Dv r;
  for (int i = 0; i < kLanesD; ++i) r[i] = __builtin_sqrt(x[i]);
  return r;
#endif
}

// table[idx[i]] per lane.
inline Dv gather(const double* table, Lv idx) {
#if defined(TL_ISA_AVX512)
  // The masked form avoids GCC 12's false maybe-uninitialized warning on _mm512_i64gather_pd.
  return _mm512_mask_i64gather_pd(_mm512_setzero_pd(), 0xff, reinterpret_cast<__m512i>(idx), table,
                                  8);
#elif defined(TL_ISA_AVX2)
  return _mm256_i64gather_pd(table, reinterpret_cast<__m256i>(idx), 8);
#else
  Dv r;
  for (int i = 0; i < kLanesD; ++i) r[i] = table[idx[i]];
  return r;
#endif
}

// row[idx[i]] per lane for a row of 32 doubles (idx in [0, 32)). AVX-512 selects from the row's
// four registers with two-source permutes, much faster than a gather.
inline Dv lookup32(const double* row, Lv idx) {
#if defined(TL_ISA_AVX512)
  const __m512i i = reinterpret_cast<__m512i>(idx);
  const __m512d lo = _mm512_permutex2var_pd(_mm512_loadu_pd(row), i, _mm512_loadu_pd(row + 8));
  const __m512d hi =
      _mm512_permutex2var_pd(_mm512_loadu_pd(row + 16), i, _mm512_loadu_pd(row + 24));
  return _mm512_mask_blend_pd(_mm512_test_epi64_mask(i, _mm512_set1_epi64(16)), lo, hi);
#else
  return gather(row, idx);
#endif
}

// Bit i set when lane i of the mask is nonzero.
inline unsigned mask_bits(Lv m) {
#if defined(TL_ISA_AVX512)
  const __m512i v = reinterpret_cast<__m512i>(m);
  return _mm512_test_epi64_mask(v, v);
#elif defined(TL_ISA_AVX2)
  return static_cast<unsigned>(_mm256_movemask_pd(reinterpret_cast<__m256d>(m)));
#else
  unsigned b = 0;
  for (int i = 0; i < kLanesD; ++i) b |= (m[i] != 0 ? 1u : 0u) << i;
  return b;
#endif
}
inline unsigned mask_bits(Iv m) {
#if defined(TL_ISA_AVX512)
  const __m512i v = reinterpret_cast<__m512i>(m);
  return _mm512_test_epi32_mask(v, v);
#elif defined(TL_ISA_AVX2)
  return static_cast<unsigned>(_mm256_movemask_ps(reinterpret_cast<__m256>(m)));
#else
  unsigned b = 0;
  for (int i = 0; i < kLanesF; ++i) b |= (m[i] != 0 ? 1u : 0u) << i;
  return b;
#endif
}

// Bit-level helpers on Dv.
inline Lv bits(Dv x) { return reinterpret_cast<Lv>(x); }
inline Dv from_bits(Lv b) { return reinterpret_cast<Dv>(b); }
inline Dv vabs(Dv x) { return from_bits(bits(x) & 0x7fffffffffffffffll); }
// |mag| with the sign of s.
inline Dv copysign(Dv mag, Dv s) {
  return from_bits((bits(mag) & 0x7fffffffffffffffll) | (bits(s) & Vec<double>::sign_bit));
}

// Round to the nearest integer (ties to even) for |x| < 2^51: adding 1.5 * 2^52 pushes the
// fraction out of the significand. The raw bits of x + 1.5*2^52 are kShifterBits + k, so the
// integer k itself is available as int64 lanes (rint_bits - kShifterBits), and its low bits as
// the low bits of rint_bits.
constexpr double kShifter = 0x1.8p52;
constexpr int64_t kShifterBits = 0x4338000000000000ll;
inline Lv rint_bits(Dv x) { return bits(x + kShifter); }
inline Dv rint_of_bits(Lv b) { return from_bits(b) - kShifter; }
// (double)k for int64 lanes with |k| < 2^51.
inline Dv to_double(Lv k) { return from_bits(k + kShifterBits) - kShifter; }
// 2^k for int64 lanes k in [-1022, 1023] (exact).
inline Dv pow2(Lv k) { return from_bits((k + 1023) << 52); }

}  // namespace
}  // namespace torchlean::runtime::detail
