// VJPs of softmax, log_softmax, layernorm, cross_entropy and batchnorm (ops/normalization.cpp and
// the loss extensions), in their textbook closed forms built from the forward output:
//   softmax:       dx = y * (g - sum(g * y))
//   log_softmax:   dx = g - softmax(x) * sum(g)
//   layernorm:     dx = (g - mean(g) - y * mean(g * y)) / sigma, sigma = sqrt(var + eps)
//   cross_entropy: dlogits = (softmax(logits) - onehot(targets)) * g / N
// (sums and means along the op's axis). These are the exact derivatives of the real-valued
// functions, so they are checked against exact and central-difference Jacobians alike.
#include "torchlean/autodiff/vjp.hpp"

namespace torchlean::autodiff::detail {

using ir::OpKind;

Adjoints vjp_softmax(const VjpContext& c) {
  const int64_t axis = c.attrs<ir::AxisAttrs>().axis;
  const Shape s = c.parent_shape(0);
  const int64_t y = c.out();
  const int64_t gy_y = c.e.binary(OpKind::mul_elem, c.gy, y);
  const int64_t dot = c.e.add(OpKind::reduce_sum, {gy_y}, ir::AxisAttrs{axis});
  const int64_t centred = c.e.binary(OpKind::sub, c.gy, c.e.spread(dot, s, axis));
  return {c.e.binary(OpKind::mul_elem, y, centred)};
}

Adjoints vjp_log_softmax(const VjpContext& c) {
  const int64_t axis = c.attrs<ir::AxisAttrs>().axis;
  const Shape s = c.parent_shape(0);
  const int64_t sm = c.e.add(OpKind::softmax, {c.parent(0)}, ir::AxisAttrs{axis});
  const int64_t total = c.e.add(OpKind::reduce_sum, {c.gy}, ir::AxisAttrs{axis});
  return {
      c.e.binary(OpKind::sub, c.gy, c.e.binary(OpKind::mul_elem, sm, c.e.spread(total, s, axis)))};
}

// Rows are the (prod dims[:axis], prod dims[axis:]) view, as in the forward. sigma is recomputed
// with the forward's formula (var = max(E[c^2] - E[c]^2, 0), eps = 1e-6 as 1 / 10^6, one
// correctly rounded division: the domain's nearest value to 10^-6, like the forward's).
Adjoints vjp_layernorm(const VjpContext& c) {
  const int64_t axis = c.attrs<ir::AxisAttrs>().axis;
  const Shape s = c.parent_shape(0);
  int64_t rows = 1, width = 1;
  for (int64_t i = 0; i < s.rank(); ++i) (i < axis ? rows : width) *= s[i];
  if (width == 0) return {c.e.zeros(s)};
  Emitter& e = c.e;
  const Shape view{rows, width};
  const auto mean = [&](int64_t v) { return e.add(OpKind::reduce_mean, {v}, ir::AxisAttrs{1}); };
  const auto rep = [&](int64_t v) { return e.spread(v, view, 1); };
  const int64_t x = e.reshape(c.parent(0), view);
  const int64_t centred = e.binary(OpKind::sub, x, rep(mean(x)));
  const int64_t m2 = mean(e.binary(OpKind::mul_elem, centred, centred));
  const int64_t m1 = mean(centred);
  const int64_t var =
      e.unary(OpKind::relu, e.binary(OpKind::sub, m2, e.binary(OpKind::mul_elem, m1, m1)));
  const int64_t eps = e.binary(OpKind::div, e.scalar(1.0), e.scalar(1e6));
  const int64_t sigma =
      e.unary(OpKind::sqrt, e.binary(OpKind::add, var, e.broadcast(eps, Shape{rows})));
  const int64_t y = e.reshape(c.out(), view);
  const int64_t g = e.reshape(c.gy, view);
  const int64_t mg = mean(g);
  const int64_t mgy = mean(e.binary(OpKind::mul_elem, g, y));
  const int64_t num = e.binary(OpKind::sub, e.binary(OpKind::sub, g, rep(mg)),
                               e.binary(OpKind::mul_elem, y, rep(mgy)));
  return {e.reshape(e.binary(OpKind::div, num, rep(sigma)), s)};
}

Adjoints vjp_batch_norm2d_nchw_eval(const VjpContext& c) {
  c.not_differentiable(0,
                       "(batch_norm2d_nchw_eval keeps its statistics in the payload): call "
                       "autodiff::lift_parameters before grad");
  return {kNone};
}

Adjoints vjp_cross_entropy(const VjpContext& c) {
  c.not_differentiable(1, "(class targets) is not differentiable");
  const Shape s = c.parent_shape(0);
  const int64_t n = s[0], classes = s[1];
  Emitter& e = c.e;
  std::vector<double> iota(static_cast<size_t>(classes));
  for (int64_t k = 0; k < classes; ++k) iota[static_cast<size_t>(k)] = static_cast<double>(k);
  const int64_t labels = e.broadcast(e.reshape(c.parent(1), Shape{n, 1}), s);
  const int64_t onehot = e.compare(labels, e.broadcast(e.constant(Shape{classes}, iota), s), "eq");
  const int64_t sm = e.add(OpKind::softmax, {c.parent(0)}, ir::AxisAttrs{1});
  const int64_t per_row = e.binary(OpKind::div, c.gy, e.scalar(static_cast<double>(n)));
  return {e.binary(OpKind::mul_elem, e.binary(OpKind::sub, sm, onehot), e.broadcast(per_row, s)),
          kNone};
}

}  // namespace torchlean::autodiff::detail
