// VJPs of the reductions (ops/reduction.cpp): the adjoint of a sum over an axis is the upstream
// gradient broadcast back along that axis; a mean also divides by the axis length (a division,
// like the forward's, so a power-of-two length stays exact).
#include "torchlean/autodiff/vjp.hpp"

namespace torchlean::autodiff::detail {

using ir::OpKind;

Adjoints vjp_reduce_sum(const VjpContext& c) {
  return {c.e.spread(c.gy, c.parent_shape(0), c.attrs<ir::AxisAttrs>().axis)};
}

Adjoints vjp_reduce_mean(const VjpContext& c) {
  const int64_t axis = c.attrs<ir::AxisAttrs>().axis;
  const int64_t spread = c.e.spread(c.gy, c.parent_shape(0), axis);
  const double n = static_cast<double>(c.parent_shape(0)[axis]);
  return {c.e.binary(OpKind::div, spread, c.e.full(c.parent_shape(0), n))};
}

Adjoints vjp_sum(const VjpContext& c) { return {c.e.broadcast(c.gy, c.parent_shape(0))}; }

// L = sum (y - t)^2 / N (N = element count, 1 if empty): dL/dy = g * 2 (y - t) / N = -dL/dt.
Adjoints vjp_mse_loss(const VjpContext& c) {
  const Shape s = c.parent_shape(0);
  const int64_t d = c.e.binary(OpKind::sub, c.parent(0), c.parent(1));
  const int64_t twice = c.e.binary(OpKind::add, d, d);
  const double n = static_cast<double>(s.numel() == 0 ? 1 : s.numel());
  const int64_t gy = c.e.binary(
      OpKind::div, c.e.binary(OpKind::mul_elem, twice, c.e.broadcast(c.gy, s)), c.e.full(s, n));
  return {c.needed[0] ? gy : kNone, c.needed[1] ? c.e.unary(OpKind::neg, gy) : kNone};
}

}  // namespace torchlean::autodiff::detail
