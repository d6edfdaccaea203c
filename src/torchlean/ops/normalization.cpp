// Reference semantics of the normalisation ops, with TorchLean v1's expression order.
//   batch_norm2d_nchw_eval(x), x of shape (N,C,H,W), payload gamma/beta/mean/var (C) and eps ():
//       d_c = sqrt(maximum(var_c, +0) + eps)          (once per channel)
//       y   = ((x - mean_c) / d_c) * gamma_c + beta_c (sub, div, mul, add: four roundings)
//     Elements in row-major order. In Exact, a d_c that may be 0 (var = 0 with eps = 0) is an
//     EvalError; in F32/F64 the IEEE division gives ±inf or NaN.
//   layernorm(x; axis): normalises each row of the (prod dims[:axis], prod dims[axis:]) view of x
//     (PyTorch's normalized_shape = dims[axis:]), no affine parameters (TorchLean's evaluator fixes
//     gamma = 1, beta = 0 and still applies them), eps = the domain's nearest value to 1e-6. With D
//     the row length (as a domain value) and all sums left folds from +0 in index order:
//       mean = (sum_k x_k) / D
//       c_k  = x_k - mean
//       var  = maximum((sum_k c_k*c_k) / D - ((sum_k c_k) / D)^2, +0)  (TorchLean's reduceVar on
//              the centred row: E[c^2] - E[c]^2, then the clamp)
//       y_k  = (c_k / sqrt(var + eps)) * 1 + 0
//     The trailing "* 1 + 0" is kept because it is TorchLean's: it turns a -0 result into +0.
//   softmax(x; axis): for each line along `axis`, m = maximum over the line (a fold seeded with the
//     first element), e_k = exp(x_k - m), s = sum_k e_k (left fold from +0), y_k = e_k / s.
#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

template <class S>
Tensor<S> eval_batch_norm2d_nchw_eval(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const Tensor<S>& gamma = args.slot("gamma");
  const Tensor<S>& beta = args.slot("beta");
  const Tensor<S>& mean = args.slot("mean");
  const Tensor<S>& var = args.slot("var");
  const Tensor<S>& eps = args.slot("eps");
  const Shape& s = x.shape();
  TL_INTERNAL_CHECK(s.rank() == 4 && gamma.shape() == Shape{s[1]} && beta.shape() == Shape{s[1]} &&
                        mean.shape() == Shape{s[1]} && var.shape() == Shape{s[1]} &&
                        eps.numel() == 1,
                    detail::prefix(args.node) + "input " + s.str() +
                        " and its payload passed the checker but do not match");
  const int64_t batch = s[0], channels = s[1], plane = s[2] * s[3];
  const S zero = S::from_int(0);
  std::vector<S> denom;
  denom.reserve(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    S d = sqrt(maximum(var[c], zero) + eps[0]);
    if (plane > 0 && batch > 0 && detail::may_be_zero(d))
      throw EvalError(detail::prefix(args.node) + "channel " + std::to_string(c) +
                      ": sqrt(max(var, 0) + eps) is " + detail::value_text(d) +
                      detail::zero_divisor_note(d) + " (var " + detail::value_text(var[c]) +
                      ", eps " + detail::value_text(eps[0]) + ")");
    denom.push_back(std::move(d));
  }
  Tensor<S> out(s);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t base = (n * channels + c) * plane;
      for (int64_t i = 0; i < plane; ++i)
        out[base + i] =
            ((x[base + i] - mean[c]) / denom[static_cast<size_t>(c)]) * gamma[c] + beta[c];
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_layernorm(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const int64_t axis = args.template attrs<ir::AxisAttrs>().axis;
  const Shape& s = x.shape();
  TL_INTERNAL_CHECK(axis >= 0 && axis < s.rank(),
                    detail::prefix(args.node) + "axis " + std::to_string(axis) +
                        " passed the checker but is invalid for " + s.str());
  Tensor<S> out(s);
  if (x.numel() == 0) return out;
  const int64_t rows = detail::dims_product(s, 0, axis);
  const int64_t width = detail::dims_product(s, axis, s.rank());
  const S zero = S::from_int(0);
  const S one = S::from_int(1);
  const S count = S::from_int(width);
  const S eps = from_decimal<S>(1, -6);
  std::vector<S> centred(static_cast<size_t>(width));
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = r * width;
    S sum = zero;
    for (int64_t k = 0; k < width; ++k) sum = sum + x[base + k];
    const S mean = sum / count;
    S sum_c = zero;
    S sum_sq = zero;
    for (int64_t k = 0; k < width; ++k) {
      S c = x[base + k] - mean;
      sum_c = sum_c + c;
      sum_sq = sum_sq + c * c;
      centred[static_cast<size_t>(k)] = std::move(c);
    }
    const S mean_c = sum_c / count;
    const S var = maximum(sum_sq / count - mean_c * mean_c, zero);
    const S std_dev = sqrt(var + eps);
    for (int64_t k = 0; k < width; ++k)
      out[base + k] = (centred[static_cast<size_t>(k)] / std_dev) * one + zero;
  }
  return out;
}

template <class S>
Tensor<S> eval_softmax(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const int64_t axis = args.template attrs<ir::AxisAttrs>().axis;
  const Shape& s = x.shape();
  TL_INTERNAL_CHECK(axis >= 0 && axis < s.rank(),
                    detail::prefix(args.node) + "axis " + std::to_string(axis) +
                        " passed the checker but is invalid for " + s.str());
  Tensor<S> out(s);
  if (x.numel() == 0) return out;
  const int64_t outer = detail::dims_product(s, 0, axis);
  const int64_t len = s[axis];
  const int64_t inner = detail::dims_product(s, axis + 1, s.rank());
  const S zero = S::from_int(0);
  std::vector<S> e(static_cast<size_t>(len));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      S m = x[base];
      for (int64_t k = 0; k < len; ++k) m = maximum(m, x[base + k * inner]);
      S total = zero;
      for (int64_t k = 0; k < len; ++k) {
        e[static_cast<size_t>(k)] = exp(x[base + k * inner] - m);
        total = total + e[static_cast<size_t>(k)];
      }
      for (int64_t k = 0; k < len; ++k) out[base + k * inner] = e[static_cast<size_t>(k)] / total;
    }
  }
  return out;
}

TL_OPS_INSTANTIATE(batch_norm2d_nchw_eval)
TL_OPS_INSTANTIATE(layernorm)
TL_OPS_INSTANTIATE(softmax)

}  // namespace torchlean::ops
