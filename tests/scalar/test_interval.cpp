// Interval<float>, Interval<double>: sampling soundness with zero tolerance (random intervals,
// random points inside, the exact rational or MPFR value of the operation at the points must lie
// inside the result) plus exactness, overflow and the documented rules for division by zero,
// sqrt and log.
#include <gtest/gtest.h>
#include <gmpxx.h>
#include <mpfr.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/scalar/elementary.hpp"
#include "torchlean/scalar/interval.hpp"

namespace torchlean {
namespace {

mpq_class exact(double x) {
  mpq_class q;
  mpq_set_d(q.get_mpq_t(), x);
  return q;
}

template <class F>
bool contains(const Interval<F>& r, const mpq_class& v) {
  const bool lo_ok = r.lo == -std::numeric_limits<F>::infinity() || (std::isfinite(r.lo) && exact(r.lo) <= v);
  const bool hi_ok = r.hi == std::numeric_limits<F>::infinity() || (std::isfinite(r.hi) && v <= exact(r.hi));
  return lo_ok && hi_ok && !std::isnan(r.lo) && !std::isnan(r.hi);
}

// Whether [r.lo, r.hi] contains the 256-bit MPFR value of f(x) (compared exactly).
template <class F>
bool contains_mpfr(const Interval<F>& r, Elementary f, F x) {
  mpfr_t a, v;
  mpfr_inits2(256, a, v, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_d(a, static_cast<double>(x), MPFR_RNDN);
  switch (f) {
    case Elementary::exp: mpfr_exp(v, a, MPFR_RNDN); break;
    case Elementary::log: mpfr_log(v, a, MPFR_RNDN); break;
    case Elementary::tanh: mpfr_tanh(v, a, MPFR_RNDN); break;
    case Elementary::sin: mpfr_sin(v, a, MPFR_RNDN); break;
    case Elementary::cos: mpfr_cos(v, a, MPFR_RNDN); break;
    case Elementary::erf: mpfr_erf(v, a, MPFR_RNDN); break;
    case Elementary::sigmoid:
      mpfr_neg(v, a, MPFR_RNDN);
      mpfr_exp(v, v, MPFR_RNDN);
      mpfr_add_ui(v, v, 1, MPFR_RNDN);
      mpfr_ui_div(v, 1, v, MPFR_RNDN);
      break;
  }
  const bool ok = mpfr_cmp_d(v, static_cast<double>(r.lo)) >= 0 && mpfr_cmp_d(v, static_cast<double>(r.hi)) <= 0;
  mpfr_clears(a, v, static_cast<mpfr_ptr>(nullptr));
  return ok;
}

template <class F>
class Sampler {
 public:
  explicit Sampler(uint64_t seed) : rng_(seed) {}
  double unit() { return static_cast<double>(rng_.next() >> 11) * 0x1p-53; }
  // Mostly moderate magnitudes, sometimes zero, tiny (subnormal) or near overflow.
  F value(int max_exp = 30) {
    const uint64_t kind = rng_.next() % 16;
    const double sign = rng_.next() % 2 ? -1.0 : 1.0;
    if (kind == 0) return F(0);
    if (kind == 1) return static_cast<F>(sign * std::numeric_limits<F>::denorm_min() * static_cast<double>(1 + rng_.next() % 1000));
    if (kind == 2) return static_cast<F>(sign * std::numeric_limits<F>::max() * (0.5 + 0.5 * unit()));
    const int e = static_cast<int>(rng_.next() % static_cast<uint64_t>(2 * max_exp + 1)) - max_exp;
    return static_cast<F>(sign * std::ldexp(1.0 + unit(), e));
  }
  Interval<F> interval(int max_exp = 30) {
    F a = value(max_exp), b = rng_.next() % 8 == 0 ? a : value(max_exp);
    if (a > b) std::swap(a, b);
    return Interval<F>::of(a, b);
  }
  // Points of the interval: both ends and random ones between.
  std::vector<F> points(const Interval<F>& r) {
    std::vector<F> out = {r.lo, r.hi};
    for (int i = 0; i < 4; ++i) {
      const double t = unit();
      F x = static_cast<F>(static_cast<double>(r.lo) * (1 - t) + static_cast<double>(r.hi) * t);
      if (!(x >= r.lo)) x = r.lo;
      if (!(x <= r.hi)) x = r.hi;
      out.push_back(x);
    }
    return out;
  }

 private:
  SplitMix64 rng_;
};

template <class F>
void check_arithmetic(uint64_t seed) {
  Sampler<F> s(seed);
  int failures = 0;
  for (int i = 0; i < 3000 && failures < 5; ++i) {
    const Interval<F> a = s.interval(), b = s.interval(), c = s.interval();
    const Interval<F> sum = a + b, diff = a - b, prod = a * b, quot = a / b, f = fma(a, b, c);
    const Interval<F> mx = maximum(a, b), mn = minimum(a, b), ab = abs(a);
    const std::vector<F> xs = s.points(a), ys = s.points(b), zs = s.points(c);
    for (size_t k = 0; k < xs.size(); ++k) {
      const mpq_class x = exact(xs[k]), y = exact(ys[k]), z = exact(zs[k]);
      std::string bad;
      if (!contains(sum, mpq_class(x + y))) bad += " +";
      if (!contains(diff, mpq_class(x - y))) bad += " -";
      if (!contains(prod, mpq_class(x * y))) bad += " *";
      if (!contains(f, mpq_class(x * y + z))) bad += " fma";
      if (!contains(mx, x > y ? x : y) || !contains(mn, x < y ? x : y)) bad += " max/min";
      if (!contains(ab, x < 0 ? mpq_class(-x) : x)) bad += " abs";
      if (y != 0 && !contains(quot, mpq_class(x / y))) bad += " /";
      if (!bad.empty() && ++failures <= 5)
        ADD_FAILURE() << "unsound" << bad << " at x=" << std::hexfloat << xs[k] << " in [" << a.lo << ", " << a.hi
                      << "], y=" << ys[k] << " in [" << b.lo << ", " << b.hi << "], z=" << zs[k];
    }
    // sqrt over the non-negative part: lo^2 <= x <= hi^2, exactly.
    if (a.hi >= 0) {
      const Interval<F> r = sqrt(a);
      for (F x : xs) {
        if (x < 0) continue;
        const mpq_class q = exact(x);
        if (!(r.lo >= 0 && exact(r.lo) * exact(r.lo) <= q && (std::isinf(r.hi) || q <= exact(r.hi) * exact(r.hi))))
          ADD_FAILURE() << "sqrt unsound at " << x;
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(IntervalSoundness, ArithmeticFloat) { check_arithmetic<float>(11); }
TEST(IntervalSoundness, ArithmeticDouble) { check_arithmetic<double>(12); }

template <class F>
Interval<F> apply(Elementary f, const Interval<F>& a) {
  switch (f) {
    case Elementary::exp: return exp(a);
    case Elementary::log: return log(a);
    case Elementary::tanh: return tanh(a);
    case Elementary::sigmoid: return sigmoid(a);
    case Elementary::sin: return sin(a);
    case Elementary::cos: return cos(a);
    case Elementary::erf: return erf(a);
  }
  return a;
}

template <class F>
void check_elementary(uint64_t seed, int intervals) {
  Sampler<F> s(seed);
  for (Elementary f : kAllElementary) {
    int failures = 0;
    for (int i = 0; i < intervals; ++i) {
      Interval<F> a = s.interval(7);
      if (f == Elementary::log && a.hi <= 0) a = -a;
      if (f == Elementary::log && a.hi <= 0) continue;
      const Interval<F> r = apply(f, a);
      for (F x : s.points(a)) {
        if (f == Elementary::log && x <= 0) continue;
        if (!contains_mpfr(r, f, x) && ++failures <= 5)
          ADD_FAILURE() << elementary_name(f) << " unsound at " << std::hexfloat << x << " in [" << a.lo << ", "
                        << a.hi << "] -> [" << r.lo << ", " << r.hi << "]";
      }
    }
    EXPECT_EQ(failures, 0) << elementary_name(f);
  }
}

TEST(IntervalSoundness, ElementaryFloat) { check_elementary<float>(21, 3000); }
TEST(IntervalSoundness, ElementaryDouble) { check_elementary<double>(22, 400); }

TEST(IntervalRules, ExactResultsStayExactInexactOnesWidenByOneUlp) {
  using I = Interval<double>;
  EXPECT_EQ(I::point(1) + I::point(2), I::point(3));
  EXPECT_EQ(I::point(1.5) * I::point(-4), I::point(-6));
  EXPECT_EQ(I::point(1) / I::point(4), I::point(0.25));
  EXPECT_EQ(sqrt(I::point(9)), I::point(3));
  // 0.1 + 0.2 is not a double: the result is the two doubles around it.
  const I s = I::point(0.1) + I::point(0.2);
  EXPECT_EQ(s.hi, 0.30000000000000004);
  EXPECT_EQ(s.lo, std::nextafter(0.30000000000000004, 0.0));
  const I third = I::point(1) / I::point(3);
  EXPECT_EQ(std::nextafter(third.lo, 1.0), third.hi);
  EXPECT_TRUE(contains(third, mpq_class(1, 3)));
  EXPECT_EQ(exp(Interval<float>::point(0)), Interval<float>::point(1));
  EXPECT_EQ(log(Interval<float>::point(1)), Interval<float>::point(0));
  EXPECT_EQ(sigmoid(Interval<float>::point(0)), Interval<float>::point(0.5f));
  EXPECT_EQ(tanh(Interval<float>::point(-0.0f)).hi, 0.0f);
}

TEST(IntervalRules, InfinitiesOverflowAndZeroDivisors) {
  using I = Interval<double>;
  const double inf = std::numeric_limits<double>::infinity(), big = std::numeric_limits<double>::max();
  EXPECT_EQ(I::point(big) + I::point(big), I::of(big, inf));
  EXPECT_EQ(I::point(-big) * I::point(2), I::of(-inf, -big));
  EXPECT_EQ(I::of(0, 1) * I::of(1, inf), I::of(0, inf));  // 0 * inf counts as 0
  EXPECT_EQ(I::of(1, 2) / I::of(-1, 1), I::entire());
  EXPECT_EQ(I::of(1, 2) / I::of(0, 1), I::entire());
  EXPECT_EQ(I::of(1, 2) / I::of(1, inf), I::of(0, 2));
  EXPECT_EQ(I::of(1, inf) / I::of(1, inf), I::entire());  // inf / inf: no information
  EXPECT_EQ(exp(I::entire()), I::of(0, inf));
  EXPECT_EQ(tanh(I::entire()), I::of(-1, 1));
  EXPECT_EQ(sigmoid(I::entire()), I::of(0, 1));
  EXPECT_EQ(sin(I::entire()), I::of(-1, 1));
  EXPECT_EQ(exp(Interval<float>::point(100.0f)).hi, std::numeric_limits<float>::infinity());
  EXPECT_EQ(exp(Interval<float>::point(100.0f)).lo, std::numeric_limits<float>::max());
  EXPECT_EQ(exp(Interval<float>::point(-200.0f)), Interval<float>::of(0, std::numeric_limits<float>::denorm_min()));
}

TEST(IntervalRules, SqrtAndLogDomains) {
  using I = Interval<float>;
  EXPECT_EQ(sqrt(I::of(-1, 4)), I::of(0, 2));
  EXPECT_THROW(sqrt(I::of(-2, -1)), EvalError);
  EXPECT_EQ(log(I::of(-1, 1)), I::of(-std::numeric_limits<float>::infinity(), 0));
  EXPECT_THROW(log(I::of(-2, 0)), EvalError);
  try {
    (void)log(I::of(-2, -1));
    ADD_FAILURE() << "no EvalError";
  } catch (const EvalError& e) {
    EXPECT_EQ(std::string(e.what()), "log: interval [-2, -1] is not positive anywhere");
  }
  EXPECT_THROW(I::of(2, 1), UserError);
  EXPECT_THROW(I::of(std::numeric_limits<float>::quiet_NaN(), 1), UserError);
}

TEST(IntervalRules, SinCosAreTightAroundExtrema) {
  using I = Interval<double>;
  const I s = sin(I::of(1, 2));  // contains pi/2
  EXPECT_EQ(s.hi, 1.0);
  EXPECT_LE(s.lo, std::sin(1.0));
  EXPECT_GT(s.lo, std::sin(1.0) - 1e-15);
  const I c = cos(I::of(3, 4));  // contains pi
  EXPECT_EQ(c.lo, -1.0);
  EXPECT_LT(sin(I::of(0, 1)).hi, 0.8415);
  EXPECT_EQ(sin(I::point(0)), I::point(0));
  const Interval<float> big = sin(Interval<float>::point(1e30f));
  EXPECT_TRUE(contains_mpfr(big, Elementary::sin, 1e30f));
  EXPECT_LT(big.hi - big.lo, 1e-7f);
}

}  // namespace
}  // namespace torchlean
