// Interval<F>: closed intervals [lo, hi] of reals with float or double endpoints, every operation
// rounded OUTWARD, for the bound engines (IBP, CROWN concretisation) and the checker's enclosures.
//
// Contract: if x is in a and y is in b, then the real f(x, y) is in f(a, b); a result never shrinks
// below the true range. Endpoints may be infinite (an unbounded side); lo <= hi, lo < +inf,
// hi > -inf and no NaN endpoints. Rules:
// - + - * use error-free transformations (TwoSum, fma) to decide the rounding direction, so exact
//   results stay exact and inexact ones are widened by one ulp. Where those transformations could
//   underflow (tiny results) both sides are widened by one ulp instead. 0 * inf counts as 0
//   (an infinite endpoint stands for "unbounded", and 0 times any real is 0).
// - Division by an interval that contains 0 returns the whole line [-inf, +inf].
// - sqrt encloses sqrt over the non-negative part of the interval; an entirely negative interval
//   is an EvalError. log likewise encloses log over the positive part, giving -inf as the lower
//   end when the interval reaches 0; an interval with hi <= 0 is an EvalError.
// - exp, log, tanh, sigmoid, erf are nondecreasing: the correctly rounded F32/F64 function at the
//   endpoints, widened by one ulp (nextafter) and clipped to the function's range. One ulp is
//   enough because a correctly rounded result is within half an ulp of the true value.
// - sin, cos go through the Exact enclosure (MPFR with an outward enclosure of pi, extrema
//   located rigorously), rounded outward to F; slow (microseconds) but tight.
// - maximum, minimum, abs and negation are exact; fma(a, b, c) is (a * b) + c, each rounded
//   outward.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "torchlean/core/error.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean {

template <class F>
struct Interval {
  static_assert(std::is_same_v<F, float> || std::is_same_v<F, double>, "Interval<float|double>");
  F lo, hi;

  static Interval point(F x) { return of(x, x); }
  static Interval entire() { return {-std::numeric_limits<F>::infinity(), std::numeric_limits<F>::infinity()}; }
  // Checked construction: a UserError for NaN endpoints, lo > hi or an empty infinite endpoint.
  static Interval of(F l, F h) {
    if (std::isnan(l) || std::isnan(h) || l > h || l == std::numeric_limits<F>::infinity() ||
        h == -std::numeric_limits<F>::infinity())
      throw UserError("Interval: invalid endpoints [" + to_string(IeeeScalar<F>{l}) + ", " +
                      to_string(IeeeScalar<F>{h}) + "]");
    return {l, h};
  }
  bool contains(F x) const { return lo <= x && x <= hi; }
  bool is_point() const { return lo == hi; }
  F width_up() const;  // hi - lo rounded up
  friend bool operator==(const Interval& a, const Interval& b) { return a.lo == b.lo && a.hi == b.hi; }
};

namespace detail {

template <class F>
constexpr F kInfF = std::numeric_limits<F>::infinity();
template <class F>
constexpr F kMaxF = std::numeric_limits<F>::max();
// Below this magnitude the error terms of products, quotients and square roots may underflow, so
// their sign cannot be trusted: 2^(emin + 2p) is a comfortable margin over the exact conditions.
template <class F>
constexpr F kTinyF = std::numeric_limits<F>::min() * (std::is_same_v<F, float> ? 0x1p48f : 0x1p106);

template <class F>
F next_down(F x) { return std::nextafter(x, -kInfF<F>); }
template <class F>
F next_up(F x) { return std::nextafter(x, kInfF<F>); }

// An enclosing pair for a rounded result r of an operation with exact value v, given sgn(v - r)
// or kUnknownSign.
template <class F>
struct Rounded {
  F lo, hi;
};

constexpr int kUnknownSign = 2;

template <class F>
Rounded<F> from_error_sign(F r, int err_sign) {
  switch (err_sign) {
    case 0: return {r, r};
    case -1: return {next_down(r), r};
    case 1: return {r, next_up(r)};
    default: return {next_down(r), next_up(r)};
  }
}

inline int sign_of(double e) { return std::isnan(e) ? kUnknownSign : (e > 0) - (e < 0); }

// An overflowed result of finite operands: the true value lies beyond the largest finite number.
template <class F>
Rounded<F> overflowed(F r) {
  return r > 0 ? Rounded<F>{kMaxF<F>, kInfF<F>} : Rounded<F>{-kInfF<F>, -kMaxF<F>};
}

template <class F>
Rounded<F> add(F a, F b) {
  const F s = a + b;
  if (std::isinf(s)) return std::isinf(a) || std::isinf(b) ? Rounded<F>{s, s} : overflowed(s);
  // TwoSum (Knuth): err is exactly (a + b) - s.
  const F bb = s - a;
  const F err = (a - (s - bb)) + (b - bb);
  return from_error_sign(s, sign_of(static_cast<double>(err)));
}

template <class F>
Rounded<F> mul(F a, F b) {
  if (a == 0 || b == 0) return {F(0), F(0)};
  const F p = a * b;
  if (std::isinf(p)) return std::isinf(a) || std::isinf(b) ? Rounded<F>{p, p} : overflowed(p);
  if (std::fabs(p) < kTinyF<F>) return from_error_sign(p, kUnknownSign);
  return from_error_sign(p, sign_of(static_cast<double>(std::fma(a, b, -p))));
}

// a / b for b != 0; a NaN pair for inf / inf (the caller gives up on the whole interval).
template <class F>
Rounded<F> div(F a, F b) {
  if (a == 0) return {F(0), F(0)};
  if (std::isinf(b)) {
    if (std::isinf(a)) return {std::numeric_limits<F>::quiet_NaN(), std::numeric_limits<F>::quiet_NaN()};
    return {F(0), F(0)};
  }
  const F q = a / b;
  if (std::isinf(q)) return std::isinf(a) ? Rounded<F>{q, q} : overflowed(q);
  if (std::fabs(q) < kTinyF<F> || std::fabs(a) < kTinyF<F>) return from_error_sign(q, kUnknownSign);
  // The remainder a - q*b is exact here; a/b - q = r/b.
  const int r_sign = sign_of(static_cast<double>(std::fma(-q, b, a)));
  return from_error_sign(q, r_sign == kUnknownSign ? kUnknownSign : (b > 0 ? r_sign : -r_sign));
}

template <class F>
Rounded<F> sqrt_pos(F x) {  // x >= 0
  const F s = std::sqrt(x);
  if (x == 0 || std::isinf(x)) return {s, s};
  if (x < kTinyF<F>) return from_error_sign(s, kUnknownSign);
  return from_error_sign(s, sign_of(static_cast<double>(std::fma(-s, s, x))));
}

template <class F>
Interval<F> hull4(const Rounded<F> (&r)[4]) {
  Interval<F> out{r[0].lo, r[0].hi};
  for (const Rounded<F>& x : r) {
    if (std::isnan(x.lo) || std::isnan(x.hi)) return Interval<F>::entire();
    out.lo = std::min(out.lo, x.lo);
    out.hi = std::max(out.hi, x.hi);
  }
  return out;
}

// Monotone (nondecreasing) elementary function via the correctly rounded scalar version.
template <class F, class Fn>
Interval<F> monotone(const Interval<F>& a, Fn f, F range_lo, F range_hi, F exact_at, F exact_value) {
  auto end = [&](F x, bool lower) {
    if (x == exact_at) return exact_value;
    const F y = f(IeeeScalar<F>::of(x)).v;
    return lower ? std::max(next_down(y), range_lo) : std::min(next_up(y), range_hi);
  };
  return {end(a.lo, true), end(a.hi, false)};
}

}  // namespace detail

template <class F>
F Interval<F>::width_up() const { return detail::add(hi, -lo).hi; }

template <class F>
Interval<F> operator+(const Interval<F>& a, const Interval<F>& b) {
  return {detail::add(a.lo, b.lo).lo, detail::add(a.hi, b.hi).hi};
}
template <class F>
Interval<F> operator-(const Interval<F>& a) { return {-a.hi, -a.lo}; }
template <class F>
Interval<F> operator-(const Interval<F>& a, const Interval<F>& b) { return a + (-b); }

template <class F>
Interval<F> operator*(const Interval<F>& a, const Interval<F>& b) {
  const detail::Rounded<F> r[4] = {detail::mul(a.lo, b.lo), detail::mul(a.lo, b.hi), detail::mul(a.hi, b.lo),
                                   detail::mul(a.hi, b.hi)};
  return detail::hull4(r);
}

template <class F>
Interval<F> operator/(const Interval<F>& a, const Interval<F>& b) {
  if (b.lo <= 0 && b.hi >= 0) return Interval<F>::entire();
  const detail::Rounded<F> r[4] = {detail::div(a.lo, b.lo), detail::div(a.lo, b.hi), detail::div(a.hi, b.lo),
                                   detail::div(a.hi, b.hi)};
  return detail::hull4(r);
}

template <class F>
Interval<F> fma(const Interval<F>& a, const Interval<F>& b, const Interval<F>& c) { return a * b + c; }

template <class F>
Interval<F> abs(const Interval<F>& a) {
  if (a.lo >= 0) return a;
  if (a.hi <= 0) return -a;
  return {F(0), std::max(-a.lo, a.hi)};
}
template <class F>
Interval<F> maximum(const Interval<F>& a, const Interval<F>& b) {
  return {std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
}
template <class F>
Interval<F> minimum(const Interval<F>& a, const Interval<F>& b) {
  return {std::min(a.lo, b.lo), std::min(a.hi, b.hi)};
}

template <class F>
Interval<F> sqrt(const Interval<F>& a) {
  if (a.hi < 0)
    throw EvalError("sqrt: interval [" + to_string(IeeeScalar<F>{a.lo}) + ", " + to_string(IeeeScalar<F>{a.hi}) +
                    "] is entirely negative");
  const F lo = std::max(a.lo, F(0));
  return {std::max(detail::sqrt_pos(lo).lo, F(0)), detail::sqrt_pos(a.hi).hi};
}

template <class F>
Interval<F> exp(const Interval<F>& a) {
  return detail::monotone(a, [](IeeeScalar<F> x) { return exp(x); }, F(0), detail::kInfF<F>, F(0), F(1));
}
template <class F>
Interval<F> log(const Interval<F>& a) {
  if (a.hi <= 0)
    throw EvalError("log: interval [" + to_string(IeeeScalar<F>{a.lo}) + ", " + to_string(IeeeScalar<F>{a.hi}) +
                    "] is not positive anywhere");
  const Interval<F> pos{a.lo <= 0 ? F(0) : a.lo, a.hi};  // log(0) = -inf is the lower end then
  return detail::monotone(pos, [](IeeeScalar<F> x) { return log(x); }, -detail::kInfF<F>, detail::kInfF<F>, F(1),
                          F(0));
}
template <class F>
Interval<F> tanh(const Interval<F>& a) {
  return detail::monotone(a, [](IeeeScalar<F> x) { return tanh(x); }, F(-1), F(1), F(0), F(0));
}
template <class F>
Interval<F> sigmoid(const Interval<F>& a) {
  return detail::monotone(a, [](IeeeScalar<F> x) { return sigmoid(x); }, F(0), F(1), F(0), F(0.5));
}
template <class F>
Interval<F> erf(const Interval<F>& a) {
  return detail::monotone(a, [](IeeeScalar<F> x) { return erf(x); }, F(-1), F(1), F(0), F(0));
}

// sin and cos (interval.cpp).
Interval<float> sin(const Interval<float>& a);
Interval<float> cos(const Interval<float>& a);
Interval<double> sin(const Interval<double>& a);
Interval<double> cos(const Interval<double>& a);

}  // namespace torchlean
