// VJPs of the ops that only move values (ops/layout.cpp and the indexing extensions). Each adjoint
// is the transpose of the copy: the inverse permutation, a sum over the axes a broadcast repeats,
// a slice for concat and pad, and the gradient-only slice_grad / gather_grad for slice and gather.
#include "torchlean/autodiff/vjp.hpp"

namespace torchlean::autodiff::detail {

using ir::OpKind;

namespace {

// Slice attributes selecting [begin, begin + len) along `axis` and everything along the others.
ir::SliceAttrs block_along(const Shape& s, int64_t axis, int64_t begin, int64_t len) {
  ir::SliceAttrs a;
  for (int64_t i = 0; i < s.rank(); ++i) {
    a.starts.push_back(i == axis ? begin : 0);
    a.ends.push_back(i == axis ? begin + len : s[i]);
    a.steps.push_back(1);
  }
  return a;
}

}  // namespace

Adjoints vjp_input(const VjpContext&) { return {}; }
Adjoints vjp_constant(const VjpContext&) { return {}; }

Adjoints vjp_permute(const VjpContext& c) {
  const std::vector<int64_t>& perm = c.attrs<ir::PermuteAttrs>().perm;
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  return {c.e.add(OpKind::permute, {c.gy}, ir::PermuteAttrs{std::move(inverse)})};
}

// detach is the identity whose derivative is defined as zero: gradients stop here.
Adjoints vjp_detach(const VjpContext&) { return {kNone}; }

// TorchLean's left-aligned broadcast_to: replay the witness walk of ops/layout.cpp and sum over
// every target axis that is not a kept (dim_eq) source axis.
Adjoints vjp_broadcast_to(const VjpContext& c) {
  const auto& a = c.attrs<ir::BroadcastToAttrs>();
  const Shape& from = a.from_shape;
  const Shape& to = a.to_shape;
  std::vector<int64_t> summed;
  int64_t i = 0;
  for (int64_t j = 0; j < to.rank(); ++j) {
    if (i < from.rank() && from[i] == to[j]) {
      ++i;
      continue;
    }
    if (i < from.rank() && from[i] == 1) ++i;
    summed.push_back(j);
  }
  return {c.e.sum_axes_to(c.gy, std::move(summed), from)};
}

// NumPy's right-aligned broadcast: sum over the new leading axes and the stretched 1-axes.
Adjoints vjp_broadcast(const VjpContext& c) {
  const Shape from = c.parent_shape(0);
  const Shape& to = c.attrs<ir::BroadcastAttrs>().to_shape;
  const int64_t lead = to.rank() - from.rank();
  std::vector<int64_t> summed;
  for (int64_t j = 0; j < to.rank(); ++j)
    if (j < lead || (from[j - lead] == 1 && to[j] != 1)) summed.push_back(j);
  return {c.e.sum_axes_to(c.gy, std::move(summed), from)};
}

Adjoints vjp_reshape(const VjpContext& c) { return {c.e.reshape(c.gy, c.parent_shape(0))}; }
Adjoints vjp_flatten(const VjpContext& c) { return {c.e.reshape(c.gy, c.parent_shape(0))}; }

Adjoints vjp_concat(const VjpContext& c) {
  const int64_t axis = c.attrs<ir::AxisAttrs>().axis;
  const Shape out = c.node.shape;
  Adjoints adj;
  int64_t offset = 0;
  for (size_t k = 0; k < c.node.parents.size(); ++k) {
    const int64_t len = c.parent_shape(k)[axis];
    adj.push_back(c.needed[k] ? c.e.add(OpKind::slice, {c.gy}, block_along(out, axis, offset, len))
                              : kNone);
    offset += len;
  }
  return adj;
}

Adjoints vjp_swap_first_two(const VjpContext& c) {
  return {c.e.add(OpKind::swap_first_two, {c.gy})};
}

Adjoints vjp_transpose3d_last_two(const VjpContext& c) {
  return {c.e.add(OpKind::transpose3d_last_two, {c.gy})};
}

Adjoints vjp_slice(const VjpContext& c) {
  return {c.e.add(OpKind::slice_grad, {c.gy}, c.node.attrs, c.parent_shape(0))};
}

// slice_grad is linear in g with transpose slice.
Adjoints vjp_slice_grad(const VjpContext& c) {
  return {c.e.add(OpKind::slice, {c.gy}, c.node.attrs)};
}

// The padded border is constant: the adjoint is the interior block.
Adjoints vjp_pad(const VjpContext& c) {
  const auto& a = c.attrs<ir::PadAttrs>();
  const Shape in = c.parent_shape(0);
  ir::SliceAttrs s;
  for (int64_t i = 0; i < in.rank(); ++i) {
    s.starts.push_back(a.pads_begin[static_cast<size_t>(i)]);
    s.ends.push_back(a.pads_begin[static_cast<size_t>(i)] + in[i]);
    s.steps.push_back(1);
  }
  return {c.e.add(OpKind::slice, {c.gy}, std::move(s))};
}

Adjoints vjp_gather(const VjpContext& c) {
  c.not_differentiable(1, "(indices) is not differentiable");
  return {c.e.add(OpKind::gather_grad, {c.parent(1), c.gy}, c.node.attrs, c.parent_shape(0)),
          kNone};
}

// gather_grad (a scatter-add) is linear in g with transpose gather.
Adjoints vjp_gather_grad(const VjpContext& c) {
  c.not_differentiable(0, "(indices) is not differentiable");
  return {kNone, c.e.add(OpKind::gather, {c.gy, c.parent(0)}, c.node.attrs)};
}

}  // namespace torchlean::autodiff::detail
