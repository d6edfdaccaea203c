// Test oracle: the correctly rounded binary32/binary64 value of each elementary function, written
// directly against MPFR and independent of the library's code paths. Standard functions: MPFR at
// the format's precision inside the format's exponent range, then mpfr_subnormalize. sigmoid has no
// MPFR primitive: it is evaluated at growing precision with its own proven error bound until both
// ends of the error interval round to the same value (Ziv's strategy).
#pragma once
#include <mpfr.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "torchlean/scalar/elementary.hpp"

namespace torchlean::testing {

struct Fmt32 {
  using T = float;
  static constexpr mpfr_prec_t prec = 24;
  static constexpr mpfr_exp_t emin = -148, emax = 128;
  static void set(mpfr_ptr m, float x) { mpfr_set_flt(m, x, MPFR_RNDN); }
  static float get(mpfr_srcptr m) { return mpfr_get_flt(m, MPFR_RNDN); }
};
struct Fmt64 {
  using T = double;
  static constexpr mpfr_prec_t prec = 53;
  static constexpr mpfr_exp_t emin = -1073, emax = 1024;
  static void set(mpfr_ptr m, double x) { mpfr_set_d(m, x, MPFR_RNDN); }
  static double get(mpfr_srcptr m) { return mpfr_get_d(m, MPFR_RNDN); }
};

// Rounds `approx` (whose rounding to Fmt's grids the caller has proven to be decided) to Fmt.
template <class Fmt>
typename Fmt::T finish(mpfr_srcptr approx) {
  mpfr_t r;
  mpfr_init2(r, Fmt::prec);
  int inex = mpfr_set(r, approx, MPFR_RNDN);
  const mpfr_exp_t old_min = mpfr_get_emin(), old_max = mpfr_get_emax();
  mpfr_set_emin(Fmt::emin);
  mpfr_set_emax(Fmt::emax);
  inex = mpfr_check_range(r, inex, MPFR_RNDN);
  mpfr_subnormalize(r, inex, MPFR_RNDN);
  typename Fmt::T out = Fmt::get(r);
  mpfr_set_emin(old_min);
  mpfr_set_emax(old_max);
  mpfr_clear(r);
  return out;
}

template <class Fmt>
typename Fmt::T reference_sigmoid(typename Fmt::T x) {
  using T = typename Fmt::T;
  if (std::isnan(x)) return std::numeric_limits<T>::quiet_NaN();
  if (x == 0) return T(0.5);
  if (std::isinf(x)) return x > 0 ? T(1) : T(0);
  for (mpfr_prec_t p = 96; p <= 8192; p *= 2) {
    mpfr_t xm, s, lo, hi;
    mpfr_inits2(p, xm, s, static_cast<mpfr_ptr>(nullptr));
    mpfr_inits2(p + 8, lo, hi, static_cast<mpfr_ptr>(nullptr));
    Fmt::set(xm, x);
    // Each of the three roundings has relative error <= 2^-p; 1 + t inherits at most 2^-p
    // relative from t, so s = 1/(1+t) is within 3 * 2^-p relative, i.e. within 2^(EXP(s) + 2 - p)
    // absolute since |s| < 2^EXP(s). [lo, hi] = s -+ 2^(EXP(s) + 3 - p) is a proven enclosure.
    mpfr_neg(s, xm, MPFR_RNDN);
    mpfr_exp(s, s, MPFR_RNDN);
    mpfr_add_ui(s, s, 1, MPFR_RNDN);
    mpfr_ui_div(s, 1, s, MPFR_RNDN);
    T out = T(0);
    bool decided = true;
    if (!mpfr_zero_p(s)) {  // zero: e^-x overflowed MPFR's range, sigmoid(x) < 2^-(2^30) -> +0
      mpfr_set_ui_2exp(lo, 1, mpfr_get_exp(s) + 3 - p, MPFR_RNDN);  // exact power of two
      mpfr_add(hi, s, lo, MPFR_RNDU);
      mpfr_sub(lo, s, lo, MPFR_RNDD);
      out = finish<Fmt>(lo);
      decided = std::bit_cast<std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>(out) ==
                std::bit_cast<std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>(finish<Fmt>(hi));
    }
    mpfr_clears(xm, s, lo, hi, static_cast<mpfr_ptr>(nullptr));
    if (decided) return out;
  }
  throw std::runtime_error("reference_sigmoid: precision exhausted");
}

template <class Fmt>
typename Fmt::T reference(Elementary f, typename Fmt::T x) {
  using T = typename Fmt::T;
  if (f == Elementary::sigmoid) return reference_sigmoid<Fmt>(x);
  if (std::isnan(x)) return std::numeric_limits<T>::quiet_NaN();
  const mpfr_exp_t old_min = mpfr_get_emin(), old_max = mpfr_get_emax();
  mpfr_set_emin(Fmt::emin);
  mpfr_set_emax(Fmt::emax);
  mpfr_t xm, y;
  mpfr_inits2(Fmt::prec, xm, y, static_cast<mpfr_ptr>(nullptr));
  Fmt::set(xm, x);
  int inex = 0;
  switch (f) {
    case Elementary::exp: inex = mpfr_exp(y, xm, MPFR_RNDN); break;
    case Elementary::log: inex = mpfr_log(y, xm, MPFR_RNDN); break;
    case Elementary::tanh: inex = mpfr_tanh(y, xm, MPFR_RNDN); break;
    case Elementary::sin: inex = mpfr_sin(y, xm, MPFR_RNDN); break;
    case Elementary::cos: inex = mpfr_cos(y, xm, MPFR_RNDN); break;
    case Elementary::erf: inex = mpfr_erf(y, xm, MPFR_RNDN); break;
    case Elementary::sigmoid: break;
  }
  mpfr_subnormalize(y, inex, MPFR_RNDN);
  T out = Fmt::get(y);
  mpfr_clears(xm, y, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_emin(old_min);
  mpfr_set_emax(old_max);
  return std::isnan(out) ? std::numeric_limits<T>::quiet_NaN() : out;
}

inline float reference_f32(Elementary f, float x) { return reference<Fmt32>(f, x); }
inline double reference_f64(Elementary f, double x) { return reference<Fmt64>(f, x); }

}  // namespace torchlean::testing
