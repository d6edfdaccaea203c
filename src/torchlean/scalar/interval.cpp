// Interval sin/cos: the rigorous Exact enclosure (MPFR, outward pi, extrema located) of the
// interval's exact endpoints, rounded outward to the endpoint format.
#include "torchlean/scalar/interval.hpp"

#include <mpfr.h>

#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/mpfr_util.hpp"

namespace torchlean {

namespace {

// q rounded toward -inf (RNDD) or +inf (RNDU) into F. Both steps round in the same direction, so
// the composition is still a bound on q.
template <class F>
F round_directed(const mpq_class& q, mpfr_rnd_t rnd) {
  detail::Mpfr m(128);
  mpfr_set_q(m, q.get_mpq_t(), rnd);
  if constexpr (std::is_same_v<F, float>)
    return mpfr_get_flt(m, rnd);
  else
    return mpfr_get_d(m, rnd);
}

template <class F>
Interval<F> trig(const Interval<F>& a, bool is_sin) {
  if (std::isinf(a.lo) || std::isinf(a.hi)) return {F(-1), F(1)};
  const Exact x(Exact::from_double(a.lo).lo, Exact::from_double(a.hi).lo);
  const Exact y = is_sin ? sin(x) : cos(x);
  return {round_directed<F>(y.lo, MPFR_RNDD), round_directed<F>(y.hi, MPFR_RNDU)};
}

}  // namespace

Interval<float> sin(const Interval<float>& a) { return trig(a, true); }
Interval<float> cos(const Interval<float>& a) { return trig(a, false); }
Interval<double> sin(const Interval<double>& a) { return trig(a, true); }
Interval<double> cos(const Interval<double>& a) { return trig(a, false); }

}  // namespace torchlean
