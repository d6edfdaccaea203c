// VJPs of the elementwise ops (ops/elementwise.cpp and the activation extensions), written with
// the forward node's own output where the derivative is a function of it (exp' = exp,
// tanh' = 1 - tanh^2, sigmoid' = s(1 - s)). Subgradient conventions (docs/autodiff.md):
// relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = alpha, max/min ties go to the first operand,
// clamp passes the gradient on its closed interval, and sqrt'(0), log'(0) are IEEE's +inf.
#include <cmath>
#include <numbers>

#include "torchlean/autodiff/vjp.hpp"

namespace torchlean::autodiff::detail {

using ir::OpKind;

namespace {

int64_t mul(Emitter& e, int64_t a, int64_t b) { return e.binary(OpKind::mul_elem, a, b); }
int64_t sub(Emitter& e, int64_t a, int64_t b) { return e.binary(OpKind::sub, a, b); }
int64_t div(Emitter& e, int64_t a, int64_t b) { return e.binary(OpKind::div, a, b); }
int64_t one_minus(Emitter& e, int64_t a) { return sub(e, e.full(e.shape(a), 1.0), a); }

// gy routed by a 0/1 mask: to operand 0 where it holds, operand 1 elsewhere (max/min ties).
Adjoints route(const VjpContext& c, int64_t first_wins) {
  return {c.needed[0] ? c.e.keep_where(first_wins, c.gy) : kNone,
          c.needed[1] ? c.e.keep_where_not(first_wins, c.gy) : kNone};
}

}  // namespace

Adjoints vjp_add(const VjpContext& c) { return {c.gy, c.gy}; }

Adjoints vjp_sub(const VjpContext& c) {
  return {c.gy, c.needed[1] ? c.e.unary(OpKind::neg, c.gy) : kNone};
}

Adjoints vjp_mul_elem(const VjpContext& c) {
  return {c.needed[0] ? mul(c.e, c.gy, c.parent(1)) : kNone,
          c.needed[1] ? mul(c.e, c.gy, c.parent(0)) : kNone};
}

Adjoints vjp_neg(const VjpContext& c) { return {c.e.unary(OpKind::neg, c.gy)}; }

// d(a/b) = da / b - (a/b) db / b.
Adjoints vjp_div(const VjpContext& c) {
  return {
      c.needed[0] ? div(c.e, c.gy, c.parent(1)) : kNone,
      c.needed[1] ? c.e.unary(OpKind::neg, div(c.e, mul(c.e, c.gy, c.out()), c.parent(1))) : kNone};
}

// sign(x) with sign(0) = 0 (and 0 for NaN).
Adjoints vjp_abs(const VjpContext& c) {
  const int64_t x = c.parent(0);
  const int64_t sign = sub(c.e, c.e.compare_const(x, 0.0, "gt"), c.e.compare_const(x, 0.0, "lt"));
  return {mul(c.e, c.gy, sign)};
}

// y = sqrt(max(x, +0)): g / (2y) for x >= 0 (+inf at 0), and 0 where the clamp is active.
Adjoints vjp_sqrt(const VjpContext& c) {
  const int64_t y = c.out();
  const int64_t d = div(c.e, c.gy, c.e.binary(OpKind::add, y, y));
  return {c.e.keep_where(c.e.compare_const(c.parent(0), 0.0, "ge"), d)};
}

// y = 1/x: dy = -y^2 dx.
Adjoints vjp_inv(const VjpContext& c) {
  const int64_t y = c.out();
  return {c.e.unary(OpKind::neg, mul(c.e, c.gy, mul(c.e, y, y)))};
}

Adjoints vjp_max_elem(const VjpContext& c) {
  return route(c, c.e.compare(c.parent(0), c.parent(1), "ge"));
}

Adjoints vjp_min_elem(const VjpContext& c) {
  return route(c, c.e.compare(c.parent(0), c.parent(1), "le"));
}

Adjoints vjp_relu(const VjpContext& c) {
  return {c.e.keep_where(c.e.compare_const(c.parent(0), 0.0, "gt"), c.gy)};
}

Adjoints vjp_tanh(const VjpContext& c) {
  const int64_t y = c.out();
  return {mul(c.e, c.gy, one_minus(c.e, mul(c.e, y, y)))};
}

Adjoints vjp_sigmoid(const VjpContext& c) {
  const int64_t y = c.out();
  return {mul(c.e, c.gy, mul(c.e, y, one_minus(c.e, y)))};
}

Adjoints vjp_exp(const VjpContext& c) { return {mul(c.e, c.gy, c.out())}; }

Adjoints vjp_log(const VjpContext& c) { return {div(c.e, c.gy, c.parent(0))}; }

Adjoints vjp_sin(const VjpContext& c) {
  return {mul(c.e, c.gy, c.e.unary(OpKind::cos, c.parent(0)))};
}

Adjoints vjp_cos(const VjpContext& c) {
  return {c.e.unary(OpKind::neg, mul(c.e, c.gy, c.e.unary(OpKind::sin, c.parent(0))))};
}

// d x^p = p x^(p-1): an integer p keeps pow_const's repeated products (down to pow_const's
// exponent limit -1024), p = 1/2 reuses the root (g / 2y, like sqrt), and any other p uses
// p * y / x (pow_const requires x > 0 there).
Adjoints vjp_pow_const(const VjpContext& c) {
  const double p = c.attrs<ir::PowAttrs>().exponent;
  const int64_t x = c.parent(0);
  if (p == 0.0) return {c.e.zeros(c.parent_shape(0))};
  if (p == 1.0) return {c.gy};
  if (p == 0.5) return {div(c.e, c.gy, c.e.binary(OpKind::add, c.out(), c.out()))};
  int64_t d;
  if (p == std::nearbyint(p) && p - 1.0 >= -1024.0)
    d = c.e.scale(p - 1.0 == 1.0 ? x : c.e.add(OpKind::pow_const, {x}, ir::PowAttrs{p - 1.0}), p);
  else
    d = div(c.e, c.e.scale(c.out(), p), x);
  return {mul(c.e, c.gy, d)};
}

// erf'(x) = 2/sqrt(pi) exp(-x^2); the constant is the binary64 nearest (docs/autodiff.md).
Adjoints vjp_erf(const VjpContext& c) {
  const int64_t x = c.parent(0);
  const int64_t bump = c.e.unary(OpKind::exp, c.e.unary(OpKind::neg, mul(c.e, x, x)));
  return {mul(c.e, c.gy, c.e.scale(bump, 2.0 * std::numbers::inv_sqrtpi))};
}

// gelu(x) = x Phi(x): gelu' = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt2)) / 2,
// phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
Adjoints vjp_gelu(const VjpContext& c) {
  const int64_t x = c.parent(0);
  const Shape s = c.parent_shape(0);
  const int64_t erf = c.e.unary(OpKind::erf, c.e.scale(x, std::numbers::sqrt2 / 2.0));
  const int64_t cdf = c.e.scale(c.e.binary(OpKind::add, c.e.full(s, 1.0), erf), 0.5);
  const int64_t bump = c.e.unary(OpKind::exp, c.e.scale(mul(c.e, x, x), -0.5));
  const int64_t pdf = c.e.scale(bump, std::numbers::inv_sqrtpi / std::numbers::sqrt2);
  return {mul(c.e, c.gy, c.e.binary(OpKind::add, cdf, mul(c.e, x, pdf)))};
}

// As PyTorch: the slope is 1 where x > 0 and alpha elsewhere (so alpha at 0).
Adjoints vjp_leaky_relu(const VjpContext& c) {
  const double alpha = c.attrs<ir::LeakyReluAttrs>().alpha;
  const int64_t pos = c.e.compare_const(c.parent(0), 0.0, "gt");
  return {c.e.add(OpKind::where, {pos, c.gy, c.e.scale(c.gy, alpha)})};
}

Adjoints vjp_softplus(const VjpContext& c) {
  return {mul(c.e, c.gy, c.e.unary(OpKind::sigmoid, c.parent(0)))};
}

// silu' = s (1 + x (1 - s)), s = sigmoid(x).
Adjoints vjp_silu(const VjpContext& c) {
  const int64_t x = c.parent(0);
  const int64_t s = c.e.unary(OpKind::sigmoid, x);
  const int64_t inner =
      c.e.binary(OpKind::add, c.e.full(c.parent_shape(0), 1.0), mul(c.e, x, one_minus(c.e, s)));
  return {mul(c.e, c.gy, mul(c.e, s, inner))};
}

// As PyTorch: the gradient passes where lo <= x <= hi (bounds included).
Adjoints vjp_clamp(const VjpContext& c) {
  const auto& a = c.attrs<ir::ClampAttrs>();
  int64_t g = c.gy;
  // An infinite bound on its own side never clamps (and has no Exact value): no mask.
  if (a.has_lo && a.lo != -HUGE_VAL)
    g = c.e.keep_where(c.e.compare_const(c.parent(0), a.lo, "ge"), g);
  if (a.has_hi && a.hi != HUGE_VAL)
    g = c.e.keep_where(c.e.compare_const(c.parent(0), a.hi, "le"), g);
  return {g};
}

// Piecewise constant: the derivative is 0 wherever it exists.
Adjoints vjp_compare(const VjpContext&) { return {kNone, kNone}; }

// The condition selects the same way it did forward; it is piecewise constant itself.
Adjoints vjp_where(const VjpContext& c) {
  const int64_t cond = c.parent(0);
  return {kNone, c.needed[1] ? c.e.keep_where(cond, c.gy) : kNone,
          c.needed[2] ? c.e.keep_where_not(cond, c.gy) : kNone};
}

}  // namespace torchlean::autodiff::detail
