// Portable kernels of the exact-order GEMM: the same loop structure as the SIMD paths with one
// lane per "vector" and the C library's fma (correctly rounded on every platform, software on
// CPUs without an FMA unit). The fallback for CPUs without AVX2 + FMA.
#include "torchlean/runtime/gemm_kernel_impl.hpp"
#include "torchlean/runtime/gemm_kernels.hpp"

namespace torchlean::runtime::detail {

namespace {

template <class Scalar>
struct Scalar1 {
  using T = Scalar;
  using V = Scalar;
  static constexpr int lanes = 1;
  static V zero() { return V(0); }
  static V load(const T* p) { return *p; }
  static V load_n(const T* p, int n) { return n > 0 ? *p : V(0); }
  static void store(T* p, V v) { *p = v; }
  static void store_n(T* p, V v, int n) {
    if (n > 0) *p = v;
  }
  static V bcast(T x) { return x; }
  static V fma(V a, V b, V c) {
    if constexpr (sizeof(T) == 4)
      return __builtin_fmaf(a, b, c);
    else
      return __builtin_fma(a, b, c);
  }
  static V add(V a, V b) { return a + b; }
  static V canon(V x) {
    if (x == x) return x;
    if constexpr (sizeof(T) == 4)
      return __builtin_nanf("");
    else
      return __builtin_nan("");
  }
  static void transpose(V*) {}
};

constexpr GemmKernels<float> kF32{.mr = 4,
                                  .nr = 4,
                                  .kc = 256,
                                  .mc = 64,
                                  .nc = 1024,
                                  .micro = &micro_kernel<Scalar1<float>, 4, 4, true>,
                                  .micro_direct_a = &micro_kernel<Scalar1<float>, 4, 4, false>,
                                  .pack_a = &pack_a<Scalar1<float>, 4>,
                                  .pack_b = &pack_b<Scalar1<float>, 4>,
                                  .small_m = &small_m_kernel<Scalar1<float>, 4, 4>,
                                  .small_m_max = 8,
                                  .small_n_chunk = 64};
constexpr GemmKernels<double> kF64{.mr = 4,
                                   .nr = 4,
                                   .kc = 256,
                                   .mc = 64,
                                   .nc = 1024,
                                   .micro = &micro_kernel<Scalar1<double>, 4, 4, true>,
                                   .micro_direct_a = &micro_kernel<Scalar1<double>, 4, 4, false>,
                                   .pack_a = &pack_a<Scalar1<double>, 4>,
                                   .pack_b = &pack_b<Scalar1<double>, 4>,
                                   .small_m = &small_m_kernel<Scalar1<double>, 4, 4>,
                                   .small_m_max = 8,
                                   .small_n_chunk = 64};

}  // namespace

const GemmKernels<float>& gemm_kernels_portable_f32() { return kF32; }
const GemmKernels<double>& gemm_kernels_portable_f64() { return kF64; }

}  // namespace torchlean::runtime::detail
