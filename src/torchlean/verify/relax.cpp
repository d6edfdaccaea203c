// Linear relaxations of scalar functions (see relax.hpp).
#include "torchlean/verify/relax.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/verify/rounding.hpp"

namespace torchlean::verify {

namespace {

// A line through the origin below, the secant above: the shape shared by leaky_relu and abs
// (both convex, so the secant's intercept is checked at the two endpoints only).
double secant_intercept_up(double s, double l, double fl, double u, double fu) {
  return std::max(sub_up(fl, mul_down(s, l)), sub_up(fu, mul_down(s, u)));
}

}  // namespace

void relax_leaky(double a, double l, double u, Line& lower, Line& upper) {
  if (l >= 0) {
    lower = upper = {1, 0};
    return;
  }
  if (u <= 0) {
    lower = upper = {a, 0};
    return;
  }
  // y >= s x holds for every s in [a, 1]; the adaptive choice keeps the larger side exact.
  lower = {u >= -l ? 1.0 : a, 0};
  if (std::isinf(u) && std::isinf(l)) {
    upper = {1, kInf};
  } else if (std::isinf(u)) {
    upper = {1, mul_up(sub_up(1, a), -l)};  // y - x = (a - 1) x, largest at x = l
  } else if (std::isinf(l)) {
    upper = {a, mul_up(sub_up(1, a), u)};  // y - a x = (1 - a) x, largest at x = u
  } else {
    const double s = (u - a * l) / (u - l);
    upper = {s, secant_intercept_up(s, l, mul_up(a, l), u, u)};
  }
}

void relax_abs(double l, double u, Line& lower, Line& upper) {
  if (l >= 0) {
    lower = upper = {1, 0};
    return;
  }
  if (u <= 0) {
    lower = upper = {-1, 0};
    return;
  }
  lower = {u >= -l ? 1.0 : -1.0, 0};  // |x| >= s x for |s| <= 1
  if (std::isinf(u) && std::isinf(l)) {
    upper = {0, kInf};
  } else if (std::isinf(u)) {
    upper = {1, mul_up(-2, l)};
  } else if (std::isinf(l)) {
    upper = {-1, mul_up(2, u)};
  } else {
    const double s = (u + l) / (u - l);
    upper = {s, secant_intercept_up(s, l, -l, u, u)};
  }
}

namespace {

struct Segment {
  double a, b, hi;  // hi bounds sup of g over [a, b]
  bool operator<(const Segment& o) const { return hi < o.hi; }
};

// Rigorous upper bound of sup over [a,b] of g(x) = f(x) - s x via the interval extension.
double seg_hi(const IntervalFn& f, double s, double a, double b) {
  const Interval<double> y = f(Interval<double>{a, b});
  if (y.hi == kInf) return kInf;
  return add_up(y.hi, mul_up(-s, s >= 0 ? a : b));
}
// A rigorous lower bound of g at one point (a value g actually attains or exceeds nearby: used
// only to stop the search, never as the bound itself).
double point_lo(const IntervalFn& f, double s, double x) {
  const Interval<double> y = f(Interval<double>{x, x});
  return add_down(y.lo, mul_down(-s, x));
}

constexpr int kMaxSplits = 48;

}  // namespace

double sup_minus_line(const IntervalFn& f, double s, double l, double u) {
  try {
    std::priority_queue<Segment> heap;
    heap.push({l, u, seg_hi(f, s, l, u)});
    double best = std::max(point_lo(f, s, l), point_lo(f, s, u));
    double leaves = -kInf;  // segments too narrow to split
    for (int it = 0; it < kMaxSplits && !heap.empty(); ++it) {
      const Segment top = heap.top();
      const double tol = 1e-12 * (1 + std::fabs(best));
      if (top.hi == kInf && std::isinf(best)) break;
      if (top.hi - best <= tol) break;
      heap.pop();
      const double m = top.a + (top.b - top.a) / 2;
      if (!(m > top.a && m < top.b)) {
        leaves = std::max(leaves, top.hi);
        continue;
      }
      best = std::max(best, point_lo(f, s, m));
      heap.push({top.a, m, seg_hi(f, s, top.a, m)});
      heap.push({m, top.b, seg_hi(f, s, m, top.b)});
    }
    return std::max(leaves, heap.empty() ? -kInf : heap.top().hi);
  } catch (const EvalError&) {
    return kInf;  // f has no finite enclosure somewhere in [l, u]
  }
}

double inf_minus_line(const IntervalFn& f, double s, double l, double u) {
  // inf (f - s x) = -sup ((-f) - (-s) x)
  const IntervalFn neg = [&f](const Interval<double>& x) { return -f(x); };
  return -sup_minus_line(neg, -s, l, u);
}

namespace {

double mid_value(const IntervalFn& f, double x) {
  const Interval<double> y = f(Interval<double>{x, x});
  return y.lo + (y.hi - y.lo) / 2;
}

}  // namespace

void relax_smooth(const IntervalFn& f, double l, double u, Line& lower, Line& upper) {
  if (!(u - l > 1e-300) || std::isinf(l) || std::isinf(u)) {
    Interval<double> y = Interval<double>::entire();
    try {
      if (!std::isinf(l) || !std::isinf(u)) y = f(Interval<double>{l, u});
    } catch (const EvalError&) {
    }
    lower = {0, y.lo};
    upper = {0, y.hi};
    return;
  }
  double cand[2];
  std::vector<double> xs, ys;
  try {
    const double fl = mid_value(f, l), fu = mid_value(f, u);
    cand[0] = (fu - fl) / (u - l);
    const double m = l + (u - l) / 2, h = (u - l) * 1e-4;
    cand[1] = (mid_value(f, m + h) - mid_value(f, m - h)) / (2 * h);
    for (int i = 0; i <= 8; ++i) {
      const double x = l + (u - l) * i / 8;
      xs.push_back(x);
      ys.push_back(mid_value(f, x));
    }
  } catch (const EvalError&) {
    cand[0] = cand[1] = 0;
  }
  // Estimated gaps on the samples: the chosen line minimises (its height at the midpoint).
  const double mid = l + (u - l) / 2;
  double best_up = kInf, best_lo = -kInf, s_up = 0, s_lo = 0;
  for (double s : cand) {
    if (!std::isfinite(s)) continue;
    double hi = -kInf, lo = kInf;
    for (size_t i = 0; i < xs.size(); ++i) {
      hi = std::max(hi, ys[i] - s * xs[i]);
      lo = std::min(lo, ys[i] - s * xs[i]);
    }
    if (hi + s * mid < best_up) best_up = hi + s * mid, s_up = s;
    if (lo + s * mid > best_lo) best_lo = lo + s * mid, s_lo = s;
  }
  upper = {s_up, sup_minus_line(f, s_up, l, u)};
  lower = {s_lo, inf_minus_line(f, s_lo, l, u)};
}

}  // namespace torchlean::verify
