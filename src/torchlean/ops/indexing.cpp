// Reference semantics of the extension indexing ops. Outputs are produced in row-major order;
// only gather_grad adds, everything else copies values unchanged (no rounding).
//   broadcast(x; to_shape): NumPy/ONNX right-aligned broadcasting: out[i_0..i_{r-1}] =
//       x[j_0..j_{q-1}] with j_k = i_{r-q+k}, or 0 where x's dim k is 1.
//   slice(x; starts, ends, steps): out[i] = x[start + i*step] on every axis (Python's
//       range(start, end, step)).
//   slice_grad(g) -> dx: +0 everywhere, then dx[start + i*step] = g[i] (slicing is injective, so
//       every position receives at most one value; nothing is added).
//   pad(x; pads_begin, pads_end, value): `value` (rounded to the domain; an EvalError in Exact if
//       it is not finite) everywhere, x copied to the offset pads_begin.
//   gather(data, indices; axis): out[a, j, b] = data[a, idx(indices[j]), b] (ONNX Gather), a the
//       axes before `axis`, j a multi-index of indices, b the axes after. idx: an integer in
//       [-d, d-1], negatives counting from the end; anything else (fractional, NaN, out of range,
//       an Exact enclosure) is an EvalError naming the node and the offending element.
//   gather_grad(indices, g) -> d data: acc = +0 for every element of d data; then for each element
//       of g in row-major order, acc[a, idx(indices[j]), b] = acc[...] + g[a, j, b]. So each
//       position is a left fold from +0 of its contributions in the order they occur in g.
#include <cmath>

#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

// Calls f(out_flat, idx) for every multi-index of `shape`, row-major.
template <class F>
void for_each_index(const Shape& shape, F f) {
  if (shape.numel() == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(shape.rank()), 0);
  int64_t flat = 0;
  do {
    f(flat++, idx);
  } while (detail::next_index(idx, shape.dims()));
}

// The source position of slice output multi-index `out_idx`.
int64_t slice_source(const ir::SliceAttrs& a, const std::vector<int64_t>& out_idx,
                     const std::vector<int64_t>& in_strides) {
  int64_t f = 0;
  for (size_t k = 0; k < out_idx.size(); ++k)
    f += (a.starts[k] + out_idx[k] * a.steps[k]) * in_strides[k];
  return f;
}

// The (outer, axis, inner) view of gather: data (outer, d, inner), g (outer, m, inner) with m the
// number of indices.
struct GatherView {
  int64_t outer, d, inner, m;
};

GatherView gather_view(const Shape& data, const Shape& indices, int64_t axis) {
  return GatherView{detail::dims_product(data, 0, axis), data[axis],
                    detail::dims_product(data, axis + 1, data.rank()), indices.numel()};
}

// Every index of `indices` as a position in [0, d): checked before any output is written.
template <class S>
std::vector<int64_t> gather_positions(const ir::Node& n, const Tensor<S>& indices, int64_t d) {
  std::vector<int64_t> pos(static_cast<size_t>(indices.numel()));
  for (int64_t j = 0; j < indices.numel(); ++j)
    pos[static_cast<size_t>(j)] = detail::index_in(n, "index", indices[j], j, d, true);
  return pos;
}

}  // namespace

template <class S>
Tensor<S> eval_broadcast(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const Shape& to = args.node.shape;
  const Shape& from = x.shape();
  const int64_t shift = to.rank() - from.rank();
  const std::vector<int64_t> strides = from.strides();
  Tensor<S> out(to);
  for_each_index(to, [&](int64_t o, const std::vector<int64_t>& idx) {
    int64_t src = 0;
    for (int64_t k = 0; k < from.rank(); ++k)
      if (from[k] != 1)
        src += idx[static_cast<size_t>(k + shift)] * strides[static_cast<size_t>(k)];
    out[o] = x[src];
  });
  return out;
}

template <class S>
Tensor<S> eval_slice(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::SliceAttrs>();
  const Tensor<S>& x = args.arg(0);
  const std::vector<int64_t> strides = x.shape().strides();
  Tensor<S> out(args.node.shape);
  for_each_index(args.node.shape, [&](int64_t o, const std::vector<int64_t>& idx) {
    out[o] = x[slice_source(a, idx, strides)];
  });
  return out;
}

template <class S>
Tensor<S> eval_slice_grad(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::SliceAttrs>();
  const Tensor<S>& g = args.arg(0);
  const std::vector<int64_t> strides = args.node.shape.strides();
  Tensor<S> out(args.node.shape, S::from_int(0));
  for_each_index(g.shape(), [&](int64_t o, const std::vector<int64_t>& idx) {
    out[slice_source(a, idx, strides)] = g[o];
  });
  return out;
}

template <class S>
Tensor<S> eval_pad(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::PadAttrs>();
  const Tensor<S>& x = args.arg(0);
  if constexpr (S::is_exact) {
    if (!std::isfinite(a.value))
      throw EvalError(detail::prefix(args.node) + "pad value " + std::to_string(a.value) +
                      " is not a real number (the Exact domain has no infinities or NaN)");
  }
  Tensor<S> out(args.node.shape, S::from_double(a.value));
  const std::vector<int64_t> strides = args.node.shape.strides();
  for_each_index(x.shape(), [&](int64_t i, const std::vector<int64_t>& idx) {
    int64_t dst = 0;
    for (size_t k = 0; k < idx.size(); ++k) dst += (idx[k] + a.pads_begin[k]) * strides[k];
    out[dst] = x[i];
  });
  return out;
}

template <class S>
Tensor<S> eval_gather(const EvalArgs<S>& args) {
  const int64_t axis = args.template attrs<ir::GatherAttrs>().axis;
  const Tensor<S>& data = args.arg(0);
  const Tensor<S>& indices = args.arg(1);
  const GatherView v = gather_view(data.shape(), indices.shape(), axis);
  const std::vector<int64_t> pos = gather_positions(args.node, indices, v.d);
  Tensor<S> out(args.node.shape);
  int64_t o = 0;
  for (int64_t a = 0; a < v.outer; ++a)
    for (int64_t j = 0; j < v.m; ++j)
      for (int64_t b = 0; b < v.inner; ++b)
        out[o++] = data[(a * v.d + pos[static_cast<size_t>(j)]) * v.inner + b];
  return out;
}

template <class S>
Tensor<S> eval_gather_grad(const EvalArgs<S>& args) {
  const int64_t axis = args.template attrs<ir::GatherAttrs>().axis;
  const Tensor<S>& indices = args.arg(0);
  const Tensor<S>& g = args.arg(1);
  const GatherView v = gather_view(args.node.shape, indices.shape(), axis);
  const std::vector<int64_t> pos = gather_positions(args.node, indices, v.d);
  Tensor<S> out(args.node.shape, S::from_int(0));
  int64_t o = 0;
  for (int64_t a = 0; a < v.outer; ++a)
    for (int64_t j = 0; j < v.m; ++j)
      for (int64_t b = 0; b < v.inner; ++b) {
        S& acc = out[(a * v.d + pos[static_cast<size_t>(j)]) * v.inner + b];
        acc = acc + g[o++];
      }
  return out;
}

TL_OPS_INSTANTIATE(broadcast)
TL_OPS_INSTANTIATE(slice)
TL_OPS_INSTANTIATE(slice_grad)
TL_OPS_INSTANTIATE(pad)
TL_OPS_INSTANTIATE(gather)
TL_OPS_INSTANTIATE(gather_grad)

}  // namespace torchlean::ops
