// Bound rules of the elementwise ops (ops/elementwise.cpp and the elementwise extension ops).
//   add, sub, neg, and mul_elem/div by a constant: exact affine maps (float32: one rounding each,
//     neg none). Products and quotients of two variable tensors: interval arithmetic (UseBox).
//   relu, leaky_relu, abs: piecewise-linear relaxations (relax.hpp), exact in float32 except
//     leaky_relu's product alpha*x (one rounding, alpha rounded to binary32).
//   sqrt, inv, exp, log, tanh, sigmoid, sin, cos, erf: one correctly rounded binary32 operation;
//     box = the real range rounded outward to binary32; relaxation = tangent/secant lines with
//     rigorous intercepts, widened in float32 by the rounding u |y| + eta.
//   gelu, softplus, silu, pow_const, clamp: real semantics only (several binary32 roundings in
//     an order this verifier does not model).
//   max_elem, min_elem, compare, where: exact boxes, no relaxation (UseBox).
#include <cmath>

#include "torchlean/verify/relax.hpp"
#include "torchlean/verify/rule_util.hpp"

namespace torchlean::verify {

namespace {

using I = Interval<double>;

// ---- affine elementwise ops ----

// y = sa * a + sb * b elementwise over parents 0 and 1 (constants folded in).
AffineMap binary_affine(const NodeCtx& ctx, double sa, double sb, int64_t roundings) {
  const int64_t n = ctx.node.shape.numel();
  AffineBuilder m(ctx, n);
  const double s[2] = {sa, sb};
  for (int64_t i = 0; i < n; ++i) {
    for (int32_t p = 0; p < 2; ++p) {
      if (detail::is_const(ctx, p)) {
        const Box& c = *ctx.constant[p];
        const double lo = s[p] > 0 ? c.lo[i] : -c.hi[i], hi = s[p] > 0 ? c.hi[i] : -c.lo[i];
        m.constant(lo, hi);
      } else {
        m.term(p, i, s[p]);
      }
    }
    m.end_row(roundings);
  }
  return m.finish();
}

AffineMap neg_map(const NodeCtx& ctx) {
  AffineBuilder m(ctx, ctx.node.shape.numel());
  for (int64_t i = 0; i < ctx.node.shape.numel(); ++i) {
    m.term(0, i, -1);
    m.end_row(0);
  }
  return m.finish();
}

// x * c or x / c with c constant (the other parent); coefficient c or 1/c as an enclosure.
AffineMap scale_map(const NodeCtx& ctx, bool divide) {
  const int32_t var = detail::is_const(ctx, 0) ? 1 : 0;
  const Box& c = *ctx.constant[1 - var];
  AffineBuilder m(ctx, ctx.node.shape.numel());
  for (int64_t i = 0; i < ctx.node.shape.numel(); ++i) {
    I k{c.lo[i], c.hi[i]};
    if (divide) k = I{1, 1} / k;
    if (std::isinf(k.lo) || std::isinf(k.hi)) {
      m.term(var, i, 0, kInf);
    } else {
      const double mid = k.lo + (k.hi - k.lo) / 2;
      m.term(var, i, mid, std::fmax(sub_up(mid, k.lo), sub_up(k.hi, mid)));
    }
    m.end_row(1);
  }
  return m.finish();
}

// Interval box of a binary op on the parents' boxes; float32 rounds it outward (one rounding).
template <class Fn>
Box binary_ibp(const NodeCtx& ctx, Fn f, bool rounds) {
  const Box& a = *ctx.parents[0];
  const Box& b = *ctx.parents[1];
  Box out(a.size());
  for (int64_t i = 0; i < a.size(); ++i) {
    const I y = f(I{a.lo[i], a.hi[i]}, I{b.lo[i], b.hi[i]});
    out.lo[i] = y.lo;
    out.hi[i] = y.hi;
  }
  if (rounds && ctx.sem == Semantics::float32) round_box_to_f32(out);
  return out;
}

bool one_const(const NodeCtx& ctx) { return detail::is_const(ctx, 0) || detail::is_const(ctx, 1); }

// ---- unary relaxations ----

double leaky_alpha(const NodeCtx& ctx) {
  const double a = std::get<ir::LeakyReluAttrs>(ctx.node.attrs).alpha;
  if (!(a >= 0 && a <= 1))
    throw UserError(ctx.prefix() + "bound rules need 0 <= alpha <= 1, got " + std::to_string(a));
  return ctx.sem == Semantics::float32 ? static_cast<double>(static_cast<float>(a)) : a;
}

Box leaky_ibp(const NodeCtx& ctx, double a) {
  const Box& x = *ctx.parents[0];
  Box out(x.size());
  for (int64_t i = 0; i < x.size(); ++i) {
    out.lo[i] = x.lo[i] >= 0 ? x.lo[i] : mul_down(a, x.lo[i]);
    out.hi[i] = x.hi[i] >= 0 ? x.hi[i] : mul_up(a, x.hi[i]);
  }
  if (a != 0 && ctx.sem == Semantics::float32) round_box_to_f32(out);
  return out;
}

Relaxation piecewise(const NodeCtx& ctx, double a, bool is_abs) {
  const Box& x = *ctx.parents[0];
  Relaxation r;
  r.relu_like = !is_abs;
  r.alpha_lo = a;
  const size_t n = static_cast<size_t>(x.size());
  r.ls.resize(n), r.lt.resize(n), r.us.resize(n), r.ut.resize(n), r.err.assign(n, 0.0);
  r.unstable.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    Line lo, up;
    if (is_abs)
      relax_abs(x.lo[i], x.hi[i], lo, up);
    else
      relax_leaky(a, x.lo[i], x.hi[i], lo, up);
    r.ls[i] = lo.slope, r.lt[i] = lo.intercept, r.us[i] = up.slope, r.ut[i] = up.intercept;
    r.unstable[i] = x.lo[i] < 0 && x.hi[i] > 0;
    // float32: alpha * x is one rounding on the negative side.
    if (!is_abs && a != 0 && ctx.sem == Semantics::float32 && x.lo[i] < 0)
      r.err[i] = add_up(mul_up(kU32, mul_up(a, -x.lo[i])), kEta32);
  }
  return r;
}

// A smooth (or any) unary f with an interval extension: relaxation per element; float32 adds
// the one rounding of a correctly rounded operation.
Relaxation smooth(const NodeCtx& ctx, const IntervalFn& f, bool single_f32_op) {
  if (ctx.sem == Semantics::float32 && !single_f32_op) detail::no_float32_rule(ctx);
  const Box& x = *ctx.parents[0];
  const Box y = detail::map_ibp(ctx, f, single_f32_op);
  Relaxation r;
  const size_t n = static_cast<size_t>(x.size());
  r.ls.resize(n), r.lt.resize(n), r.us.resize(n), r.ut.resize(n), r.err.assign(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    Line lo, up;
    relax_smooth(f, x.lo[i], x.hi[i], lo, up);
    if (std::isinf(lo.intercept)) lo = {0, y.lo[i]};
    if (std::isinf(up.intercept)) up = {0, y.hi[i]};
    r.ls[i] = lo.slope, r.lt[i] = lo.intercept, r.us[i] = up.slope, r.ut[i] = up.intercept;
    if (ctx.sem == Semantics::float32)
      r.err[i] = add_up(mul_up(kU32, mag(y.lo[i], y.hi[i])), kEta32);
  }
  return r;
}

// ---- the real functions ----
I f_sqrt(const I& x) { return x.hi < 0 ? I{0, 0} : sqrt(x); }  // sqrt(max(x, 0))
I f_inv(const I& x) { return I{1, 1} / x; }
I f_exp(const I& x) { return exp(x); }
I f_log(const I& x) { return log(x); }
I f_tanh(const I& x) { return tanh(x); }
I f_sigmoid(const I& x) { return sigmoid(x); }
I f_sin(const I& x) { return sin(x); }
I f_cos(const I& x) { return cos(x); }
I f_erf(const I& x) { return erf(x); }
I f_softplus(const I& x) { return log(I{1, 1} + exp(x)); }
I f_silu(const I& x) {
  // x * sigmoid(x) is nonincreasing below its minimum near -1.278 and nondecreasing above; the
  // product of intervals is a valid (wider) enclosure everywhere.
  return x * sigmoid(x);
}
I f_gelu(const I& x) {
  const I inv_sqrt2 = sqrt(I{0.5, 0.5});  // an outward enclosure of 1/sqrt(2)
  return x * I{0.5, 0.5} * (I{1, 1} + erf(x * inv_sqrt2));
}

IntervalFn pow_fn(double p) {
  return [p](const I& x) -> I {
    if (p == std::floor(p) && std::fabs(p) <= 64) {
      const int64_t k = static_cast<int64_t>(std::fabs(p));
      I r{1, 1};
      const I ax = (k % 2 == 0) ? abs(x) : x;  // even powers: |x|^k is monotone on [0, inf)
      for (int64_t i = 0; i < k; ++i) r = r * ax;
      return p < 0 ? I{1, 1} / r : r;
    }
    if (p == 0.5) return f_sqrt(x);
    return exp(I{p, p} * log(x));
  };
}

IntervalFn clamp_fn(const ir::ClampAttrs& a) {
  return [a](const I& x) {
    I y = x;
    if (a.has_lo) y = maximum(y, I{a.lo, a.lo});
    if (a.has_hi) y = minimum(y, I{a.hi, a.hi});
    return y;
  };
}

#define TL_SMOOTH_RULE(json, fn, single)                                   \
  const OpRule BoundRule<json>::rule{                                      \
      [](const NodeCtx& ctx) { return detail::map_ibp(ctx, fn, single); }, \
      [](const NodeCtx& ctx) -> Linearization { return smooth(ctx, fn, single); }, true};

}  // namespace

const OpRule BoundRule<"add">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(binary_affine(ctx, 1, 1, 1), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return binary_affine(ctx, 1, 1, 1); }, true};
const OpRule BoundRule<"sub">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(binary_affine(ctx, 1, -1, 1), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return binary_affine(ctx, 1, -1, 1); }, true};
const OpRule BoundRule<"neg">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(neg_map(ctx), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return neg_map(ctx); }, true};
const OpRule BoundRule<"mul_elem">::rule{[](const NodeCtx& ctx) {
                                           if (one_const(ctx))
                                             return affine_ibp(scale_map(ctx, false), ctx);
                                           return binary_ibp(
                                               ctx, [](const I& a, const I& b) { return a * b; },
                                               true);
                                         },
                                         [](const NodeCtx& ctx) -> Linearization {
                                           if (one_const(ctx)) return scale_map(ctx, false);
                                           return UseBox{};
                                         },
                                         true};
const OpRule BoundRule<"div">::rule{[](const NodeCtx& ctx) {
                                      if (detail::is_const(ctx, 1))
                                        return affine_ibp(scale_map(ctx, true), ctx);
                                      return binary_ibp(
                                          ctx, [](const I& a, const I& b) { return a / b; }, true);
                                    },
                                    [](const NodeCtx& ctx) -> Linearization {
                                      if (detail::is_const(ctx, 1)) return scale_map(ctx, true);
                                      return UseBox{};
                                    },
                                    true};
const OpRule BoundRule<"max_elem">::rule{
    [](const NodeCtx& ctx) {
      return binary_ibp(
          ctx, [](const I& a, const I& b) { return maximum(a, b); }, false);
    },
    detail::use_box, true};
const OpRule BoundRule<"min_elem">::rule{
    [](const NodeCtx& ctx) {
      return binary_ibp(
          ctx, [](const I& a, const I& b) { return minimum(a, b); }, false);
    },
    detail::use_box, true};

const OpRule BoundRule<"relu">::rule{
    [](const NodeCtx& ctx) { return leaky_ibp(ctx, 0); },
    [](const NodeCtx& ctx) -> Linearization { return piecewise(ctx, 0, false); }, true};
const OpRule BoundRule<"leaky_relu">::rule{
    [](const NodeCtx& ctx) { return leaky_ibp(ctx, leaky_alpha(ctx)); },
    [](const NodeCtx& ctx) -> Linearization { return piecewise(ctx, leaky_alpha(ctx), false); },
    true};
const OpRule BoundRule<"abs">::rule{
    [](const NodeCtx& ctx) {
      return detail::map_ibp(
          ctx, [](const I& x) { return abs(x); }, true);
    },
    [](const NodeCtx& ctx) -> Linearization { return piecewise(ctx, 0, true); }, true};

TL_SMOOTH_RULE("sqrt", f_sqrt, true)
TL_SMOOTH_RULE("inv", f_inv, true)
TL_SMOOTH_RULE("exp", f_exp, true)
TL_SMOOTH_RULE("log", f_log, true)
TL_SMOOTH_RULE("tanh", f_tanh, true)
TL_SMOOTH_RULE("sigmoid", f_sigmoid, true)
TL_SMOOTH_RULE("sin", f_sin, true)
TL_SMOOTH_RULE("cos", f_cos, true)
TL_SMOOTH_RULE("erf", f_erf, true)
TL_SMOOTH_RULE("softplus", f_softplus, false)
TL_SMOOTH_RULE("silu", f_silu, false)
TL_SMOOTH_RULE("gelu", f_gelu, false)
#undef TL_SMOOTH_RULE

const OpRule BoundRule<"pow_const">::rule{
    [](const NodeCtx& ctx) {
      return detail::map_ibp(ctx, pow_fn(std::get<ir::PowAttrs>(ctx.node.attrs).exponent), false);
    },
    [](const NodeCtx& ctx) -> Linearization {
      return smooth(ctx, pow_fn(std::get<ir::PowAttrs>(ctx.node.attrs).exponent), false);
    },
    true};
const OpRule BoundRule<"clamp">::rule{
    [](const NodeCtx& ctx) {
      return detail::map_ibp(ctx, clamp_fn(std::get<ir::ClampAttrs>(ctx.node.attrs)), false);
    },
    [](const NodeCtx& ctx) -> Linearization {
      return smooth(ctx, clamp_fn(std::get<ir::ClampAttrs>(ctx.node.attrs)), false);
    },
    true};

const OpRule BoundRule<"compare">::rule{[](const NodeCtx& ctx) {
                                          const std::string cmp =
                                              std::get<ir::CompareAttrs>(ctx.node.attrs).cmp;
                                          return binary_ibp(
                                              ctx,
                                              [&cmp](const I& a, const I& b) -> I {
                                                // Decided when the boxes are ordered; otherwise
                                                // either value is possible.
                                                std::optional<bool> v;
                                                if (cmp == "lt" || cmp == "ge") {
                                                  if (a.hi < b.lo) v = true;
                                                  if (a.lo >= b.hi) v = false;
                                                  if (v && cmp == "ge") v = !*v;
                                                } else if (cmp == "gt" || cmp == "le") {
                                                  if (a.lo > b.hi) v = true;
                                                  if (a.hi <= b.lo) v = false;
                                                  if (v && cmp == "le") v = !*v;
                                                } else if (a.is_point() && b.is_point()) {
                                                  v = (a.lo == b.lo) == (cmp == "eq");
                                                } else if (a.hi < b.lo || b.hi < a.lo) {
                                                  v = cmp == "ne";
                                                }
                                                if (!v) return I{0, 1};
                                                return *v ? I{1, 1} : I{0, 0};
                                              },
                                              false);
                                        },
                                        detail::use_box, true};

const OpRule BoundRule<"where">::rule{
    [](const NodeCtx& ctx) {
      const Box& c = *ctx.parents[0];
      const Box& a = *ctx.parents[1];
      const Box& b = *ctx.parents[2];
      Box out(a.size());
      for (int64_t i = 0; i < a.size(); ++i) {
        const bool maybe_a = !(c.lo[i] == 0 && c.hi[i] == 0);
        const bool maybe_b = c.lo[i] <= 0 && c.hi[i] >= 0;
        out.lo[i] = kInf, out.hi[i] = -kInf;
        if (maybe_a)
          out.lo[i] = std::min(out.lo[i], a.lo[i]), out.hi[i] = std::max(out.hi[i], a.hi[i]);
        if (maybe_b)
          out.lo[i] = std::min(out.lo[i], b.lo[i]), out.hi[i] = std::max(out.hi[i], b.hi[i]);
      }
      return out;
    },
    detail::use_box, true};

}  // namespace torchlean::verify
