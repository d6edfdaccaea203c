// Exact: rational interval arithmetic (+ - * / fma abs max min), conversions and printing.
// The elementary-function enclosures live in exact_elementary.cpp.
#include "torchlean/scalar/exact.hpp"

#include <mpfr.h>

#include <algorithm>
#include <cmath>

#include "torchlean/core/error.hpp"
#include "torchlean/scalar/mpfr_util.hpp"

namespace torchlean {

namespace {

std::string interval_str(const Exact& x) {
  if (x.is_point()) return x.lo.get_str();
  return "[" + x.lo.get_str() + ", " + x.hi.get_str() + "]";
}

// One decimal endpoint of `q` with `digits` significant digits, rounded in direction `rnd`.
// Converting to MPFR in the same direction first keeps the composition a directed rounding.
std::string decimal(const mpq_class& q, int digits, mpfr_rnd_t rnd) {
  // Enough bits that the binary step never dominates the decimal one.
  detail::Mpfr m(static_cast<mpfr_prec_t>(digits) * 4 + 64);
  mpfr_set_q(m, q.get_mpq_t(), rnd);
  char* s = nullptr;
  const char* fmt = rnd == MPFR_RNDD ? "%.*RDg" : rnd == MPFR_RNDU ? "%.*RUg" : "%.*RNg";
  if (mpfr_asprintf(&s, fmt, digits, m.get()) < 0 || s == nullptr)
    throw InternalError("Exact to_string: mpfr_asprintf failed");
  std::string out(s);
  mpfr_free_str(s);
  return out;
}

}  // namespace

Exact::Exact(const mpq_class& l, const mpq_class& h) : lo(l), hi(h) {
  if (lo > hi)
    throw UserError("Exact: empty interval, lower bound " + lo.get_str() + " exceeds upper bound " +
                    hi.get_str());
}

Exact Exact::from_double(double x) {
  if (!std::isfinite(x))
    throw UserError(std::string("Exact::from_double: ") + (std::isnan(x) ? "NaN" : "infinity") +
                    " has no rational value");
  mpq_class q;
  mpq_set_d(q.get_mpq_t(), x);  // exact: every finite double is a dyadic rational
  return Exact(q);
}

double Exact::to_double() const {
  mpq_class mid = is_point() ? lo : mpq_class((lo + hi) / 2);
  detail::Mpfr m(53);
  {
    // Round once, into binary64's range (mpq_get_d truncates, so it is not used).
    detail::ExponentRange range(detail::kF64Emin, detail::kF64Emax);
    int inex = mpfr_set_q(m, mid.get_mpq_t(), MPFR_RNDN);
    mpfr_subnormalize(m, inex, MPFR_RNDN);
  }
  return mpfr_get_d(m, MPFR_RNDN);
}

Exact operator+(const Exact& a, const Exact& b) {
  if (a.is_point() && b.is_point()) return Exact(mpq_class(a.lo + b.lo));
  return Exact(a.lo + b.lo, a.hi + b.hi);
}

Exact operator-(const Exact& a, const Exact& b) {
  if (a.is_point() && b.is_point()) return Exact(mpq_class(a.lo - b.lo));
  return Exact(a.lo - b.hi, a.hi - b.lo);
}

Exact operator-(const Exact& a) {
  if (a.is_point()) return Exact(mpq_class(-a.lo));
  return Exact(-a.hi, -a.lo);
}

Exact operator*(const Exact& a, const Exact& b) {
  if (a.is_point() && b.is_point()) return Exact(mpq_class(a.lo * b.lo));
  mpq_class p[4] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
  return Exact(*std::min_element(p, p + 4), *std::max_element(p, p + 4));
}

Exact operator/(const Exact& a, const Exact& b) {
  if (sgn(b.lo) <= 0 && sgn(b.hi) >= 0)
    throw EvalError("div: divisor " + interval_str(b) + " contains 0 (dividend " + interval_str(a) +
                    ")");
  if (a.is_point() && b.is_point()) return Exact(mpq_class(a.lo / b.lo));
  // 0 is outside b, so x/y is monotone in each argument on the box and the extremes are corners.
  mpq_class q[4] = {a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi};
  return Exact(*std::min_element(q, q + 4), *std::max_element(q, q + 4));
}

// Each variable occurs once in a*b + c, so composing the interval operations is exact.
Exact fma(const Exact& a, const Exact& b, const Exact& c) { return a * b + c; }

Exact abs(const Exact& a) {
  if (sgn(a.lo) >= 0) return a;
  if (sgn(a.hi) <= 0) return -a;
  return Exact(mpq_class(0), std::max(mpq_class(-a.lo), a.hi));
}

Exact maximum(const Exact& a, const Exact& b) { return Exact(std::max(a.lo, b.lo), std::max(a.hi, b.hi)); }

Exact minimum(const Exact& a, const Exact& b) { return Exact(std::min(a.lo, b.lo), std::min(a.hi, b.hi)); }

std::string to_string(const Exact& x, int digits) {
  if (x.is_point()) return x.lo.get_str();
  digits = std::clamp(digits, 1, 10000);
  mpq_class mid = (x.lo + x.hi) / 2;
  return decimal(mid, digits, MPFR_RNDN) + " [" + decimal(x.lo, digits, MPFR_RNDD) + ", " +
         decimal(x.hi, digits, MPFR_RNDU) + "]";
}

}  // namespace torchlean
