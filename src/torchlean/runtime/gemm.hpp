// Matrix products for the compiled runtime (matmul, linear, conv via im2col), binary32 and
// binary64.
//
// gemm_exact is exact-order: every C element is the left fold acc = fma(A[i,k], B[k,j], acc) over
// k = 0..K-1 from +0, then + bias (one rounding), then NaN -> canonical quiet NaN. That is the
// reference order of ops/linalg.cpp (DESIGN §3.3), so the result is bit-identical to the reference
// F32/F64 evaluator. Packing, register blocking and k-blocking (the partial accumulator is stored
// in C and reloaded, the same value) do not change any element's sequence of roundings; threads
// split output tiles, never k, so the bits do not depend on the thread count or the ISA path.
//
// gemm_fast calls OpenBLAS (any summation order) and declares the bound computed by
// gemm_fast_bound: |gemm_fast - gemm_exact| <= B elementwise (docs/runtime.md derives it).
#pragma once
#include <cstdint>

namespace torchlean::runtime {

class ThreadPool;

// C (m x n, row stride ldc) = A (m x k, row stride lda) . B (+ bias). B is k x n with row stride
// ldb, or, when b_transposed, stored as its transpose (n x k, row stride ldb), e.g. linear's W
// (out, in). bias is null or has n entries (one per column, as linear's), or m entries (one per
// row, as conv's per output channel) when bias_per_row. C must not overlap A, B or bias. No shape
// checks: the caller (the compiler) has validated the problem.
template <class T>
struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  const T* a = nullptr;
  int64_t lda = 0;
  const T* b = nullptr;
  int64_t ldb = 0;
  bool b_transposed = false;
  T* c = nullptr;
  int64_t ldc = 0;
  const T* bias = nullptr;
  bool bias_per_row = false;
};

// Instruction-set paths of the exact-order GEMM, chosen at run time by CPU feature.
enum class GemmPath { portable, avx2, avx512 };
const char* gemm_path_name(GemmPath path);
// Whether this CPU (and OS) can run `path`; portable always can.
bool gemm_path_supported(GemmPath path);
// The fastest supported path: avx512 (AVX-512F), else avx2 (AVX2 + FMA), else portable.
GemmPath gemm_default_path();

// Exact-order product on the default path. pool may be null (single-threaded). Does not allocate
// in steady state (packing buffers are per calling thread and only grow).
template <class T>
void gemm_exact(const GemmProblem<T>& p, ThreadPool* pool);
// The same on a chosen path (a test and benchmark hook; every path gives the same bits). Throws
// UserError when the CPU does not support it.
template <class T>
void gemm_exact(const GemmProblem<T>& p, ThreadPool* pool, GemmPath path);

// OpenBLAS sgemm/dgemm, then + bias, NaN canonicalised. OpenBLAS runs with pool->size() threads
// (1 when pool is null), set with openblas_set_num_threads before the call.
template <class T>
void gemm_fast(const GemmProblem<T>& p, ThreadPool* pool);

// The bound gemm_fast declares, for the inputs of p (p.c is not read): bound[i*ldbound + j] >=
// |gemm_fast(p)[i,j] - gemm_exact(p)[i,j]|, computed with upward rounding. +inf where the claim
// is void: a non-finite input in row i of A, column j of B or the element's bias, or magnitudes
// that could overflow. Allocates; meant for the equivalence checker, not the hot path.
template <class T>
void gemm_fast_bound(const GemmProblem<T>& p, T* bound, int64_t ldbound, ThreadPool* pool);

// Whether `fast` is inside `bound` of `exact`: bit-equal, or |fast - exact| <= bound (a +inf
// bound accepts anything). A NaN on one side only, or a NaN bound, is outside.
template <class T>
bool within_bound(T fast, T exact, T bound);

}  // namespace torchlean::runtime
