// gemm_fast: OpenBLAS sgemm/dgemm (any summation order, its own threads), then the bias and NaN
// canonicalisation; and within_bound, the comparison the equivalence checker applies to it. The
// bound itself is in gemm_bound.cpp (compiled with -frounding-math).
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {

namespace {

// OpenBLAS's thread count is global: set it only when it changes (setting it is not free).
void use_openblas_threads(int threads) {
  static std::atomic<int> current{-1};
  if (current.exchange(threads) != threads) openblas_set_num_threads(threads);
}

void blas_gemm(const GemmProblem<float>& p) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, p.b_transposed ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(p.m), static_cast<blasint>(p.n), static_cast<blasint>(p.k), 1.0f,
              p.a, static_cast<blasint>(p.lda), p.b, static_cast<blasint>(p.ldb), 0.0f, p.c,
              static_cast<blasint>(p.ldc));
}
void blas_gemm(const GemmProblem<double>& p) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, p.b_transposed ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(p.m), static_cast<blasint>(p.n), static_cast<blasint>(p.k), 1.0,
              p.a, static_cast<blasint>(p.lda), p.b, static_cast<blasint>(p.ldb), 0.0, p.c,
              static_cast<blasint>(p.ldc));
}

}  // namespace

template <class T>
void gemm_fast(const GemmProblem<T>& p, ThreadPool* pool) {
  if (p.m <= 0 || p.n <= 0) return;
  constexpr int64_t blas_max = std::numeric_limits<blasint>::max();
  if (std::max({p.m, p.n, p.k, p.lda, p.ldb, p.ldc}) > blas_max) {
    // Beyond OpenBLAS's 32-bit interface: the exact-order product is trivially inside the bound.
    gemm_exact(p, pool);
    return;
  }
  if (p.k > 0) {
    use_openblas_threads(pool != nullptr ? pool->size() : 1);
    blas_gemm(p);
  } else {
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j) p.c[i * p.ldc + j] = T(0);
  }
  constexpr T qnan = std::numeric_limits<T>::quiet_NaN();
  for (int64_t i = 0; i < p.m; ++i) {
    T* row = p.c + i * p.ldc;
    if (p.bias != nullptr && p.bias_per_row)
      for (int64_t j = 0; j < p.n; ++j) row[j] = row[j] + p.bias[i];
    else if (p.bias != nullptr)
      for (int64_t j = 0; j < p.n; ++j) row[j] = row[j] + p.bias[j];
    for (int64_t j = 0; j < p.n; ++j)
      if (row[j] != row[j]) row[j] = qnan;
  }
}

template <class T>
bool within_bound(T fast, T exact, T bound) {
  if (std::memcmp(&fast, &exact, sizeof(T)) == 0) return true;
  if (std::isnan(bound)) return false;
  if (bound == std::numeric_limits<T>::infinity()) return true;
  if (!std::isfinite(fast) || !std::isfinite(exact)) return false;
  // In binary64 the difference of two binary32 values is nearly exact; for binary64 it is rounded
  // once, which can only accept a difference within half an ulp of the bound.
  const double diff = std::fabs(static_cast<double>(fast) - static_cast<double>(exact));
  return diff <= static_cast<double>(bound);
}

template void gemm_fast<float>(const GemmProblem<float>&, ThreadPool*);
template void gemm_fast<double>(const GemmProblem<double>&, ThreadPool*);
template bool within_bound<float>(float, float, float);
template bool within_bound<double>(double, double, double);

}  // namespace torchlean::runtime
