// Small helpers for the rule files (not part of the public verify API).
#pragma once
#include <cmath>
#include <utility>

#include "torchlean/core/error.hpp"
#include "torchlean/verify/rounding.hpp"
#include "torchlean/verify/rule_decls.hpp"

namespace torchlean::verify::detail {

// A constant's element as midpoint and radius covering [lo, hi].
inline std::pair<double, double> mid_rad(const Box& b, int64_t i) {
  const double lo = b.lo[i], hi = b.hi[i];
  if (lo == hi) return {lo, 0.0};
  const double mid = lo + (hi - lo) / 2;
  return {mid, std::fmax(sub_up(mid, lo), sub_up(hi, mid))};
}

inline Linearization use_box(const NodeCtx&) { return UseBox{}; }

// Whether parent i is an input-independent constant.
inline bool is_const(const NodeCtx& ctx, size_t i) { return ctx.constant[i] != nullptr; }

[[noreturn]] inline void no_float32_rule(const NodeCtx& ctx) {
  throw UserError(ctx.prefix() +
                  "no float32 bound rule (the binary32 evaluation order of this composite op is "
                  "not modelled); use --semantics real");
}

// Exact hull of a box per element after a map f of intervals (real semantics) and, in float32
// semantics for a single correctly rounded binary32 operation, rounded outward to binary32.
template <class Fn>
Box map_ibp(const NodeCtx& ctx, Fn f, bool single_f32_op) {
  if (ctx.sem == Semantics::float32 && !single_f32_op) no_float32_rule(ctx);
  const Box& x = *ctx.parents[0];
  Box out(x.size());
  for (int64_t i = 0; i < x.size(); ++i) {
    const Interval<double> y = f(Interval<double>{x.lo[i], x.hi[i]});
    out.lo[i] = y.lo;
    out.hi[i] = y.hi;
  }
  if (ctx.sem == Semantics::float32) round_box_to_f32(out);
  return out;
}

}  // namespace torchlean::verify::detail
