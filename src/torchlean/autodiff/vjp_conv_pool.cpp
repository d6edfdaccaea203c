// VJPs of convolution and pooling (ops/conv_pool.cpp and the NCHW extensions). The adjoints are
// the gradient-only ops: conv2d_nchw_grad_input (transposed convolution), conv2d_nchw_grad_weight,
// max_pool2d_nchw_grad (each output gradient goes to the FIRST maximiser of its window, in
// row-major order) and avg_pool2d_nchw_grad. TorchLean's CHW ops are viewed as N = 1 batches.
// Second derivatives: the gradient-only ops are linear in their gradient operand, and their
// transposes are forward ops (conv, pooling), except max_pool2d_nchw_grad's routing, which has
// no IR expression (not differentiable in g; piecewise constant in x).
#include "torchlean/autodiff/vjp.hpp"

namespace torchlean::autodiff::detail {

using ir::OpKind;

namespace {

Shape batch_of_one(const Shape& chw) { return Shape{1, chw[0], chw[1], chw[2]}; }

ir::PoolNchwAttrs nchw_pool(int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                            bool count_include_pad) {
  ir::PoolNchwAttrs a;
  a.kH = kh;
  a.kW = kw;
  a.stride_h = a.stride_w = stride;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad;
  a.ceil_mode = false;
  a.count_include_pad = count_include_pad;
  return a;
}

// dx of a v1 CHW pool, through the NCHW gradient op on a batch of one.
Adjoints chw_max_pool(const VjpContext& c, const ir::PoolNchwAttrs& a) {
  const Shape xs = c.parent_shape(0);
  const int64_t x4 = c.e.reshape(c.parent(0), batch_of_one(xs));
  const int64_t g4 = c.e.reshape(c.gy, batch_of_one(c.node.shape));
  return {c.e.reshape(c.e.add(OpKind::max_pool2d_nchw_grad, {x4, g4}, a, batch_of_one(xs)), xs)};
}

Adjoints chw_avg_pool(const VjpContext& c, const ir::PoolNchwAttrs& a) {
  const Shape xs = c.parent_shape(0);
  const int64_t g4 = c.e.reshape(c.gy, batch_of_one(c.node.shape));
  return {c.e.reshape(c.e.add(OpKind::avg_pool2d_nchw_grad, {g4}, a, batch_of_one(xs)), xs)};
}

}  // namespace

Adjoints vjp_max_pool2d(const VjpContext& c) {
  const auto& a = c.attrs<ir::Pool2dAttrs>();
  return chw_max_pool(c, nchw_pool(a.kH, a.kW, a.stride, 0, false));
}

// max_pool2d_nchw_grad pads with -inf and needs padding < kernel (as PyTorch); v1 also accepts
// windows made only of padding (their output is the constant +0), which it cannot express.
Adjoints vjp_max_pool2d_pad(const VjpContext& c) {
  const auto& a = c.attrs<ir::Pool2dPadAttrs>();
  if (a.padding >= a.kH || a.padding >= a.kW)
    c.not_differentiable(0, "is not differentiable here: padding " + std::to_string(a.padding) +
                                " >= kernel " + std::to_string(a.kH) + "x" + std::to_string(a.kW) +
                                " (windows of padding only)");
  return chw_max_pool(c, nchw_pool(a.kH, a.kW, a.stride, a.padding, false));
}

// TorchLean divides by kH*kW always: count_include_pad.
Adjoints vjp_avg_pool2d(const VjpContext& c) {
  const auto& a = c.attrs<ir::Pool2dAttrs>();
  return chw_avg_pool(c, nchw_pool(a.kH, a.kW, a.stride, 0, true));
}

// A padding that reaches the kernel size (windows of padding only, allowed by v1) is beyond
// avg_pool2d_nchw_grad (padding < kernel, as PyTorch); zero padding counted in the divisor is the
// same as averaging the explicitly zero-padded input, so the adjoint is then the interior of the
// unpadded pool's adjoint.
Adjoints vjp_avg_pool2d_pad(const VjpContext& c) {
  const auto& a = c.attrs<ir::Pool2dPadAttrs>();
  if (a.padding < a.kH && a.padding < a.kW)
    return chw_avg_pool(c, nchw_pool(a.kH, a.kW, a.stride, a.padding, true));
  const Shape xs = c.parent_shape(0);
  const int64_t p = a.padding;
  const Shape padded{1, xs[0], xs[1] + 2 * p, xs[2] + 2 * p};
  const int64_t g4 = c.e.reshape(c.gy, batch_of_one(c.node.shape));
  const int64_t dpad =
      c.e.add(OpKind::avg_pool2d_nchw_grad, {g4}, nchw_pool(a.kH, a.kW, a.stride, 0, true), padded);
  const ir::SliceAttrs interior{{0, 0, p, p}, {1, xs[0], p + xs[1], p + xs[2]}, {1, 1, 1, 1}};
  return {c.e.reshape(c.e.add(OpKind::slice, {dpad}, interior), xs)};
}

Adjoints vjp_conv2d(const VjpContext& c) {
  c.not_differentiable(0,
                       "(conv2d keeps its weights in the payload): call "
                       "autodiff::lift_parameters before grad");
  return {kNone};
}

Adjoints vjp_conv2d_nchw(const VjpContext& c) {
  Adjoints adj(c.node.parents.size(), kNone);
  if (c.needed[0])
    adj[0] = c.e.add(OpKind::conv2d_nchw_grad_input, {c.gy, c.parent(1)}, c.node.attrs,
                     c.parent_shape(0));
  if (c.needed[1])
    adj[1] = c.e.add(OpKind::conv2d_nchw_grad_weight, {c.parent(0), c.gy}, c.node.attrs,
                     c.parent_shape(1));
  if (adj.size() == 3 && c.needed[2]) adj[2] = c.e.sum_axes_to(c.gy, {0, 2, 3}, c.parent_shape(2));
  return adj;
}

Adjoints vjp_max_pool2d_nchw(const VjpContext& c) {
  return {
      c.e.add(OpKind::max_pool2d_nchw_grad, {c.parent(0), c.gy}, c.node.attrs, c.parent_shape(0))};
}

Adjoints vjp_avg_pool2d_nchw(const VjpContext& c) {
  return {c.e.add(OpKind::avg_pool2d_nchw_grad, {c.gy}, c.node.attrs, c.parent_shape(0))};
}

Adjoints vjp_max_pool2d_nchw_grad(const VjpContext& c) {
  c.not_differentiable(1,
                       "(the routed gradient) has no IR derivative: second derivatives of max "
                       "pooling are not supported");
  return {kNone, kNone};
}

// dx = sum over windows of g / count: its transpose is the average pool itself.
Adjoints vjp_avg_pool2d_nchw_grad(const VjpContext& c) {
  return {c.e.add(OpKind::avg_pool2d_nchw, {c.gy}, c.node.attrs)};
}

// dx = T(g, W) is bilinear; <dx', T(g, W)> = <conv(dx', W), g> = <W, grad_weight(dx', g)>.
Adjoints vjp_conv2d_nchw_grad_input(const VjpContext& c) {
  return {c.needed[0] ? c.e.add(OpKind::conv2d_nchw, {c.gy, c.parent(1)}, c.node.attrs) : kNone,
          c.needed[1] ? c.e.add(OpKind::conv2d_nchw_grad_weight, {c.gy, c.parent(0)}, c.node.attrs,
                                c.parent_shape(1))
                      : kNone};
}

// dW = G(x, g) is bilinear; <dW', G(x, g)> = <conv(x, dW'), g> = <x, grad_input(g, dW')>.
Adjoints vjp_conv2d_nchw_grad_weight(const VjpContext& c) {
  return {c.needed[0] ? c.e.add(OpKind::conv2d_nchw_grad_input, {c.parent(1), c.gy}, c.node.attrs,
                                c.parent_shape(0))
                      : kNone,
          c.needed[1] ? c.e.add(OpKind::conv2d_nchw, {c.parent(0), c.gy}, c.node.attrs) : kNone};
}

}  // namespace torchlean::autodiff::detail
