// Reference semantics of the NCHW convolution and pooling extension ops and their gradients.
// Geometry (per spatial axis, shown for rows): output row oh reads input rows
// oh*stride_h - pad_top + kh*dilation_h for kh = 0..kH-1 (pools: dilation 1); a row outside
// [0, H) is padding. Groups: output channel o belongs to group o / (O/groups) and reads input
// channels group*(C/groups) + ic, ic = 0..C/groups-1. Outputs are written in row-major order.
//   conv2d_nchw(x, W[, b]): y[n,o,oh,ow] = fold over (ic, kh, kw), in that order, of
//       acc = fma(xpad[n, c(o,ic), row, col], W[o,ic,kh,kw], acc) from +0, then + b[o] (one
//       rounding) when the bias parent is present (without it, y = acc). A padding tap is the
//       value +0, not skipped (v1 conv2d's order exactly: with N = 1, groups 1, dilation 1 and
//       symmetric padding this is v1 conv2d bit for bit).
//   conv2d_nchw_grad_input(g, W) -> dx: dx[n,c,ih,iw] = fold over (o in c's group ascending, kh,
//       kw) of acc = fma(g[n,o,oh,ow], W[o, ic, kh, kw], acc) from +0, over exactly the taps with
//       ih = oh*stride_h - pad_top + kh*dilation_h for an output row 0 <= oh < OH (same for
//       columns); other taps are skipped.
//   conv2d_nchw_grad_weight(x, g) -> dW: dW[o,ic,kh,kw] = fold over (n, oh, ow) of
//       acc = fma(xpad[n, c(o,ic), row, col], g[n,o,oh,ow], acc) from +0, padding taps as +0
//       (as in the forward op).
//   max_pool2d_nchw(x): maximum (IEEE 754-2019: NaN-propagating, -0 < +0) over the window's real
//       cells in row-major order (padding is -inf: ignored); every window has one (pads < kernel).
//       With stride_h == stride_w, symmetric padding and floor mode it is v1 max_pool2d(_pad) per
//       image.
//   avg_pool2d_nchw(x): column sums first: for kw = 0..kW-1, column = fold over kh of
//       column + (real ? x : +0) from +0, total = total + column from +0 (v1 avg_pool2d's order);
//       then y = total / divisor, one division. divisor (PyTorch): count_include_pad: the window's
//       cells within the padded input, (min(hs+kH, H+pad_bottom) - hs) * (same for columns), hs =
//       oh*stride_h - pad_top; otherwise the number of real cells.
//   max_pool2d_nchw_grad(x, g) -> dx: +0 everywhere; for each output in row-major order, g is added
//       (dx = dx + g) at the window's FIRST maximiser in row-major order: the first cell equal to
//       the maximum in the order above (NaN above everything, +0 above -0). Exact: a comparison the
//       enclosures cannot decide is an EvalError.
//   avg_pool2d_nchw_grad(g) -> dx: +0 everywhere; for each output in row-major order,
//       q = g / divisor, then dx = dx + q at each real cell of its window in row-major order. Each
//       dx cell thus folds its contributions in (oh, ow) order.
#include <algorithm>
#include <cmath>

#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

// One spatial axis: tap k of output o reads input position o*stride - pad + k*dilation.
struct Axis {
  int64_t in, out, k, stride, pad, dilation;
  int64_t pos(int64_t o, int64_t tap) const { return o * stride - pad + tap * dilation; }
  bool real(int64_t p) const { return p >= 0 && p < in; }
};

struct ConvGeometry {
  int64_t batch, channels, out_channels, group_in, group_out;
  Axis h, w;
};

// x (N,C,H,W), weight (O, C/groups, kH, kW), y (N,O,OH,OW); all three shapes are checked.
ConvGeometry conv_geometry(const ir::Node& n, const ir::Conv2dNchwAttrs& a, const Shape& x,
                           const Shape& w, const Shape& y) {
  TL_INTERNAL_CHECK(x.rank() == 4 && w.rank() == 4 && y.rank() == 4 && a.groups > 0 &&
                        x[1] % a.groups == 0 && w[0] % a.groups == 0 && w[1] == x[1] / a.groups &&
                        y[0] == x[0] && y[1] == w[0],
                    detail::prefix(n) + "input " + x.str() + ", weight " + w.str() + ", output " +
                        y.str() + " passed the checker but do not form a convolution");
  return ConvGeometry{x[0],
                      x[1],
                      w[0],
                      x[1] / a.groups,
                      w[0] / a.groups,
                      Axis{x[2], y[2], w[2], a.stride_h, a.pad_top, a.dilation_h},
                      Axis{x[3], y[3], w[3], a.stride_w, a.pad_left, a.dilation_w}};
}

struct PoolGeometry {
  int64_t planes;  // N*C
  Axis h, w;
  int64_t pad_bottom, pad_right;
  bool count_include_pad;

  // PyTorch's avg_pool2d divisor for output (oh, ow).
  int64_t divisor(int64_t oh, int64_t ow) const {
    const int64_t hs = h.pos(oh, 0), ws = w.pos(ow, 0);
    if (count_include_pad)
      return (std::min(hs + h.k, h.in + pad_bottom) - hs) *
             (std::min(ws + w.k, w.in + pad_right) - ws);
    return (std::min(hs + h.k, h.in) - std::max<int64_t>(hs, 0)) *
           (std::min(ws + w.k, w.in) - std::max<int64_t>(ws, 0));
  }
};

PoolGeometry pool_geometry(const ir::Node& n, const ir::PoolNchwAttrs& a, const Shape& x,
                           const Shape& y) {
  TL_INTERNAL_CHECK(x.rank() == 4 && y.rank() == 4 && x[0] == y[0] && x[1] == y[1] && a.kH > 0 &&
                        a.kW > 0 && a.pad_top < a.kH && a.pad_left < a.kW,
                    detail::prefix(n) + "input " + x.str() + ", output " + y.str() +
                        " passed the checker but do not form a pool");
  return PoolGeometry{x[0] * x[1],
                      Axis{x[2], y[2], a.kH, a.stride_h, a.pad_top, 1},
                      Axis{x[3], y[3], a.kW, a.stride_w, a.pad_left, 1},
                      a.pad_bottom,
                      a.pad_right,
                      a.count_include_pad};
}

// Whether v comes strictly after `best` in max-pooling's order (NaN above all, -0 < +0), so that
// the first maximiser is kept. Exact: nullopt when the enclosures cannot decide.
template <class T>
std::optional<bool> above(IeeeScalar<T> v, IeeeScalar<T> best) {
  if (std::isnan(best.v)) return false;
  if (std::isnan(v.v)) return true;
  if (v.v == best.v) return std::signbit(best.v) && !std::signbit(v.v);
  return v.v > best.v;
}
std::optional<bool> above(const Exact& v, const Exact& best) {
  if (v.lo > best.hi) return true;
  if (v.hi <= best.lo) return false;
  return std::nullopt;
}

// Flat index of the first maximiser of window (oh, ow) in plane p.
template <class S>
int64_t first_maximiser(const ir::Node& n, const Tensor<S>& x, const PoolGeometry& g, int64_t p,
                        int64_t oh, int64_t ow) {
  int64_t best = -1;
  for (int64_t kh = 0; kh < g.h.k; ++kh) {
    const int64_t ih = g.h.pos(oh, kh);
    if (!g.h.real(ih)) continue;
    for (int64_t kw = 0; kw < g.w.k; ++kw) {
      const int64_t iw = g.w.pos(ow, kw);
      if (!g.w.real(iw)) continue;
      const int64_t i = (p * g.h.in + ih) * g.w.in + iw;
      if (best < 0) {
        best = i;
        continue;
      }
      std::optional<bool> up = above(x[i], x[best]);
      if (!up)
        throw EvalError(detail::prefix(n) + "cannot order " + detail::value_text(x[i]) + " and " +
                        detail::value_text(x[best]) + " (input indices " + std::to_string(i) +
                        ", " + std::to_string(best) + ") to find the window's maximiser");
      if (*up) best = i;
    }
  }
  return best;
}

}  // namespace

template <class S>
Tensor<S> eval_conv2d_nchw(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::Conv2dNchwAttrs>();
  const Tensor<S>& x = args.arg(0);
  const Tensor<S>& w = args.arg(1);
  const bool has_bias = args.parents.size() == 3;
  const ConvGeometry g = conv_geometry(args.node, a, x.shape(), w.shape(), args.node.shape);
  const S zero = S::from_int(0);
  Tensor<S> out(args.node.shape);
  int64_t o_flat = 0;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t o = 0; o < g.out_channels; ++o) {
      const int64_t c0 = (o / g.group_out) * g.group_in;
      for (int64_t oh = 0; oh < g.h.out; ++oh) {
        for (int64_t ow = 0; ow < g.w.out; ++ow) {
          S acc = zero;
          for (int64_t ic = 0; ic < g.group_in; ++ic) {
            const int64_t plane = n * g.channels + c0 + ic;
            for (int64_t kh = 0; kh < g.h.k; ++kh) {
              const int64_t ih = g.h.pos(oh, kh);
              for (int64_t kw = 0; kw < g.w.k; ++kw) {
                const int64_t iw = g.w.pos(ow, kw);
                const S& weight = w[((o * g.group_in + ic) * g.h.k + kh) * g.w.k + kw];
                const S& value =
                    (g.h.real(ih) && g.w.real(iw)) ? x[(plane * g.h.in + ih) * g.w.in + iw] : zero;
                acc = fma(value, weight, acc);
              }
            }
          }
          out[o_flat++] = has_bias ? acc + args.arg(2)[o] : acc;
        }
      }
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_conv2d_nchw_grad_input(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::Conv2dNchwAttrs>();
  const Tensor<S>& gy = args.arg(0);
  const Tensor<S>& w = args.arg(1);
  const ConvGeometry g = conv_geometry(args.node, a, args.node.shape, w.shape(), gy.shape());
  // The output row whose tap `k` reads input row `i`, or -1.
  auto source = [](const Axis& ax, int64_t i, int64_t k) -> int64_t {
    const int64_t t = i + ax.pad - k * ax.dilation;
    if (t < 0 || t % ax.stride != 0 || t / ax.stride >= ax.out) return -1;
    return t / ax.stride;
  };
  Tensor<S> out(args.node.shape);
  int64_t i_flat = 0;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t c = 0; c < g.channels; ++c) {
      const int64_t group = c / g.group_in, ic = c - group * g.group_in;
      for (int64_t ih = 0; ih < g.h.in; ++ih) {
        for (int64_t iw = 0; iw < g.w.in; ++iw) {
          S acc = S::from_int(0);
          for (int64_t o = group * g.group_out; o < (group + 1) * g.group_out; ++o) {
            for (int64_t kh = 0; kh < g.h.k; ++kh) {
              const int64_t oh = source(g.h, ih, kh);
              if (oh < 0) continue;
              for (int64_t kw = 0; kw < g.w.k; ++kw) {
                const int64_t ow = source(g.w, iw, kw);
                if (ow < 0) continue;
                acc = fma(gy[((n * g.out_channels + o) * g.h.out + oh) * g.w.out + ow],
                          w[((o * g.group_in + ic) * g.h.k + kh) * g.w.k + kw], acc);
              }
            }
          }
          out[i_flat++] = acc;
        }
      }
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_conv2d_nchw_grad_weight(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::Conv2dNchwAttrs>();
  const Tensor<S>& x = args.arg(0);
  const Tensor<S>& gy = args.arg(1);
  const ConvGeometry g = conv_geometry(args.node, a, x.shape(), args.node.shape, gy.shape());
  const S zero = S::from_int(0);
  Tensor<S> out(args.node.shape);
  int64_t w_flat = 0;
  for (int64_t o = 0; o < g.out_channels; ++o) {
    const int64_t c0 = (o / g.group_out) * g.group_in;
    for (int64_t ic = 0; ic < g.group_in; ++ic) {
      for (int64_t kh = 0; kh < g.h.k; ++kh) {
        for (int64_t kw = 0; kw < g.w.k; ++kw) {
          S acc = zero;
          for (int64_t n = 0; n < g.batch; ++n) {
            const int64_t plane = n * g.channels + c0 + ic;
            for (int64_t oh = 0; oh < g.h.out; ++oh) {
              const int64_t ih = g.h.pos(oh, kh);
              for (int64_t ow = 0; ow < g.w.out; ++ow) {
                const int64_t iw = g.w.pos(ow, kw);
                const S& value =
                    (g.h.real(ih) && g.w.real(iw)) ? x[(plane * g.h.in + ih) * g.w.in + iw] : zero;
                acc = fma(value, gy[((n * g.out_channels + o) * g.h.out + oh) * g.w.out + ow], acc);
              }
            }
          }
          out[w_flat++] = acc;
        }
      }
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_max_pool2d_nchw(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::PoolNchwAttrs>();
  const Tensor<S>& x = args.arg(0);
  const PoolGeometry g = pool_geometry(args.node, a, x.shape(), args.node.shape);
  Tensor<S> out(args.node.shape);
  int64_t o_flat = 0;
  for (int64_t p = 0; p < g.planes; ++p) {
    for (int64_t oh = 0; oh < g.h.out; ++oh) {
      for (int64_t ow = 0; ow < g.w.out; ++ow) {
        std::optional<S> best;
        for (int64_t kh = 0; kh < g.h.k; ++kh) {
          const int64_t ih = g.h.pos(oh, kh);
          if (!g.h.real(ih)) continue;
          for (int64_t kw = 0; kw < g.w.k; ++kw) {
            const int64_t iw = g.w.pos(ow, kw);
            if (!g.w.real(iw)) continue;
            const S& v = x[(p * g.h.in + ih) * g.w.in + iw];
            best = best ? maximum(*best, v) : v;
          }
        }
        TL_INTERNAL_CHECK(best.has_value(),
                          detail::prefix(args.node) + "window without input cells");
        out[o_flat++] = *best;
      }
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_avg_pool2d_nchw(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::PoolNchwAttrs>();
  const Tensor<S>& x = args.arg(0);
  const PoolGeometry g = pool_geometry(args.node, a, x.shape(), args.node.shape);
  const S zero = S::from_int(0);
  Tensor<S> out(args.node.shape);
  int64_t o_flat = 0;
  for (int64_t p = 0; p < g.planes; ++p) {
    for (int64_t oh = 0; oh < g.h.out; ++oh) {
      for (int64_t ow = 0; ow < g.w.out; ++ow) {
        S total = zero;
        for (int64_t kw = 0; kw < g.w.k; ++kw) {
          const int64_t iw = g.w.pos(ow, kw);
          S column = zero;
          for (int64_t kh = 0; kh < g.h.k; ++kh) {
            const int64_t ih = g.h.pos(oh, kh);
            column = column +
                     ((g.h.real(ih) && g.w.real(iw)) ? x[(p * g.h.in + ih) * g.w.in + iw] : zero);
          }
          total = total + column;
        }
        out[o_flat++] = total / S::from_int(g.divisor(oh, ow));
      }
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_max_pool2d_nchw_grad(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::PoolNchwAttrs>();
  const Tensor<S>& x = args.arg(0);
  const Tensor<S>& gy = args.arg(1);
  const PoolGeometry g = pool_geometry(args.node, a, x.shape(), gy.shape());
  Tensor<S> out(x.shape(), S::from_int(0));
  int64_t o_flat = 0;
  for (int64_t p = 0; p < g.planes; ++p) {
    for (int64_t oh = 0; oh < g.h.out; ++oh) {
      for (int64_t ow = 0; ow < g.w.out; ++ow) {
        const int64_t i = first_maximiser(args.node, x, g, p, oh, ow);
        TL_INTERNAL_CHECK(i >= 0, detail::prefix(args.node) + "window without input cells");
        out[i] = out[i] + gy[o_flat++];
      }
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_avg_pool2d_nchw_grad(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::PoolNchwAttrs>();
  const Tensor<S>& gy = args.arg(0);
  const PoolGeometry g = pool_geometry(args.node, a, args.node.shape, gy.shape());
  Tensor<S> out(args.node.shape, S::from_int(0));
  int64_t o_flat = 0;
  for (int64_t p = 0; p < g.planes; ++p) {
    for (int64_t oh = 0; oh < g.h.out; ++oh) {
      for (int64_t ow = 0; ow < g.w.out; ++ow) {
        const S q = gy[o_flat++] / S::from_int(g.divisor(oh, ow));
        for (int64_t kh = 0; kh < g.h.k; ++kh) {
          const int64_t ih = g.h.pos(oh, kh);
          if (!g.h.real(ih)) continue;
          for (int64_t kw = 0; kw < g.w.k; ++kw) {
            const int64_t iw = g.w.pos(ow, kw);
            if (!g.w.real(iw)) continue;
            S& acc = out[(p * g.h.in + ih) * g.w.in + iw];
            acc = acc + q;
          }
        }
      }
    }
  }
  return out;
}

TL_OPS_INSTANTIATE(conv2d_nchw)
TL_OPS_INSTANTIATE(conv2d_nchw_grad_input)
TL_OPS_INSTANTIATE(conv2d_nchw_grad_weight)
TL_OPS_INSTANTIATE(max_pool2d_nchw)
TL_OPS_INSTANTIATE(avg_pool2d_nchw)
TL_OPS_INSTANTIATE(max_pool2d_nchw_grad)
TL_OPS_INSTANTIATE(avg_pool2d_nchw_grad)

}  // namespace torchlean::ops
