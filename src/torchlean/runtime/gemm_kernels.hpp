// Internal interface between the exact-order GEMM driver (gemm_exact.cpp, compiled for the
// baseline ISA) and its instruction-set kernels (gemm_portable.cpp, gemm_avx2.cpp,
// gemm_avx512.cpp, each compiled with its own -m flags and only called after a CPU check).
// The kernel files hold nothing but kernels in anonymous namespaces plus one accessor each, so no
// inline function compiled with AVX-512 can be picked by the linker for baseline code.
#pragma once
#include <cstdint>

namespace torchlean::runtime::detail {

// Every kernel keeps each C element's order: acc = fma(a, b, acc) over increasing k.
template <class T>
struct GemmKernels {
  int mr = 0, nr = 0;              // register tile of the packed micro-kernel
  int64_t kc = 0, mc = 0, nc = 0;  // cache blocking of the packed path (kc rows of B per pass)

  // One full mr x nr tile of C (row stride ldc) over kc steps from a packed B sliver
  // b[p*nr + j] = B[k0+p, j] and a packed A sliver a[p*mr + i] = A[i, k0+p] (lda unused).
  // first: start from +0, else from C. last: then add the bias when non-null (bias[0..nr) per
  // column, or bias[0..mr) per row when bias_rows) and canonicalise NaN.
  using Micro = void (*)(int64_t kc, const T* a, int64_t lda, const T* b, T* c, int64_t ldc,
                         bool first, bool last, const T* bias, bool bias_rows);
  Micro micro = nullptr;
  // The same with A read in place, a[i*lda + p] (all mr rows must exist): used when few B panels
  // share each A sliver, so packing A would cost more than it saves.
  Micro micro_direct_a = nullptr;
  // Packing (same layouts as above, zero-padded): A[0:rows, 0:kc) with row stride lda into an mr
  // sliver; B[0:kc, 0:cols) into an nr panel, b at B[0,0] (row stride ldb, or transposed).
  void (*pack_a)(const T* a, int64_t lda, int rows, int64_t kc, T* dst) = nullptr;
  void (*pack_b)(const T* b, int64_t ldb, bool b_transposed, int cols, int64_t kc,
                 T* dst) = nullptr;
  // A variant with a narrower tile for products with n <= its nr (null if none).
  const GemmKernels* narrow = nullptr;

  // Unpacked path for few rows (m <= small_m_max): C[0:m, j0:j1) over the whole k range, reading A
  // and B in place (B transposed or not), bias and NaN canonicalisation included. Null when the
  // ISA has none. The driver splits [0, n) into column chunks of small_n_chunk (a multiple of the
  // kernel's column block) and runs them as tasks.
  void (*small_m)(int64_t m, int64_t j0, int64_t j1, int64_t k, const T* a, int64_t lda, const T* b,
                  int64_t ldb, bool b_transposed, T* c, int64_t ldc, const T* bias,
                  bool bias_rows) = nullptr;
  int64_t small_m_max = 0;
  int64_t small_n_chunk = 0;
};

const GemmKernels<float>& gemm_kernels_portable_f32();
const GemmKernels<double>& gemm_kernels_portable_f64();
const GemmKernels<float>& gemm_kernels_avx2_f32();
const GemmKernels<double>& gemm_kernels_avx2_f64();
const GemmKernels<float>& gemm_kernels_avx512_f32();
const GemmKernels<double>& gemm_kernels_avx512_f64();

}  // namespace torchlean::runtime::detail
