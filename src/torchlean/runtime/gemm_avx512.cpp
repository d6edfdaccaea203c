// AVX-512F kernels of the exact-order GEMM (compiled with -mavx512f -mfma; called only after
// gemm_path_supported(avx512)). Register tiles: binary32 12 x 32 (24 zmm accumulators), binary64
// 12 x 16. Vector lanes are distinct C elements, so the k order of each element is untouched.
// GCC 12 reports its own _mm512_undefined_ps() (a deliberate self-initialisation) as maybe
// uninitialised once the shuffles are inlined; the diagnostic is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "torchlean/runtime/gemm_kernel_impl.hpp"
#include "torchlean/runtime/gemm_kernels.hpp"

namespace torchlean::runtime::detail {

namespace {

struct Avx512F32 {
  using T = float;
  using V = __m512;
  static constexpr int lanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V load_n(const T* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_n(T* p, V v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static V bcast(T x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V canon(V x) {
    return _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q),
                              _mm512_set1_ps(__builtin_nanf("")));
  }
  static __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static void transpose(V* r) {
    V t[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    // r[4g + 0..3] = rows 4g..4g+3 of columns {0,4,8,12} + 0..3, one per 128-bit lane.
    for (int g = 0; g < 4; ++g) {
      r[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int q = 0; q < 4; ++q) {
      t[q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88);
      t[4 + q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xdd);
      t[8 + q] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88);
      t[12 + q] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xdd);
    }
    for (int q = 0; q < 4; ++q) {
      r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
      r[4 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0x88);
      r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xdd);
      r[12 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0xdd);
    }
  }
};

struct Avx512F64 {
  using T = double;
  using V = __m512d;
  static constexpr int lanes = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V load_n(const T* p, int n) { return _mm512_maskz_loadu_pd(mask(n), p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static void store_n(T* p, V v, int n) { _mm512_mask_storeu_pd(p, mask(n), v); }
  static V bcast(T x) { return _mm512_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V canon(V x) {
    return _mm512_mask_mov_pd(x, _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q),
                              _mm512_set1_pd(__builtin_nan("")));
  }
  static __mmask8 mask(int n) { return static_cast<__mmask8>((1u << n) - 1u); }
  static void transpose(V* r) {
    V t[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
    }
    V s[8];
    for (int h = 0; h < 2; ++h) {
      s[4 * h + 0] = _mm512_shuffle_f64x2(t[4 * h], t[4 * h + 2], 0x88);
      s[4 * h + 1] = _mm512_shuffle_f64x2(t[4 * h + 1], t[4 * h + 3], 0x88);
      s[4 * h + 2] = _mm512_shuffle_f64x2(t[4 * h], t[4 * h + 2], 0xdd);
      s[4 * h + 3] = _mm512_shuffle_f64x2(t[4 * h + 1], t[4 * h + 3], 0xdd);
    }
    for (int q = 0; q < 4; ++q) {
      r[q] = _mm512_shuffle_f64x2(s[q], s[4 + q], 0x88);
      r[4 + q] = _mm512_shuffle_f64x2(s[q], s[4 + q], 0xdd);
    }
  }
};

// Narrow tiles (one vector wide) for n <= 16 / 8, e.g. a classifier's last layer.
constexpr GemmKernels<float> kF32Narrow{.mr = 16,
                                        .nr = 16,
                                        .kc = 256,
                                        .mc = 480,
                                        .nc = 4096,
                                        .micro = &micro_kernel<Avx512F32, 16, 1, true>,
                                        .micro_direct_a = &micro_kernel<Avx512F32, 16, 1, false>,
                                        .pack_a = &pack_a<Avx512F32, 16>,
                                        .pack_b = &pack_b<Avx512F32, 1>};
constexpr GemmKernels<float> kF32{.mr = 12,
                                  .nr = 32,
                                  .kc = 256,
                                  .mc = 480,
                                  .nc = 4096,
                                  .micro = &micro_kernel<Avx512F32, 12, 2, true>,
                                  .micro_direct_a = &micro_kernel<Avx512F32, 12, 2, false>,
                                  .pack_a = &pack_a<Avx512F32, 12>,
                                  .pack_b = &pack_b<Avx512F32, 2>,
                                  .narrow = &kF32Narrow,
                                  .small_m = &small_m_kernel<Avx512F32, 4, 2>,
                                  .small_m_max = 8,
                                  .small_n_chunk = 128};
constexpr GemmKernels<double> kF64Narrow{.mr = 16,
                                         .nr = 8,
                                         .kc = 256,
                                         .mc = 240,
                                         .nc = 2048,
                                         .micro = &micro_kernel<Avx512F64, 16, 1, true>,
                                         .micro_direct_a = &micro_kernel<Avx512F64, 16, 1, false>,
                                         .pack_a = &pack_a<Avx512F64, 16>,
                                         .pack_b = &pack_b<Avx512F64, 1>};
constexpr GemmKernels<double> kF64{.mr = 12,
                                   .nr = 16,
                                   .kc = 256,
                                   .mc = 240,
                                   .nc = 2048,
                                   .micro = &micro_kernel<Avx512F64, 12, 2, true>,
                                   .micro_direct_a = &micro_kernel<Avx512F64, 12, 2, false>,
                                   .pack_a = &pack_a<Avx512F64, 12>,
                                   .pack_b = &pack_b<Avx512F64, 2>,
                                   .narrow = &kF64Narrow,
                                   .small_m = &small_m_kernel<Avx512F64, 4, 2>,
                                   .small_m_max = 8,
                                   .small_n_chunk = 64};

}  // namespace

const GemmKernels<float>& gemm_kernels_avx512_f32() { return kF32; }
const GemmKernels<double>& gemm_kernels_avx512_f64() { return kF64; }

}  // namespace torchlean::runtime::detail
