// The error bound gemm_fast declares (derivation in docs/runtime.md, "GEMM and conv kernels").
// For C[i,j], with S = sum_k |A[i,k] B[k,j]|, n = K, u the unit roundoff (2^-24 or 2^-53),
// eta the underflow unit (2^-150, or 2^-1074 >= 2^-1075 for binary64), g = gamma_n = n u/(1-n u):
//   any summation order of the K products, with or without fma, is within E = g S + n eta (1+g)
//   of the exact dot product, so |fast - exact_order| <= D = 2 E before the bias;
//   with a bias, each side rounds x = dot + bias once more (|error| <= u |x|, exact when x is
//   subnormal), and |x| <= M = (1+g) S + n eta (1+g) + |bias|, so the bound is D + 2 u M.
// Everything is evaluated in binary64 under FE_UPWARD (this file is compiled with
// -frounding-math so the compiler keeps the rounding mode), every term is nonnegative, so each
// computed quantity is >= the real one. The bound is +inf where it says nothing: a non-finite
// input in the row, column or its bias, K u >= 1/2, or M >= the largest finite T (an overflow could
// occur somewhere).
#include <cfenv>
#include <cmath>
#include <limits>
#include <vector>

#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {

namespace {

// Upward rounding on this thread for the lifetime of the guard.
class UpwardRounding {
 public:
  UpwardRounding() : saved_(std::fegetround()) { std::fesetround(FE_UPWARD); }
  ~UpwardRounding() { std::fesetround(saved_); }
  UpwardRounding(const UpwardRounding&) = delete;
  UpwardRounding& operator=(const UpwardRounding&) = delete;

 private:
  int saved_;
};

template <class T>
struct Units;
template <>
struct Units<float> {
  static constexpr double u = 0x1p-24;
  static constexpr double eta = 0x1p-150;
};
template <>
struct Units<double> {
  static constexpr double u = 0x1p-53;
  static constexpr double eta = 0x1p-1074;
};

}  // namespace

template <class T>
void gemm_fast_bound(const GemmProblem<T>& p, T* bound, int64_t ldbound, ThreadPool* pool) {
  if (p.m <= 0 || p.n <= 0) return;
  const int64_t m = p.m, n = p.n, k = p.k;
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double u = Units<T>::u, eta = Units<T>::eta;
  const double max_t = static_cast<double>(std::numeric_limits<T>::max());

  // |B| in binary64, k x n, non-finite entries zeroed and their columns marked void.
  std::vector<double> abs_b(static_cast<size_t>(k * n));
  std::vector<char> col_void(static_cast<size_t>(n), 0);
  for (int64_t q = 0; q < k; ++q) {
    for (int64_t j = 0; j < n; ++j) {
      const T v = p.b_transposed ? p.b[j * p.ldb + q] : p.b[q * p.ldb + j];
      if (!std::isfinite(v)) {
        col_void[static_cast<size_t>(j)] = 1;
        abs_b[static_cast<size_t>(q * n + j)] = 0.0;
      } else {
        abs_b[static_cast<size_t>(q * n + j)] = std::fabs(static_cast<double>(v));
      }
    }
  }
  if (p.bias != nullptr && !p.bias_per_row)
    for (int64_t j = 0; j < n; ++j)
      if (!std::isfinite(p.bias[j])) col_void[static_cast<size_t>(j)] = 1;

  auto row_task = [&](int64_t i) {
    UpwardRounding upward;
    // g = n u / (1 - n u): n u is exact; -(n u - 1) rounded up is a lower bound of 1 - n u.
    const double nu = static_cast<double>(k) * u;
    const bool usable = nu < 0.5;
    const double den = -(nu - 1.0);
    const double g = nu / den;
    const double under = static_cast<double>(k) * eta * (1.0 + g);
    std::vector<double> s(static_cast<size_t>(n), 0.0);
    bool row_void = !usable || (p.bias != nullptr && p.bias_per_row && !std::isfinite(p.bias[i]));
    const T* a_row = p.a + i * p.lda;
    for (int64_t q = 0; q < k; ++q) {
      const T av = a_row[q];
      if (!std::isfinite(av)) {
        row_void = true;
        continue;
      }
      const double aq = std::fabs(static_cast<double>(av));
      const double* bq = abs_b.data() + q * n;
      for (int64_t j = 0; j < n; ++j) s[static_cast<size_t>(j)] += aq * bq[j];
    }
    T* out = bound + i * ldbound;
    for (int64_t j = 0; j < n; ++j) {
      const double sj = s[static_cast<size_t>(j)];
      double b = inf;
      if (!row_void && !col_void[static_cast<size_t>(j)]) {
        const double d = 2.0 * (g * sj + under);
        double mag = (1.0 + g) * sj + under;
        if (p.bias != nullptr)
          mag = mag + std::fabs(static_cast<double>(p.bias[p.bias_per_row ? i : j]));
        if (mag < max_t) b = p.bias != nullptr ? d + 2.0 * u * mag : d;
      }
      // Under FE_UPWARD the conversion to binary32 rounds up as well.
      out[j] = static_cast<T>(b);
    }
  };
  if (pool != nullptr && pool->size() > 1 && m > 1)
    pool->parallel_for(m, row_task);
  else
    for (int64_t i = 0; i < m; ++i) row_task(i);
}

template void gemm_fast_bound<float>(const GemmProblem<float>&, float*, int64_t, ThreadPool*);
template void gemm_fast_bound<double>(const GemmProblem<double>&, double*, int64_t, ThreadPool*);

}  // namespace torchlean::runtime
