// Reference semantics of the ops that only move values (no arithmetic, so no rounding and no
// evaluation-order question: every output element is a copy of one input element; outputs are
// written in row-major order).
//   input:       bound by the evaluator, never evaluated here (an InternalError if it is).
//   const:       the payload slot "value", in row-major order, with the node's shape.
//   permute:     torch.permute: out.shape[i] = in.shape[perm[i]] and out[j] = in[k] with
//                k[perm[i]] = j[i].
//   broadcast_to: TorchLean v1's witness-driven broadcast with its left-aligned greedy rule
//                (OpContracts.mkCanBroadcastTo?): walking from_shape and to_shape outermost first,
//                a source dim equal to the target dim is kept (dim_eq), else a source dim 1 is
//                repeated (dim_1_to_n), else the target dim is a new axis that repeats the rest
//                (expand_dims); once the source is used up the remaining target axes repeat it
//                (scalar_to_any). So (3) -> (3,3) gives y[i][j] = x[i] (NumPy would give x[j]).
//   reshape, flatten: the same row-major element sequence under the new shape.
//   concat(axis): the parents' blocks along `axis`, in parent order.
//   swap_first_two: (m, n, rest...) -> (n, m, rest...), y[j][i][r] = x[i][j][r].
//   transpose3d_last_two: (a, b, c) -> (a, c, b), y[i][k][j] = x[i][j][k].
#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

// Copies x's elements into a tensor of shape `to` (same count).
template <class S>
Tensor<S> with_shape(const ir::Node& node, const Tensor<S>& x, const Shape& to) {
  TL_INTERNAL_CHECK(x.numel() == to.numel(), detail::prefix(node) + "input " + x.shape().str() +
                                                 " and output " + to.str() +
                                                 " passed the checker with different counts");
  return Tensor<S>(to, x.vec());
}

// Gathers out[j] = x[offset(j)] where offset is a linear function of the output multi-index:
// offset(j) = sum_i j[i] * in_step[i].
template <class S>
Tensor<S> gather_strided(const Tensor<S>& x, const Shape& out_shape,
                         const std::vector<int64_t>& in_step) {
  Tensor<S> out(out_shape);
  if (out.numel() == 0) return out;
  std::vector<int64_t> idx(static_cast<size_t>(out_shape.rank()), 0);
  int64_t o = 0;
  do {
    int64_t offset = 0;
    for (size_t i = 0; i < idx.size(); ++i) offset += idx[i] * in_step[i];
    out[o++] = x[offset];
  } while (detail::next_index(idx, out_shape.dims()));
  return out;
}

}  // namespace

template <class S>
Tensor<S> eval_input(const EvalArgs<S>& args) {
  throw InternalError(detail::prefix(args.node) +
                      "input nodes are bound by the evaluator and have no semantics of their own");
}

template <class S>
Tensor<S> eval_constant(const EvalArgs<S>& args) {
  const Tensor<S>& value = args.slot("value");
  if (value.numel() != args.node.shape.numel())
    throw UserError(detail::prefix(args.node) + "payload 'value' has shape " + value.shape().str() +
                    " (" + std::to_string(value.numel()) + " values), the node declares " +
                    args.node.shape.str());
  return Tensor<S>(args.node.shape, value.vec());
}

template <class S>
Tensor<S> eval_permute(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const std::vector<int64_t>& perm = args.template attrs<ir::PermuteAttrs>().perm;
  const Shape& s = x.shape();
  TL_INTERNAL_CHECK(static_cast<int64_t>(perm.size()) == s.rank(),
                    detail::prefix(args.node) + "perm of length " + std::to_string(perm.size()) +
                        " passed the checker for input " + s.str());
  const std::vector<int64_t> strides = s.strides();
  std::vector<int64_t> out_dims, in_step;
  for (int64_t p : perm) {
    TL_INTERNAL_CHECK(p >= 0 && p < s.rank(), detail::prefix(args.node) + "perm entry " +
                                                  std::to_string(p) + " out of range");
    out_dims.push_back(s[p]);
    in_step.push_back(strides[static_cast<size_t>(p)]);
  }
  return gather_strided(x, Shape(std::move(out_dims)), in_step);
}

template <class S>
Tensor<S> eval_broadcast_to(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const auto& a = args.template attrs<ir::BroadcastToAttrs>();
  const Shape& from = a.from_shape;
  const Shape& to = a.to_shape;
  TL_INTERNAL_CHECK(x.shape() == from, detail::prefix(args.node) + "parent " + x.shape().str() +
                                           " passed the checker but from_shape is " + from.str());
  // in_step[j]: how far the source offset moves per step of target axis j (0 for repeated axes).
  const std::vector<int64_t> strides = from.strides();
  std::vector<int64_t> in_step(static_cast<size_t>(to.rank()), 0);
  int64_t i = 0;
  for (int64_t j = 0; j < to.rank() && i < from.rank(); ++j) {
    if (from[i] == to[j]) {
      in_step[static_cast<size_t>(j)] = strides[static_cast<size_t>(i)];
      ++i;
    } else if (from[i] == 1) {
      ++i;
    }
  }
  if (i < from.rank())
    throw UserError(detail::prefix(args.node) + "cannot broadcast " + from.str() + " to " +
                    to.str() + " (TorchLean's left-aligned greedy rule)");
  return gather_strided(x, to, in_step);
}

template <class S>
Tensor<S> eval_reshape(const EvalArgs<S>& args) {
  return with_shape(args.node, args.arg(0), args.template attrs<ir::ReshapeAttrs>().out_shape);
}

template <class S>
Tensor<S> eval_flatten(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  return with_shape(args.node, x, Shape{x.numel()});
}

template <class S>
Tensor<S> eval_concat(const EvalArgs<S>& args) {
  const int64_t axis = args.template attrs<ir::AxisAttrs>().axis;
  const Shape& out_shape = args.node.shape;
  TL_INTERNAL_CHECK(!args.parents.empty() && axis >= 0 && axis < out_shape.rank(),
                    detail::prefix(args.node) + "axis " + std::to_string(axis) +
                        " passed the checker but is invalid for " + out_shape.str());
  const int64_t outer = detail::dims_product(out_shape, 0, axis);
  const int64_t inner = detail::dims_product(out_shape, axis + 1, out_shape.rank());
  int64_t total = 0;
  for (size_t p = 0; p < args.parents.size(); ++p) {
    const Shape& ps = args.arg(p).shape();
    TL_INTERNAL_CHECK(ps.rank() == out_shape.rank() && detail::dims_product(ps, 0, axis) == outer &&
                          detail::dims_product(ps, axis + 1, ps.rank()) == inner,
                      detail::prefix(args.node) + "parent " + std::to_string(p) + " shape " +
                          ps.str() + " passed the checker but does not fit " + out_shape.str());
    total += ps[axis];
  }
  TL_INTERNAL_CHECK(total == out_shape[axis],
                    detail::prefix(args.node) + "parents do not add up to " + out_shape.str());
  Tensor<S> out(out_shape);
  int64_t o = 0;
  for (int64_t block = 0; block < outer; ++block) {
    for (size_t p = 0; p < args.parents.size(); ++p) {
      const Tensor<S>& x = args.arg(p);
      const int64_t run = x.shape()[axis] * inner;
      for (int64_t k = 0; k < run; ++k) out[o++] = x[block * run + k];
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_swap_first_two(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const Shape& s = x.shape();
  TL_INTERNAL_CHECK(s.rank() >= 2, detail::prefix(args.node) + "input " + s.str() +
                                       " passed the checker but has rank < 2");
  const std::vector<int64_t> strides = s.strides();
  std::vector<int64_t> dims = s.dims();
  std::vector<int64_t> in_step = strides;
  std::swap(dims[0], dims[1]);
  std::swap(in_step[0], in_step[1]);
  return gather_strided(x, Shape(std::move(dims)), in_step);
}

template <class S>
Tensor<S> eval_transpose3d_last_two(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const Shape& s = x.shape();
  TL_INTERNAL_CHECK(s.rank() == 3, detail::prefix(args.node) + "input " + s.str() +
                                       " passed the checker but is not rank 3");
  const std::vector<int64_t> strides = s.strides();
  return gather_strided(x, Shape{s[0], s[2], s[1]}, {strides[0], strides[2], strides[1]});
}

TL_OPS_INSTANTIATE(input)
TL_OPS_INSTANTIATE(constant)
TL_OPS_INSTANTIATE(permute)
TL_OPS_INSTANTIATE(broadcast_to)
TL_OPS_INSTANTIATE(reshape)
TL_OPS_INSTANTIATE(flatten)
TL_OPS_INSTANTIATE(concat)
TL_OPS_INSTANTIATE(swap_first_two)
TL_OPS_INSTANTIATE(transpose3d_last_two)

}  // namespace torchlean::ops
