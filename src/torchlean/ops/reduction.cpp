// Reference semantics of the reductions. Every sum is a left fold from +0 in increasing index order
// (acc = acc + v, one rounding per step), so sum([-0]) = +0 and an empty sum is +0 (DESIGN §3.3).
//   sum(x):            the fold over all elements in row-major order; a scalar () result.
//   reduce_sum(x; a):  for each output element, the fold over index k of axis a; the axis is
//   dropped. reduce_mean(x; a): reduce_sum, then one division by n = dims[a] (a division, not a
//   product with
//                      1/n). With n = 0 every output element is 0/0: NaN in F32/F64 and an
//                      EvalError in Exact (whose division by 0 is undefined).
//   mse_loss(y, t):    d_i = y_i - t_i, then the fold of d_i * d_i (multiply, then add: two
//   roundings
//                      per element, as TorchLean's mulSpec followed by sumSpec), divided by the
//                      element count, or by 1 when the tensors are empty (TorchLean's meanDenom).
#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

// Sums along `axis`; returns the tensor with that axis removed.
template <class S>
Tensor<S> sum_along(const ir::Node& node, const Tensor<S>& x, int64_t axis) {
  const Shape& s = x.shape();
  TL_INTERNAL_CHECK(axis >= 0 && axis < s.rank(),
                    detail::prefix(node) + "axis " + std::to_string(axis) +
                        " passed the checker but is invalid for " + s.str());
  std::vector<int64_t> dims = s.dims();
  dims.erase(dims.begin() + axis);
  Tensor<S> out{Shape(std::move(dims))};
  const int64_t outer = detail::dims_product(s, 0, axis);
  const int64_t len = s[axis];
  const int64_t inner = detail::dims_product(s, axis + 1, s.rank());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      S acc = S::from_int(0);
      for (int64_t k = 0; k < len; ++k) acc = acc + x[(o * len + k) * inner + i];
      out[o * inner + i] = acc;
    }
  }
  return out;
}

}  // namespace

template <class S>
Tensor<S> eval_sum(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  S acc = S::from_int(0);
  for (int64_t i = 0; i < x.numel(); ++i) acc = acc + x[i];
  return Tensor<S>(Shape{}, std::vector<S>{acc});
}

template <class S>
Tensor<S> eval_reduce_sum(const EvalArgs<S>& args) {
  return sum_along(args.node, args.arg(0), args.template attrs<ir::AxisAttrs>().axis);
}

template <class S>
Tensor<S> eval_reduce_mean(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const int64_t axis = args.template attrs<ir::AxisAttrs>().axis;
  Tensor<S> out = sum_along(args.node, x, axis);
  const int64_t len = x.shape()[axis];
  const S n = S::from_int(len);
  if (out.numel() > 0 && detail::may_be_zero(n))
    throw EvalError(detail::prefix(args.node) + "mean over axis " + std::to_string(axis) +
                    " of input " + x.shape().str() + ", which has length 0: division by zero");
  for (int64_t i = 0; i < out.numel(); ++i) out[i] = out[i] / n;
  return out;
}

template <class S>
Tensor<S> eval_mse_loss(const EvalArgs<S>& args) {
  const Tensor<S>& y = args.arg(0);
  const Tensor<S>& t = args.arg(1);
  TL_INTERNAL_CHECK(y.shape() == t.shape(), detail::prefix(args.node) + "shapes " +
                                                y.shape().str() + " and " + t.shape().str() +
                                                " passed the checker but differ");
  S acc = S::from_int(0);
  for (int64_t i = 0; i < y.numel(); ++i) {
    S d = y[i] - t[i];
    acc = acc + d * d;
  }
  const S denom = S::from_int(y.numel() == 0 ? 1 : y.numel());
  return Tensor<S>(Shape{}, std::vector<S>{acc / denom});
}

TL_OPS_INSTANTIATE(sum)
TL_OPS_INSTANTIATE(reduce_sum)
TL_OPS_INSTANTIATE(reduce_mean)
TL_OPS_INSTANTIATE(mse_loss)

}  // namespace torchlean::ops
