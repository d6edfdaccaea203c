// Rigorous binary64 helpers for the bound engines: directed sums and products (built on
// Interval<double>'s error-free transformations) and the a-priori error bounds of plain
// round-to-nearest sums that let the engines compute fast and pay for the rounding in a
// constant term. Every function here returns a value on the SAFE side of the real quantity.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "torchlean/scalar/interval.hpp"

namespace torchlean::verify {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kU64 = 0x1p-53;      // binary64 unit roundoff
inline constexpr double kEta64 = 0x1p-1074;  // binary64 subnormal spacing
inline constexpr double kU32 = 0x1p-24;      // binary32 unit roundoff
inline constexpr double kEta32 = 0x1p-149;   // binary32 subnormal spacing

inline double add_down(double a, double b) { return detail::add(a, b).lo; }
inline double add_up(double a, double b) { return detail::add(a, b).hi; }
inline double mul_down(double a, double b) { return detail::mul(a, b).lo; }
inline double mul_up(double a, double b) { return detail::mul(a, b).hi; }
inline double div_down(double a, double b) { return detail::div(a, b).lo; }
inline double div_up(double a, double b) { return detail::div(a, b).hi; }
inline double sub_down(double a, double b) { return add_down(a, -b); }
inline double sub_up(double a, double b) { return add_up(a, -b); }

// max(|lo|, |hi|): the magnitude bound of a value in [lo, hi].
inline double mag(double lo, double hi) { return std::fmax(std::fabs(lo), std::fabs(hi)); }

// An upper bound of gamma_n = n u / (1 - n u) for unit roundoff u (binary64 or binary32), rounded
// up; +inf once n u >= 1/2 (never reached by real layer sizes).
inline double gamma_up(int64_t n, double u) {
  const double nu = mul_up(static_cast<double>(n), u);
  if (nu >= 0.5) return kInf;
  return div_up(nu, sub_down(1.0, nu));
}

// The rounding error of a round-to-nearest binary64 left fold of n terms (products formed with
// fma or exactly) whose absolute values sum to `abs_sum` as COMPUTED by a plain round-to-nearest
// fold: |fl(sum) - sum| <= gamma_n * true_abs_sum + n eta, and true_abs_sum <= abs_sum / (1 -
// gamma_n); gamma_{n+2} covers both factors with room for the rounding of this expression.
inline double fold_error_up(double abs_sum, int64_t n) {
  if (abs_sum == kInf) return kInf;
  const double g = gamma_up(n + 2, kU64);
  return add_up(mul_up(mul_up(g, abs_sum), 1.0 + 0x1p-40),
                mul_up(static_cast<double>(n + 1), kEta64));
}

// Rigorous lower bound of sum_i c_i * [lo_i, hi_i] (a linear function concretised over a box):
// each term takes the endpoint that minimises it; accumulated with interval rounding.
template <class CoefAt>
double box_min(int64_t n, CoefAt coef, const double* lo, const double* hi) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double c = coef(i);
    if (c == 0) continue;
    const double x = c > 0 ? lo[i] : hi[i];
    if (std::isinf(x)) return -kInf;
    s = add_down(s, mul_down(c, x));
  }
  return s;
}

}  // namespace torchlean::verify
