// Exact: the real-valued domain. A value is a closed rational interval [lo, hi] (GMP). Values built
// from + - * / max min abs and comparisons stay points (lo == hi) and are exact; elementary
// functions (exp, log, tanh, sigmoid, sin, cos, erf, sqrt of a non-square) have no rational value,
// so they return a tight enclosure computed with MPFR in directed rounding, and arithmetic on
// enclosures is exact interval arithmetic. Nothing is ever rounded silently (DESIGN §3.2).
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <string>

namespace torchlean {

struct Exact {
  mpq_class lo, hi;

  static constexpr bool is_exact = true;
  Exact() = default;
  explicit Exact(const mpq_class& q) : lo(q), hi(q) {}
  Exact(const mpq_class& l, const mpq_class& h);  // requires l <= h

  // The exact rational value of a finite binary64 number; a UserError for NaN or infinity.
  static Exact from_double(double x);
  static Exact from_int(int64_t n) { return Exact(mpq_class(n)); }
  // Midpoint rounded to the nearest double (for printing and comparisons in tests).
  double to_double() const;
  bool is_point() const { return lo == hi; }

  friend Exact operator+(const Exact& a, const Exact& b);
  friend Exact operator-(const Exact& a, const Exact& b);
  friend Exact operator*(const Exact& a, const Exact& b);
  // Division by an interval that contains 0 is an EvalError.
  friend Exact operator/(const Exact& a, const Exact& b);
  friend Exact operator-(const Exact& a);
  friend bool operator==(const Exact& a, const Exact& b) { return a.lo == b.lo && a.hi == b.hi; }
};

Exact fma(const Exact& a, const Exact& b, const Exact& c);  // a*b + c, exactly
Exact abs(const Exact& a);
Exact maximum(const Exact& a, const Exact& b);
Exact minimum(const Exact& a, const Exact& b);
// Enclosures of the real functions. sqrt and log of a (partly) negative value, and log of a value
// whose interval reaches 0, are EvalErrors.
Exact sqrt(const Exact& a);
Exact exp(const Exact& a);
Exact log(const Exact& a);
Exact tanh(const Exact& a);
Exact sigmoid(const Exact& a);
Exact sin(const Exact& a);
Exact cos(const Exact& a);
Exact erf(const Exact& a);

// "3/4" for a point; for an enclosure "0.69314718055994530942 [lo, hi]" with decimal endpoints
// rounded outward to `digits` significant digits.
std::string to_string(const Exact& x, int digits = 20);

}  // namespace torchlean
