// Reference semantics of conv2d and the four 2-D pools, on a single CHW image (TorchLean v1), with
// a square stride s and symmetric padding p. Output element (c, oh, ow) reads the window whose
// top-left corner is (oh*s - p, ow*s - p) in input coordinates; a tap outside the input is padding.
//   conv2d:         y[oc,oh,ow] = fold over (ic, kh, kw), in that order, of
//                   acc = fma(xpad[ic, oh*s+kh-p, ow*s+kw-p], W[oc,ic,kh,kw], acc) from +0, then
//                   + bias[oc] (one rounding). A padding tap is the value +0 multiplied by the
//                   weight, not skipped, as in TorchLean's convSpec (getAtOrZero): with fma this
//                   matters only when the weight is ±inf or NaN, which then poisons the output (+0
//                   * inf = NaN) exactly as in TorchLean.
//   max_pool2d(_pad): maximum (IEEE 754-2019: NaN-propagating, -0 < +0) over the window's real
//                   input cells; padding cells are ignored (PyTorch's -inf convention), and a
//                   window with no real cell is +0 (TorchLean's `best?.getD 0`). maximum is
//                   associative and commutative, so the visiting order (row-major) does not affect
//                   the value.
//   avg_pool2d(_pad): padding cells count as +0 and the divisor is always kH*kW (PyTorch's
//                   count_include_pad = true). Order, as in TorchLean v1's avgPool2dSpec (two
//                   reduceSum passes): first each window column's sum over kh = 0..kH-1 (a left
//                   fold from +0), then the left fold from +0 of those column sums over kw =
//                   0..kW-1, then one division by kH*kW.
#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

// The geometry shared by every windowed op; dims come from the checked input and output shapes.
struct Window {
  int64_t channels, in_h, in_w, out_h, out_w, k_h, k_w, stride, padding;

  // Input row of window row kh for output row oh, or -1 when it is padding.
  int64_t row(int64_t oh, int64_t kh) const { return coord(oh, kh, in_h); }
  int64_t col(int64_t ow, int64_t kw) const { return coord(ow, kw, in_w); }

 private:
  int64_t coord(int64_t o, int64_t k, int64_t extent) const {
    int64_t padded = o * stride + k;
    if (padded < padding || padded - padding >= extent) return -1;
    return padded - padding;
  }
};

template <class S>
Window window_of(const EvalArgs<S>& args, int64_t k_h, int64_t k_w, int64_t stride,
                 int64_t padding) {
  const Shape& in = args.arg(0).shape();
  const Shape& out = args.node.shape;
  TL_INTERNAL_CHECK(
      in.rank() == 3 && out.rank() == 3 && k_h > 0 && k_w > 0 && stride > 0 && padding >= 0,
      detail::prefix(args.node) + "input " + in.str() + ", output " + out.str() +
          " passed the checker but are not a valid CHW window op");
  return Window{in[0], in[1], in[2], out[1], out[2], k_h, k_w, stride, padding};
}

template <class S>
Tensor<S> max_pool(const EvalArgs<S>& args, const Window& g) {
  const Tensor<S>& x = args.arg(0);
  TL_INTERNAL_CHECK(args.node.shape[0] == g.channels,
                    detail::prefix(args.node) + "pooling changed the channel count");
  Tensor<S> out(args.node.shape);
  int64_t o = 0;
  for (int64_t c = 0; c < g.channels; ++c) {
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        std::optional<S> best;
        for (int64_t kh = 0; kh < g.k_h; ++kh) {
          int64_t ih = g.row(oh, kh);
          if (ih < 0) continue;
          for (int64_t kw = 0; kw < g.k_w; ++kw) {
            int64_t iw = g.col(ow, kw);
            if (iw < 0) continue;
            const S& v = x[(c * g.in_h + ih) * g.in_w + iw];
            best = best ? maximum(*best, v) : v;
          }
        }
        out[o++] = best ? *best : S::from_int(0);
      }
    }
  }
  return out;
}

template <class S>
Tensor<S> avg_pool(const EvalArgs<S>& args, const Window& g) {
  const Tensor<S>& x = args.arg(0);
  TL_INTERNAL_CHECK(args.node.shape[0] == g.channels,
                    detail::prefix(args.node) + "pooling changed the channel count");
  int64_t count = 0;
  if (__builtin_mul_overflow(g.k_h, g.k_w, &count))
    throw UserError(detail::prefix(args.node) + "window " + std::to_string(g.k_h) + "x" +
                    std::to_string(g.k_w) + " has more cells than int64 can count");
  const S zero = S::from_int(0);
  const S divisor = S::from_int(count);
  Tensor<S> out(args.node.shape);
  int64_t o = 0;
  for (int64_t c = 0; c < g.channels; ++c) {
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        S total = zero;
        for (int64_t kw = 0; kw < g.k_w; ++kw) {
          int64_t iw = g.col(ow, kw);
          S column = zero;
          for (int64_t kh = 0; kh < g.k_h; ++kh) {
            int64_t ih = g.row(oh, kh);
            column = column + ((ih < 0 || iw < 0) ? zero : x[(c * g.in_h + ih) * g.in_w + iw]);
          }
          total = total + column;
        }
        out[o++] = total / divisor;
      }
    }
  }
  return out;
}

}  // namespace

template <class S>
Tensor<S> eval_conv2d(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::Conv2dAttrs>();
  const Tensor<S>& x = args.arg(0);
  const Tensor<S>& w = args.slot("weight");
  const Tensor<S>& bias = args.slot("bias");
  const Window g = window_of(args, a.kH, a.kW, a.stride, a.padding);
  TL_INTERNAL_CHECK(g.channels == a.inC && args.node.shape[0] == a.outC &&
                        w.shape() == (Shape{a.outC, a.inC, a.kH, a.kW}) &&
                        bias.shape() == Shape{a.outC},
                    detail::prefix(args.node) + "weight " + w.shape().str() + ", bias " +
                        bias.shape().str() + " passed the checker but do not match the attributes");
  const S zero = S::from_int(0);
  Tensor<S> out(args.node.shape);
  int64_t o = 0;
  for (int64_t oc = 0; oc < a.outC; ++oc) {
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        S acc = zero;
        for (int64_t ic = 0; ic < a.inC; ++ic) {
          for (int64_t kh = 0; kh < a.kH; ++kh) {
            int64_t ih = g.row(oh, kh);
            for (int64_t kw = 0; kw < a.kW; ++kw) {
              int64_t iw = g.col(ow, kw);
              const S& weight = w[((oc * a.inC + ic) * a.kH + kh) * a.kW + kw];
              const S& value = (ih < 0 || iw < 0) ? zero : x[(ic * g.in_h + ih) * g.in_w + iw];
              acc = fma(value, weight, acc);
            }
          }
        }
        out[o++] = acc + bias[oc];
      }
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_max_pool2d(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::Pool2dAttrs>();
  return max_pool(args, window_of(args, a.kH, a.kW, a.stride, 0));
}

template <class S>
Tensor<S> eval_max_pool2d_pad(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::Pool2dPadAttrs>();
  return max_pool(args, window_of(args, a.kH, a.kW, a.stride, a.padding));
}

template <class S>
Tensor<S> eval_avg_pool2d(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::Pool2dAttrs>();
  return avg_pool(args, window_of(args, a.kH, a.kW, a.stride, 0));
}

template <class S>
Tensor<S> eval_avg_pool2d_pad(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::Pool2dPadAttrs>();
  return avg_pool(args, window_of(args, a.kH, a.kW, a.stride, a.padding));
}

TL_OPS_INSTANTIATE(conv2d)
TL_OPS_INSTANTIATE(max_pool2d)
TL_OPS_INSTANTIATE(max_pool2d_pad)
TL_OPS_INSTANTIATE(avg_pool2d)
TL_OPS_INSTANTIATE(avg_pool2d_pad)

}  // namespace torchlean::ops
