// Exact: rational points vs GMP, interval arithmetic, error cases, and the elementary enclosures
// checked against MPFR at 1000 bits (containment and tightness) and against known constants.
#include <gtest/gtest.h>
#include <mpfr.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/scalar/exact.hpp"

namespace torchlean {

// gtest prints failing values with this (found by ADL).
void PrintTo(const Exact& x, std::ostream* os) { *os << to_string(x, 25) << " {" << x.lo.get_str() << ", " << x.hi.get_str() << "}"; }

namespace {

mpq_class q(long n, long d = 1) {
  mpq_class r(n, d);
  r.canonicalize();
  return r;
}
Exact pt(long n, long d = 1) { return Exact(q(n, d)); }

mpq_class random_rational(SplitMix64& rng) {
  const long num = static_cast<long>(rng.next() % 2000001) - 1000000;
  const long den = static_cast<long>(rng.next() % 999) + 1;
  return q(num, den);
}

template <class Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const EvalError& e) {
    return e.what();
  }
  return "<no EvalError>";
}

TEST(ExactPoints, ArithmeticMatchesGmpAndKeepsPoints) {
  SplitMix64 rng(1);
  for (int i = 0; i < 2000; ++i) {
    const mpq_class a = random_rational(rng), b = random_rational(rng), c = random_rational(rng);
    const Exact A(a), B(b), C(c);
    EXPECT_EQ(A + B, Exact(mpq_class(a + b)));
    EXPECT_EQ(A - B, Exact(mpq_class(a - b)));
    EXPECT_EQ(A * B, Exact(mpq_class(a * b)));
    EXPECT_EQ(fma(A, B, C), Exact(mpq_class(a * b + c)));
    EXPECT_EQ(-A, Exact(mpq_class(-a)));
    if (b != 0) {
      EXPECT_EQ(A / B, Exact(mpq_class(a / b)));
      EXPECT_EQ((A / B) * B, A);  // field law, exactly
    }
    EXPECT_EQ(A * (B + C), A * B + A * C);
    EXPECT_EQ((A + B) + C, A + (B + C));
    EXPECT_TRUE((A * B + C).is_point());
    EXPECT_EQ(maximum(A, B), Exact(a > b ? a : b));
    EXPECT_EQ(minimum(A, B), Exact(a < b ? a : b));
    EXPECT_EQ(abs(A), Exact(mpq_class(a < 0 ? -a : a)));
  }
  EXPECT_EQ(fma(pt(1, 3), pt(3), pt(-1)), pt(0));
}

TEST(ExactIntervals, ArithmeticEnclosesEverySampleAndIsTight) {
  SplitMix64 rng(2);
  auto random_interval = [&] {
    mpq_class a = random_rational(rng), b = random_rational(rng);
    return a <= b ? Exact(a, b) : Exact(b, a);
  };
  for (int i = 0; i < 300; ++i) {
    const Exact A = random_interval(), B = random_interval();
    const Exact sum = A + B, diff = A - B, prod = A * B;
    EXPECT_EQ(sum, Exact(mpq_class(A.lo + B.lo), mpq_class(A.hi + B.hi)));
    EXPECT_EQ(diff, Exact(mpq_class(A.lo - B.hi), mpq_class(A.hi - B.lo)));
    const bool b_has_zero = B.lo <= 0 && B.hi >= 0;
    for (int k = 0; k <= 4; ++k) {
      for (int l = 0; l <= 4; ++l) {
        const mpq_class x = A.lo + (A.hi - A.lo) * q(k, 4), y = B.lo + (B.hi - B.lo) * q(l, 4);
        const mpq_class p = x * y;
        EXPECT_TRUE(prod.lo <= p && p <= prod.hi);
        if (!b_has_zero) {
          const Exact quot = A / B;
          const mpq_class r = x / y;
          EXPECT_TRUE(quot.lo <= r && r <= quot.hi);
        }
      }
    }
    // Tight: each product endpoint is attained at a corner.
    const mpq_class corners[] = {A.lo * B.lo, A.lo * B.hi, A.hi * B.lo, A.hi * B.hi};
    bool lo_attained = false, hi_attained = false;
    for (const mpq_class& c : corners) {
      lo_attained |= c == prod.lo;
      hi_attained |= c == prod.hi;
    }
    EXPECT_TRUE(lo_attained && hi_attained);
  }
  EXPECT_EQ(abs(Exact(q(-3), q(2))), Exact(q(0), q(3)));
  EXPECT_EQ(abs(Exact(q(-3), q(-2))), Exact(q(2), q(3)));
  EXPECT_EQ(maximum(Exact(q(-3), q(2)), pt(0)), Exact(q(0), q(2)));
  EXPECT_EQ(minimum(Exact(q(-3), q(2)), pt(0)), Exact(q(-3), q(0)));
}

TEST(ExactErrors, DivisionByZeroAndBadConstruction) {
  EXPECT_THROW(pt(1) / pt(0), EvalError);
  EXPECT_THROW(pt(1) / Exact(q(-1), q(1)), EvalError);
  EXPECT_THROW(pt(1) / Exact(q(0), q(1)), EvalError);
  const std::string msg = error_message([] { (void)(pt(1) / Exact(q(-1, 2), q(1))); });
  EXPECT_EQ(msg.rfind("div:", 0), 0u) << msg;
  EXPECT_NE(msg.find("[-1/2, 1]"), std::string::npos) << msg;
  EXPECT_THROW(Exact(q(1), q(0)), UserError);
  EXPECT_THROW(Exact::from_double(std::numeric_limits<double>::quiet_NaN()), UserError);
  EXPECT_THROW(Exact::from_double(-std::numeric_limits<double>::infinity()), UserError);
}

TEST(ExactConversions, FromDoubleIsExactToDoubleRoundsToNearest) {
  // 0.1 as a double is 3602879701896397 / 2^55.
  EXPECT_EQ(Exact::from_double(0.1), Exact(mpq_class(3602879701896397L, 1L) / (mpq_class(1L) << 55)));
  EXPECT_EQ(Exact::from_double(-0.0), pt(0));
  EXPECT_EQ(Exact::from_double(std::numeric_limits<double>::denorm_min()).lo, mpq_class(1) >> 1074);
  EXPECT_EQ(pt(1, 3).to_double(), 1.0 / 3.0);
  EXPECT_EQ(pt(2, 3).to_double(), 2.0 / 3.0);
  EXPECT_EQ(Exact(q(0), q(1)).to_double(), 0.5);
  EXPECT_EQ(Exact::from_int(-7), pt(-7));
}

TEST(ExactSqrt, PerfectSquaresAreExact) {
  EXPECT_EQ(sqrt(pt(9, 4)), pt(3, 2));
  EXPECT_EQ(sqrt(pt(0)), pt(0));
  EXPECT_EQ(sqrt(pt(1, 1048576)), pt(1, 1024));
  EXPECT_EQ(sqrt(Exact(q(1, 4), q(9, 4))), Exact(q(1, 2), q(3, 2)));
  // sqrt(2): lo^2 <= 2 <= hi^2 exactly, and the enclosure is narrow.
  const Exact s = sqrt(pt(2));
  EXPECT_FALSE(s.is_point());
  EXPECT_LE(s.lo * s.lo, 2);
  EXPECT_GE(s.hi * s.hi, 2);
  EXPECT_LT(s.hi - s.lo, mpq_class(1) >> 150);
  EXPECT_THROW(sqrt(pt(-1)), EvalError);
  EXPECT_THROW(sqrt(Exact(q(-1), q(4))), EvalError);
}

TEST(ExactLog, NonPositiveArgumentsAreErrors) {
  EXPECT_THROW(log(pt(0)), EvalError);
  EXPECT_THROW(log(pt(-1)), EvalError);
  EXPECT_THROW(log(Exact(q(0), q(2))), EvalError);
  const std::string msg = error_message([] { (void)log(pt(-1)); });
  EXPECT_EQ(msg, "log: argument -1 is not positive");
  EXPECT_EQ(log(pt(1)), pt(0));
}

// The MPFR value of f at a rational point, at 1000 bits.
using MpfrFn = std::function<void(mpfr_ptr, mpfr_srcptr)>;

mpq_class mpfr_value(const MpfrFn& f, const mpq_class& x) {
  mpfr_t a, r;
  mpfr_inits2(1000, a, r, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_q(a, x.get_mpq_t(), MPFR_RNDN);
  f(r, a);
  mpq_class out;
  mpfr_get_q(out.get_mpq_t(), r);
  mpfr_clears(a, r, static_cast<mpfr_ptr>(nullptr));
  return out;
}

struct Named {
  const char* name;
  Exact (*exact)(const Exact&);
  MpfrFn mpfr;
};

std::vector<Named> functions() {
  return {
      {"exp", [](const Exact& a) { return exp(a); }, [](mpfr_ptr r, mpfr_srcptr x) { mpfr_exp(r, x, MPFR_RNDN); }},
      {"log", [](const Exact& a) { return log(a); }, [](mpfr_ptr r, mpfr_srcptr x) { mpfr_log(r, x, MPFR_RNDN); }},
      {"tanh", [](const Exact& a) { return tanh(a); }, [](mpfr_ptr r, mpfr_srcptr x) { mpfr_tanh(r, x, MPFR_RNDN); }},
      {"sigmoid", [](const Exact& a) { return sigmoid(a); },
       [](mpfr_ptr r, mpfr_srcptr x) {
         mpfr_neg(r, x, MPFR_RNDN);
         mpfr_exp(r, r, MPFR_RNDN);
         mpfr_add_ui(r, r, 1, MPFR_RNDN);
         mpfr_ui_div(r, 1, r, MPFR_RNDN);
       }},
      {"sin", [](const Exact& a) { return sin(a); }, [](mpfr_ptr r, mpfr_srcptr x) { mpfr_sin(r, x, MPFR_RNDN); }},
      {"cos", [](const Exact& a) { return cos(a); }, [](mpfr_ptr r, mpfr_srcptr x) { mpfr_cos(r, x, MPFR_RNDN); }},
      {"erf", [](const Exact& a) { return erf(a); }, [](mpfr_ptr r, mpfr_srcptr x) { mpfr_erf(r, x, MPFR_RNDN); }},
      {"sqrt", [](const Exact& a) { return sqrt(a); }, [](mpfr_ptr r, mpfr_srcptr x) { mpfr_sqrt(r, x, MPFR_RNDN); }},
  };
}

TEST(ExactEnclosures, PointsContainMpfrValueAndAreTight) {
  std::vector<mpq_class> points = {q(1, 3), q(-5, 7), q(10), q(-10), q(7, 2), q(1, 1000), q(22, 7), q(-355, 113),
                                   q(50), mpq_class(Exact::from_double(0.7).lo), mpq_class(Exact::from_double(1e30).lo),
                                   mpq_class(Exact::from_double(-3e17).lo)};
  SplitMix64 rng(3);
  for (int i = 0; i < 40; ++i) points.push_back(random_rational(rng) / 1000);
  for (const Named& fn : functions()) {
    for (const mpq_class& x : points) {
      const std::string name = std::string(fn.name) + "(" + x.get_str() + ")";
      if ((fn.name == std::string("log") || fn.name == std::string("sqrt")) && x <= 0) continue;
      const bool huge = abs(x) > 1000;
      if (huge && fn.name != std::string("sin") && fn.name != std::string("cos")) continue;
      const Exact e = fn.exact(Exact(x));
      const mpq_class v = mpfr_value(fn.mpfr, x);
      EXPECT_LE(e.lo, v) << name;
      EXPECT_LE(v, e.hi) << name;
      // Relative width below 2^-100 (absolute where |v| < 1).
      const mpq_class scale = abs(v) > 1 ? mpq_class(abs(v)) : mpq_class(1);
      EXPECT_LT(mpq_class((e.hi - e.lo) / scale), mpq_class(1) >> 100) << name;
    }
  }
}

TEST(ExactEnclosures, IntervalsContainSampledValues) {
  SplitMix64 rng(4);
  for (const Named& fn : functions()) {
    for (int i = 0; i < 40; ++i) {
      mpq_class a = random_rational(rng) / 100000, b = random_rational(rng) / 100000;
      if (a > b) std::swap(a, b);
      if ((fn.name == std::string("log") || fn.name == std::string("sqrt"))) {
        a = abs(a) + q(1, 1000);
        b = a + abs(b);
      }
      const Exact e = fn.exact(Exact(a, b));
      for (int k = 0; k <= 16; ++k) {
        const mpq_class x = a + (b - a) * q(k, 16);
        const mpq_class v = mpfr_value(fn.mpfr, x);
        EXPECT_TRUE(e.lo <= v && v <= e.hi) << fn.name << " on [" << a.get_str() << ", " << b.get_str() << "] at "
                                             << x.get_str();
      }
    }
  }
}

TEST(ExactTrig, ExtremaInsideTheInterval) {
  // [1, 2] contains pi/2; [0, 1] and [2, 3] contain no extremum of sin.
  EXPECT_EQ(sin(Exact(q(1), q(2))).hi, 1);
  EXPECT_LT(sin(Exact(q(0), q(1))).hi, 1);
  EXPECT_LT(sin(Exact(q(2), q(3))).hi, 1);
  EXPECT_GT(sin(Exact(q(2), q(3))).lo, 0);
  EXPECT_EQ(sin(Exact(q(-2), q(-1))).lo, -1);
  EXPECT_EQ(cos(Exact(q(-1), q(1))).hi, 1);
  EXPECT_EQ(cos(Exact(q(3), q(16, 5))).lo, -1);
  EXPECT_GT(cos(Exact(q(3), q(16, 5))).hi, -1);
  // Width >= 2 pi: the whole range.
  EXPECT_EQ(sin(Exact(q(0), q(7))), Exact(q(-1), q(1)));
  EXPECT_EQ(cos(Exact(q(100), q(107))), Exact(q(-1), q(1)));
  // Beyond 2^100000 the enclosure is [-1, 1] by design.
  EXPECT_EQ(sin(Exact(mpq_class(1) << 200000)), Exact(q(-1), q(1)));
  // A point just past pi/2 (355/226 > pi/2): max is not reached, but the value is within 1e-13.
  const Exact s = sin(pt(355, 226));
  EXPECT_LT(s.hi, 1);
  EXPECT_GT(s.lo, 1 - q(1, 10000000000000L));
  EXPECT_EQ(sin(pt(0)), pt(0));
  EXPECT_EQ(cos(pt(0)), pt(1));
  EXPECT_EQ(exp(pt(0)), pt(1));
}

TEST(ExactToString, PointsAndOutwardEnclosures) {
  EXPECT_EQ(to_string(pt(3, 4)), "3/4");
  EXPECT_EQ(to_string(pt(-5)), "-5");
  EXPECT_EQ(to_string(pt(6, 8)), "3/4");
  // sqrt(2) = 1.41421356237309504880168..., e = 2.71828182845904523536028...
  EXPECT_EQ(to_string(sqrt(pt(2))), "1.4142135623730950488 [1.4142135623730950488, 1.4142135623730950489]");
  EXPECT_EQ(to_string(exp(pt(1))), "2.7182818284590452354 [2.7182818284590452353, 2.7182818284590452354]");
  EXPECT_EQ(to_string(exp(pt(1)), 5), "2.7183 [2.7182, 2.7183]");
  EXPECT_EQ(to_string(Exact(q(1), q(2)), 3), "1.5 [1, 2]");
  // log(1/2) = -0.693147180559945309417...
  EXPECT_EQ(to_string(log(pt(1, 2)), 6), "-0.693147 [-0.693148, -0.693147]");
}

}  // namespace
}  // namespace torchlean
