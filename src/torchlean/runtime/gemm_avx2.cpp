// AVX2 + FMA kernels of the exact-order GEMM (compiled with -mavx2 -mfma; called only after
// gemm_path_supported(avx2)). Register tiles: binary32 6 x 16 (12 ymm accumulators), binary64
// 6 x 8. Vector lanes are distinct C elements, so the k order of each element is untouched.
#include <immintrin.h>

#include "torchlean/runtime/gemm_kernel_impl.hpp"
#include "torchlean/runtime/gemm_kernels.hpp"

namespace torchlean::runtime::detail {

namespace {

// Lanes [0, n) selected (sign bit set), for maskload/maskstore.
__m256i lane_mask32(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
__m256i lane_mask64(int n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

struct Avx2F32 {
  using T = float;
  using V = __m256;
  static constexpr int lanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V load_n(const T* p, int n) { return _mm256_maskload_ps(p, lane_mask32(n)); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void store_n(T* p, V v, int n) { _mm256_maskstore_ps(p, lane_mask32(n), v); }
  static V bcast(T x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V canon(V x) {
    return _mm256_blendv_ps(x, _mm256_set1_ps(__builtin_nanf("")),
                            _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  }
  static void transpose(V* r) {
    V t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int h = 0; h < 2; ++h) {
      s[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], _MM_SHUFFLE(1, 0, 1, 0));
      s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], _MM_SHUFFLE(3, 2, 3, 2));
      s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], _MM_SHUFFLE(1, 0, 1, 0));
      s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int q = 0; q < 4; ++q) {
      r[q] = _mm256_permute2f128_ps(s[q], s[4 + q], 0x20);
      r[4 + q] = _mm256_permute2f128_ps(s[q], s[4 + q], 0x31);
    }
  }
};

struct Avx2F64 {
  using T = double;
  using V = __m256d;
  static constexpr int lanes = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V load_n(const T* p, int n) { return _mm256_maskload_pd(p, lane_mask64(n)); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void store_n(T* p, V v, int n) { _mm256_maskstore_pd(p, lane_mask64(n), v); }
  static V bcast(T x) { return _mm256_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V canon(V x) {
    return _mm256_blendv_pd(x, _mm256_set1_pd(__builtin_nan("")),
                            _mm256_cmp_pd(x, x, _CMP_UNORD_Q));
  }
  static void transpose(V* r) {
    V t0 = _mm256_unpacklo_pd(r[0], r[1]);
    V t1 = _mm256_unpackhi_pd(r[0], r[1]);
    V t2 = _mm256_unpacklo_pd(r[2], r[3]);
    V t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
  }
};

// Narrow tiles (one vector wide) for n <= 8 / 4.
constexpr GemmKernels<float> kF32Narrow{.mr = 12,
                                        .nr = 8,
                                        .kc = 256,
                                        .mc = 480,
                                        .nc = 4096,
                                        .micro = &micro_kernel<Avx2F32, 12, 1, true>,
                                        .micro_direct_a = &micro_kernel<Avx2F32, 12, 1, false>,
                                        .pack_a = &pack_a<Avx2F32, 12>,
                                        .pack_b = &pack_b<Avx2F32, 1>};
constexpr GemmKernels<float> kF32{.mr = 6,
                                  .nr = 16,
                                  .kc = 256,
                                  .mc = 480,
                                  .nc = 4096,
                                  .micro = &micro_kernel<Avx2F32, 6, 2, true>,
                                  .micro_direct_a = &micro_kernel<Avx2F32, 6, 2, false>,
                                  .pack_a = &pack_a<Avx2F32, 6>,
                                  .pack_b = &pack_b<Avx2F32, 2>,
                                  .narrow = &kF32Narrow,
                                  .small_m = &small_m_kernel<Avx2F32, 4, 2>,
                                  .small_m_max = 8,
                                  .small_n_chunk = 64};
constexpr GemmKernels<double> kF64Narrow{.mr = 12,
                                         .nr = 4,
                                         .kc = 256,
                                         .mc = 240,
                                         .nc = 2048,
                                         .micro = &micro_kernel<Avx2F64, 12, 1, true>,
                                         .micro_direct_a = &micro_kernel<Avx2F64, 12, 1, false>,
                                         .pack_a = &pack_a<Avx2F64, 12>,
                                         .pack_b = &pack_b<Avx2F64, 1>};
constexpr GemmKernels<double> kF64{.mr = 6,
                                   .nr = 8,
                                   .kc = 256,
                                   .mc = 240,
                                   .nc = 2048,
                                   .micro = &micro_kernel<Avx2F64, 6, 2, true>,
                                   .micro_direct_a = &micro_kernel<Avx2F64, 6, 2, false>,
                                   .pack_a = &pack_a<Avx2F64, 6>,
                                   .pack_b = &pack_b<Avx2F64, 2>,
                                   .narrow = &kF64Narrow,
                                   .small_m = &small_m_kernel<Avx2F64, 4, 2>,
                                   .small_m_max = 8,
                                   .small_n_chunk = 32};

}  // namespace

const GemmKernels<float>& gemm_kernels_avx2_f32() { return kF32; }
const GemmKernels<double>& gemm_kernels_avx2_f64() { return kF64; }

}  // namespace torchlean::runtime::detail
