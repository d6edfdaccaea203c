// Sound linear relaxations of scalar functions over an interval, used by the elementwise rules.
// Slopes are chosen heuristically (any double is fine); intercepts are then made rigorous:
// - piecewise-linear convex functions (relu, leaky_relu, abs): a line lies above a convex function
//   on [l, u] iff it does at l and u, checked with outward-rounded arithmetic;
// - smooth functions: sup/inf of f(x) - s x over [l, u] bounded by interval branch and bound over
//   the function's outward-rounded interval extension (sound for any f, tight to a tolerance).
#pragma once
#include <functional>

#include "torchlean/scalar/interval.hpp"

namespace torchlean::verify {

using IntervalFn = std::function<Interval<double>(const Interval<double>&)>;

struct Line {
  double slope = 0, intercept = 0;
};

// y = x for x >= 0 and a*x for x < 0 (0 <= a <= 1) over [l, u] (finite or not): the lower line
// y >= s x with the adaptive slope (u >= -l ? 1 : a) on unstable inputs, the secant above.
void relax_leaky(double a, double l, double u, Line& lower, Line& upper);
// |x| over [l, u].
void relax_abs(double l, double u, Line& lower, Line& upper);
// A rigorous upper bound of sup_{x in [l,u]} f(x) - s x (and the lower bound of the inf) for
// finite l <= u; may be +inf (-inf) when f is unbounded there.
double sup_minus_line(const IntervalFn& f, double s, double l, double u);
double inf_minus_line(const IntervalFn& f, double s, double l, double u);
// Lower and upper lines for a general f over finite [l, u]: candidate slopes are the secant and
// the tangent at the midpoint (estimated numerically); for each side the candidate with the
// smaller estimated gap wins and its intercept is computed rigorously. Infinite intercepts mean
// no useful line (the caller falls back to the box).
void relax_smooth(const IntervalFn& f, double l, double u, Line& lower, Line& upper);

}  // namespace torchlean::verify
