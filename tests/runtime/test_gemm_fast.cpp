// Tests of gemm_fast (OpenBLAS) and the bound it declares: fast results are inside the bound of
// the exact-order results on random inputs (no tolerance beyond the bound), the bound's half
// covers each side's distance to the exact rational value (GMP), a result pushed past the bound
// is rejected, and the claim is void (+inf) exactly where inputs are not finite.
#include <gmpxx.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "linalg_test_util.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {
namespace {

using testing::random_vector;

template <class T>
struct Case {
  int64_t m, n, k;
  bool bt;
  std::vector<T> a, b, bias;
  bool bias_rows = false;  // bias has m entries, one per row
  std::vector<T> exact, fast, bound;

  Case(int64_t m_, int64_t n_, int64_t k_, bool bt_, std::vector<T> a_, std::vector<T> b_,
       std::vector<T> bias_)
      : m(m_), n(n_), k(k_), bt(bt_), a(std::move(a_)), b(std::move(b_)), bias(std::move(bias_)) {}

  GemmProblem<T> view(T* c) const {
    return GemmProblem<T>{m,
                          n,
                          k,
                          a.data(),
                          k,
                          b.data(),
                          bt ? k : n,
                          bt,
                          c,
                          n,
                          bias.empty() ? nullptr : bias.data(),
                          bias_rows};
  }
  void run(ThreadPool* pool) {
    const size_t mn = static_cast<size_t>(m * n);
    // C's old contents must not leak into the result (beta = 0 must not multiply a NaN).
    exact.assign(mn, std::numeric_limits<T>::quiet_NaN());
    fast.assign(mn, std::numeric_limits<T>::quiet_NaN());
    bound.assign(mn, T(0));
    gemm_exact(view(exact.data()), pool);
    gemm_fast(view(fast.data()), pool);
    gemm_fast_bound(view(nullptr), bound.data(), n, pool);
  }
  T at_b(int64_t q, int64_t j) const {
    return bt ? b[static_cast<size_t>(j * k + q)] : b[static_cast<size_t>(q * n + j)];
  }
  // sum_q A[i,q] B[q,j] (+ bias[j]) in exact rational arithmetic.
  mpq_class true_value(int64_t i, int64_t j) const {
    mpq_class s = 0;
    for (int64_t q = 0; q < k; ++q)
      s += mpq_class(static_cast<double>(a[static_cast<size_t>(i * k + q)])) *
           mpq_class(static_cast<double>(at_b(q, j)));
    if (!bias.empty())
      s += mpq_class(static_cast<double>(bias[static_cast<size_t>(bias_rows ? i : j)]));
    return s;
  }
};

// bias: 0 none, 1 per column, 2 per row.
template <class T>
Case<T> random_case(std::mt19937_64& rng, int64_t m, int64_t n, int64_t k, bool bt, int bias,
                    double special) {
  Case<T> c(m, n, k, bt, random_vector<T>(rng, m * k, special),
            random_vector<T>(rng, k * n, special),
            bias != 0 ? random_vector<T>(rng, bias == 2 ? m : n, special) : std::vector<T>{});
  c.bias_rows = bias == 2;
  return c;
}

template <class T>
void expect_fast_within_bound(double special) {
  std::mt19937_64 rng(99 + sizeof(T));
  ThreadPool two(2);
  const int64_t shapes[][3] = {{1, 1, 1},    {1, 40, 700},   {7, 13, 97}, {33, 65, 300},
                               {64, 64, 64}, {100, 9, 1000}, {3, 5, 0}};
  int64_t finite_bounds = 0;
  for (const auto& s : shapes) {
    for (bool bt : {false, true}) {
      for (int bias : {0, 1, 2}) {
        for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &two}) {
          Case<T> c = random_case<T>(rng, s[0], s[1], s[2], bt, bias, special);
          c.run(pool);
          for (size_t e = 0; e < c.exact.size(); ++e) {
            finite_bounds += std::isfinite(c.bound[e]);
            EXPECT_TRUE(within_bound(c.fast[e], c.exact[e], c.bound[e]))
                << "m=" << s[0] << " n=" << s[1] << " k=" << s[2] << " element " << e << ": fast "
                << testing::show(c.fast[e]) << ", exact " << testing::show(c.exact[e]) << ", bound "
                << testing::show(c.bound[e]);
          }
        }
      }
    }
  }
  EXPECT_GT(finite_bounds, 0);
}

TEST(GemmFast, WithinItsBoundFloat) { expect_fast_within_bound<float>(0.0); }
TEST(GemmFast, WithinItsBoundDouble) { expect_fast_within_bound<double>(0.0); }
TEST(GemmFast, WithinItsBoundWithSpecialsFloat) { expect_fast_within_bound<float>(0.01); }
TEST(GemmFast, WithinItsBoundWithSpecialsDouble) { expect_fast_within_bound<double>(0.01); }

// Half the bound covers |computed - exact rational| for both kernels: this checks the derivation
// (gamma_n, the bias rounding, the underflow term) independently of how close the kernels are.
template <class T>
void expect_half_bound_covers_true_value(Case<T>& c) {
  c.run(nullptr);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      const size_t e = static_cast<size_t>(i * c.n + j);
      ASSERT_TRUE(std::isfinite(c.bound[e])) << "element " << e;
      const mpq_class truth = c.true_value(i, j);
      const mpq_class half = mpq_class(static_cast<double>(c.bound[e])) / 2;
      for (T got : {c.exact[e], c.fast[e]}) {
        ASSERT_TRUE(std::isfinite(got));
        EXPECT_LE(abs(mpq_class(static_cast<double>(got)) - truth), half)
            << "element " << e << ": " << testing::show(got) << " bound "
            << testing::show(c.bound[e]);
      }
    }
  }
}

TEST(GemmFast, HalfBoundCoversTheExactRationalValue) {
  std::mt19937_64 rng(5);
  for (bool bt : {false, true}) {
    for (int bias : {0, 1, 2}) {
      Case<float> f = random_case<float>(rng, 5, 9, 200, bt, bias, 0.0);
      expect_half_bound_covers_true_value(f);
      Case<double> d = random_case<double>(rng, 4, 6, 150, bt, bias, 0.0);
      expect_half_bound_covers_true_value(d);
    }
  }
}

// With k = 1 or 2 the rounding errors come close to the worst case (a product's relative error is
// up to u), so these cases also catch a bound that is too small by a constant factor.
TEST(GemmFast, HalfBoundCoversShortDotProducts) {
  std::mt19937_64 rng(12);
  for (int64_t k : {1, 2}) {
    for (int bias : {0, 1}) {
      Case<float> f = random_case<float>(rng, 20, 20, k, false, bias, 0.0);
      expect_half_bound_covers_true_value(f);
      Case<double> d = random_case<double>(rng, 20, 20, k, true, bias, 0.0);
      expect_half_bound_covers_true_value(d);
    }
  }
}

// Products below the subnormal range: 2^-80 * 2^-80 = 2^-160 underflows in binary32, so only the
// n*eta term of the bound can cover the loss.
TEST(GemmFast, BoundCoversUnderflow) {
  std::mt19937_64 rng(6);
  const int64_t k = 64;
  std::vector<float> a(static_cast<size_t>(3 * k)), b(static_cast<size_t>(k * 4));
  for (float& x : a)
    x = std::ldexp(1.0f + static_cast<float>(rng() % 100) / 128.0f, -80) *
        ((rng() & 1) ? 1.f : -1.f);
  for (float& x : b)
    x = std::ldexp(1.0f + static_cast<float>(rng() % 100) / 128.0f, -72) *
        ((rng() & 1) ? 1.f : -1.f);
  Case<float> c(3, 4, k, false, a, b, {});
  expect_half_bound_covers_true_value(c);
  Case<double> d(3, 4, k, false,
                 std::vector<double>(static_cast<size_t>(3 * k), std::ldexp(1.5, -540)),
                 std::vector<double>(static_cast<size_t>(k * 4), std::ldexp(-1.25, -530)), {});
  expect_half_bound_covers_true_value(d);
}

// The first T beyond `exact` by more than `bound` (the check must reject it).
template <class T>
T pushed_past(T exact, T bound) {
  T bad = static_cast<T>(static_cast<double>(exact) + 1.5 * static_cast<double>(bound));
  while (std::fabs(static_cast<double>(bad) - static_cast<double>(exact)) <=
         static_cast<double>(bound))
    bad = std::nextafter(bad, std::numeric_limits<T>::infinity());
  return bad;
}

template <class T>
void expect_perturbation_caught() {
  std::mt19937_64 rng(8);
  Case<T> c = random_case<T>(rng, 9, 11, 300, true, 1, 0.0);
  c.run(nullptr);
  int64_t caught = 0;
  for (size_t e = 0; e < c.exact.size(); ++e) {
    ASSERT_TRUE(std::isfinite(c.bound[e]));
    const T bad = pushed_past(c.exact[e], c.bound[e]);
    EXPECT_FALSE(within_bound(bad, c.exact[e], c.bound[e])) << "element " << e;
    caught += !within_bound(bad, c.exact[e], c.bound[e]);
  }
  EXPECT_EQ(caught, static_cast<int64_t>(c.exact.size()));
}

TEST(GemmFast, PerturbedResultIsOutsideTheBound) {
  expect_perturbation_caught<float>();
  expect_perturbation_caught<double>();
}

TEST(GemmFast, WithinBoundSemantics) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(within_bound(1.0f, 1.0f, 0.0f));
  EXPECT_FALSE(within_bound(std::nextafter(1.0f, 2.0f), 1.0f, 0.0f));
  EXPECT_TRUE(within_bound(std::nextafter(1.0f, 2.0f), 1.0f, std::ldexp(1.0f, -23)));
  EXPECT_TRUE(within_bound(-0.0f, 0.0f, 0.0f));
  EXPECT_TRUE(within_bound(nan, nan, 0.0f));
  EXPECT_FALSE(within_bound(nan, 1.0f, 1e30f));
  EXPECT_FALSE(within_bound(1.0f, nan, 1e30f));
  EXPECT_FALSE(within_bound(inf, 1.0f, 1e30f));
  EXPECT_TRUE(within_bound(inf, inf, 0.0f));
  EXPECT_TRUE(within_bound(nan, 1.0f, inf));  // a void claim accepts anything
  EXPECT_FALSE(within_bound(1.0f, 2.0f, nan));
}

// Row 1 of A holds an inf, column 2 of B a NaN, bias[3] an inf: exactly those outputs have a void
// (+inf) bound; the rest stay finite.
TEST(GemmFast, ClaimIsVoidExactlyWhereInputsAreNotFinite) {
  std::mt19937_64 rng(10);
  for (bool bt : {false, true}) {
    Case<float> c = random_case<float>(rng, 4, 5, 6, bt, 1, 0.0);
    c.a[static_cast<size_t>(1 * 6 + 4)] = std::numeric_limits<float>::infinity();
    const int64_t q = 3, j = 2;
    c.b[static_cast<size_t>(bt ? j * 6 + q : q * 5 + j)] = std::numeric_limits<float>::quiet_NaN();
    c.bias[3] = -std::numeric_limits<float>::infinity();
    c.run(nullptr);
    for (int64_t i = 0; i < 4; ++i) {
      for (int64_t jj = 0; jj < 5; ++jj) {
        const bool void_claim = i == 1 || jj == 2 || jj == 3;
        EXPECT_EQ(std::isinf(c.bound[static_cast<size_t>(i * 5 + jj)]), void_claim)
            << i << "," << jj;
      }
    }
  }
}

TEST(GemmFast, RowBiasVoidsItsRow) {
  std::mt19937_64 rng(11);
  Case<double> c = random_case<double>(rng, 4, 5, 6, false, 2, 0.0);
  c.bias[2] = std::numeric_limits<double>::quiet_NaN();
  c.run(nullptr);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 5; ++j)
      EXPECT_EQ(std::isinf(c.bound[static_cast<size_t>(i * 5 + j)]), i == 2) << i << "," << j;
}

TEST(GemmFast, ClaimIsVoidWhenMagnitudesCouldOverflow) {
  const float big = std::numeric_limits<float>::max() / 2;
  Case<float> c(1, 1, 3, false, {big, big, -big}, {1.0f, 1.0f, 1.0f}, {});
  c.run(nullptr);
  EXPECT_TRUE(std::isinf(c.bound[0]));
}

}  // namespace
}  // namespace torchlean::runtime
