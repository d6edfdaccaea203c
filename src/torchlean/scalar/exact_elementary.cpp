// Exact: rigorous enclosures of the elementary functions. Each rational endpoint is converted to
// MPFR outward (RNDD for a lower endpoint, RNDU for an upper one), a monotone function is evaluated
// at the endpoints in the same directions, and the MPFR results are converted back to rationals
// exactly; so the result always contains the true range. sin/cos also account for the extrema
// inside the interval, located with an outward enclosure of pi.
#include <mpfr.h>

#include <algorithm>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/mpfr_util.hpp"

namespace torchlean {

namespace {

using detail::Mpfr;

// Working precision of the enclosures: results are ~2^-160 relative wide, far below any use.
constexpr mpfr_prec_t kPrec = 160;
// sin/cos of an argument whose magnitude exceeds 2^kMaxTrigExp are enclosed by [-1, 1] rather
// than paying for a range reduction at that many bits.
constexpr long kMaxTrigExp = 100000;

std::string show(const Exact& x) {
  if (x.is_point()) return x.lo.get_str();
  return "[" + x.lo.get_str() + ", " + x.hi.get_str() + "]";
}

mpq_class to_q(const Mpfr& m, const char* fn, const Exact& arg) {
  if (!mpfr_number_p(m))
    throw EvalError(std::string(fn) + ": enclosure of " + show(arg) +
                    " overflows the working exponent range");
  return detail::mpfr_to_mpq(m);
}

using MpfrFn = int (*)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);

// Enclosure of a nondecreasing function.
Exact monotone(MpfrFn f, const Exact& a, const char* fn) {
  Mpfr x(kPrec), y(kPrec);
  mpfr_set_q(x, a.lo.get_mpq_t(), MPFR_RNDD);
  f(y, x, MPFR_RNDD);
  mpq_class lo = to_q(y, fn, a);
  mpfr_set_q(x, a.hi.get_mpq_t(), MPFR_RNDU);
  f(y, x, MPFR_RNDU);
  mpq_class hi = to_q(y, fn, a);
  return Exact(lo, hi);
}

// 1 / (1 + e^-x), rounded in direction rnd (RNDD or RNDU); x is exact in MPFR.
void sigmoid_directed(mpfr_ptr out, mpfr_srcptr x, mpfr_rnd_t rnd) {
  const mpfr_rnd_t inv = rnd == MPFR_RNDD ? MPFR_RNDU : MPFR_RNDD;
  Mpfr t(kPrec);
  mpfr_neg(t, x, MPFR_RNDN);  // exact
  mpfr_exp(t, t, inv);        // the denominator is rounded against the result's direction
  mpfr_add_ui(t, t, 1, inv);
  mpfr_ui_div(out, 1, t, rnd);
}

bool is_perfect_square(const mpq_class& q) {
  return sgn(q) >= 0 && mpz_perfect_square_p(q.get_num_mpz_t()) != 0 &&
         mpz_perfect_square_p(q.get_den_mpz_t()) != 0;
}

mpq_class exact_sqrt(const mpq_class& q) {
  mpz_class n, d;
  mpz_sqrt(n.get_mpz_t(), q.get_num_mpz_t());
  mpz_sqrt(d.get_mpz_t(), q.get_den_mpz_t());
  return mpq_class(n, d);  // canonical: sqrt of coprime squares are coprime
}

mpq_class sqrt_endpoint(const mpq_class& q, mpfr_rnd_t rnd, const Exact& arg) {
  if (is_perfect_square(q)) return exact_sqrt(q);
  Mpfr x(kPrec), y(kPrec);
  mpfr_set_q(x, q.get_mpq_t(), rnd);
  mpfr_sqrt(y, x, rnd);
  return to_q(y, "sqrt", arg);
}

// Whether some integer k puts the critical point pi*(2k + offset) inside [xd, xu], decided
// conservatively: true whenever it cannot be excluded. offset is in {-1/2, 0, 1/2, 1}, passed as
// twice its value.
bool may_contain_critical(mpfr_srcptr xd, mpfr_srcptr xu, mpfr_srcptr pi_lo, mpfr_srcptr pi_hi,
                          int twice_offset, mpfr_prec_t prec) {
  Mpfr tlo(prec), thi(prec);
  // [xd, xu] / pi  is inside [tlo, thi] for every pi in [pi_lo, pi_hi].
  mpfr_div(tlo, xd, mpfr_sgn(xd) >= 0 ? pi_hi : pi_lo, MPFR_RNDD);
  mpfr_div(thi, xu, mpfr_sgn(xu) >= 0 ? pi_lo : pi_hi, MPFR_RNDU);
  // Need an integer k with 2k + offset in [tlo, thi], i.e. k in [(tlo - offset)/2, (thi - offset)/2].
  mpfr_mul_2ui(tlo, tlo, 1, MPFR_RNDD);  // work with 4k + 2*offset in [2 tlo, 2 thi]
  mpfr_mul_2ui(thi, thi, 1, MPFR_RNDU);
  mpfr_sub_si(tlo, tlo, twice_offset, MPFR_RNDD);
  mpfr_sub_si(thi, thi, twice_offset, MPFR_RNDU);
  mpfr_div_2ui(tlo, tlo, 2, MPFR_RNDD);
  mpfr_div_2ui(thi, thi, 2, MPFR_RNDU);
  mpfr_ceil(tlo, tlo);
  mpfr_floor(thi, thi);
  return mpfr_lessequal_p(tlo, thi) != 0;
}

// sin (is_sin) or cos over [a.lo, a.hi]: the hull of the endpoint values, widened to +-1 where an
// extremum may lie inside.
Exact trig(const Exact& a, bool is_sin) {
  const char* fn = is_sin ? "sin" : "cos";
  // The binary exponent of the larger endpoint magnitude, or "too large" (also for MPFR overflow).
  long e = 0;
  for (const mpq_class* q : {&a.lo, &a.hi}) {
    Mpfr probe(64);
    mpfr_set_q(probe, q->get_mpq_t(), MPFR_RNDA);
    if (!mpfr_number_p(probe)) return Exact(mpq_class(-1), mpq_class(1));
    if (!mpfr_zero_p(probe)) e = std::max(e, static_cast<long>(mpfr_get_exp(probe)));
  }
  if (e > kMaxTrigExp) return Exact(mpq_class(-1), mpq_class(1));
  // Enough bits that x/pi keeps ~kPrec bits after the integer part.
  const mpfr_prec_t prec = kPrec + static_cast<mpfr_prec_t>(std::max(0L, e));
  auto f = is_sin ? mpfr_sin : mpfr_cos;

  Mpfr xd(prec), xu(prec), v(prec), lo(prec), hi(prec), pi_lo(prec + 16), pi_hi(prec + 16);
  mpfr_set_q(xd, a.lo.get_mpq_t(), MPFR_RNDD);
  mpfr_set_q(xu, a.hi.get_mpq_t(), MPFR_RNDU);
  f(lo, xd, MPFR_RNDD);
  f(v, xu, MPFR_RNDD);
  mpfr_min(lo, lo, v, MPFR_RNDD);
  f(hi, xd, MPFR_RNDU);
  f(v, xu, MPFR_RNDU);
  mpfr_max(hi, hi, v, MPFR_RNDU);

  mpfr_const_pi(pi_lo, MPFR_RNDD);
  mpfr_const_pi(pi_hi, MPFR_RNDU);
  // Maxima: sin at pi(2k + 1/2), cos at pi*2k. Minima: sin at pi(2k - 1/2), cos at pi(2k + 1).
  const int max_off = is_sin ? 1 : 0, min_off = is_sin ? -1 : 2;
  if (may_contain_critical(xd, xu, pi_lo, pi_hi, max_off, prec)) mpfr_set_si(hi, 1, MPFR_RNDN);
  if (may_contain_critical(xd, xu, pi_lo, pi_hi, min_off, prec)) mpfr_set_si(lo, -1, MPFR_RNDN);
  return Exact(to_q(lo, fn, a), to_q(hi, fn, a));
}

}  // namespace

Exact sqrt(const Exact& a) {
  if (sgn(a.lo) < 0)
    throw EvalError("sqrt: argument " + show(a) + " is negative somewhere (clamp it first)");
  if (a.is_point() && is_perfect_square(a.lo)) return Exact(exact_sqrt(a.lo));
  return Exact(sqrt_endpoint(a.lo, MPFR_RNDD, a), sqrt_endpoint(a.hi, MPFR_RNDU, a));
}

Exact exp(const Exact& a) { return monotone(mpfr_exp, a, "exp"); }

Exact log(const Exact& a) {
  if (sgn(a.lo) <= 0) throw EvalError("log: argument " + show(a) + " is not positive");
  Mpfr probe(kPrec);
  mpfr_set_q(probe, a.lo.get_mpq_t(), MPFR_RNDD);
  if (mpfr_zero_p(probe))
    throw EvalError("log: argument " + show(a) + " is too close to 0 for MPFR's exponent range");
  return monotone(mpfr_log, a, "log");
}

Exact tanh(const Exact& a) { return monotone(mpfr_tanh, a, "tanh"); }

Exact sigmoid(const Exact& a) {
  Mpfr x(kPrec), y(kPrec);
  mpfr_set_q(x, a.lo.get_mpq_t(), MPFR_RNDD);
  sigmoid_directed(y, x, MPFR_RNDD);
  mpq_class lo = to_q(y, "sigmoid", a);
  mpfr_set_q(x, a.hi.get_mpq_t(), MPFR_RNDU);
  sigmoid_directed(y, x, MPFR_RNDU);
  return Exact(lo, to_q(y, "sigmoid", a));
}

Exact sin(const Exact& a) { return trig(a, true); }
Exact cos(const Exact& a) { return trig(a, false); }
Exact erf(const Exact& a) { return monotone(mpfr_erf, a, "erf"); }

}  // namespace torchlean
