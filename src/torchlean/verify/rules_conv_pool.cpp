// Bound rules of convolution and pooling (ops/conv_pool.cpp and the NCHW extension ops).
//   conv2d, conv2d_nchw (constant weight/bias parents): exact affine maps; float32 rounding as a
//     dot product of (in_channels/groups) kH kW fmas (padding taps included) plus the bias add.
//   avg pools: affine with weights 1/divisor; float32: kH kW + kW additions (no summand passes
//     through more) and one division, n = kH kW + kW + 1.
//   max pools: the box of a window maximum is the maximum of the boxes (exact in both
//     semantics); CROWN uses that box (no linear relaxation).
#include "torchlean/verify/rule_util.hpp"

namespace torchlean::verify {

namespace {

// Per output element, the input elements its window reads (padding taps are absent) and the
// divisor of an average over it.
struct Windows {
  std::vector<std::vector<int64_t>> taps;
  std::vector<int64_t> divisor;
  int64_t kh = 0, kw = 0;
};

Windows chw_windows(const NodeCtx& ctx, int64_t k_h, int64_t k_w, int64_t stride, int64_t pad) {
  const Shape& in = *ctx.parent_shapes[0];
  const Shape& out = ctx.node.shape;
  Windows w;
  w.kh = k_h;
  w.kw = k_w;
  for (int64_t c = 0; c < in[0]; ++c)
    for (int64_t oh = 0; oh < out[1]; ++oh)
      for (int64_t ow = 0; ow < out[2]; ++ow) {
        std::vector<int64_t> t;
        for (int64_t kh = 0; kh < k_h; ++kh)
          for (int64_t kw = 0; kw < k_w; ++kw) {
            const int64_t ih = oh * stride + kh - pad, iw = ow * stride + kw - pad;
            if (ih >= 0 && ih < in[1] && iw >= 0 && iw < in[2])
              t.push_back((c * in[1] + ih) * in[2] + iw);
          }
        w.taps.push_back(std::move(t));
        w.divisor.push_back(k_h * k_w);
      }
  return w;
}

Windows nchw_windows(const NodeCtx& ctx) {
  const auto& a = std::get<ir::PoolNchwAttrs>(ctx.node.attrs);
  const Shape& in = *ctx.parent_shapes[0];
  const Shape& out = ctx.node.shape;
  const int64_t H = in[2], W = in[3];
  Windows w;
  w.kh = a.kH;
  w.kw = a.kW;
  for (int64_t nc = 0; nc < in[0] * in[1]; ++nc)
    for (int64_t oh = 0; oh < out[2]; ++oh)
      for (int64_t ow = 0; ow < out[3]; ++ow) {
        const int64_t h0 = oh * a.stride_h - a.pad_top, w0 = ow * a.stride_w - a.pad_left;
        // PyTorch's divisor with count_include_pad: the window clipped to the padded extent.
        const int64_t h1 = std::min(h0 + a.kH, H + a.pad_bottom),
                      w1 = std::min(w0 + a.kW, W + a.pad_right);
        std::vector<int64_t> t;
        for (int64_t ih = std::max<int64_t>(h0, 0); ih < std::min(h0 + a.kH, H); ++ih)
          for (int64_t iw = std::max<int64_t>(w0, 0); iw < std::min(w0 + a.kW, W); ++iw)
            t.push_back((nc * H + ih) * W + iw);
        w.divisor.push_back(a.count_include_pad ? (h1 - h0) * (w1 - w0)
                                                : static_cast<int64_t>(t.size()));
        w.taps.push_back(std::move(t));
      }
  return w;
}

AffineMap avg_map(const NodeCtx& ctx, const Windows& w) {
  AffineBuilder m(ctx, static_cast<int64_t>(w.taps.size()));
  for (size_t o = 0; o < w.taps.size(); ++o) {
    const double d = static_cast<double>(std::max<int64_t>(w.divisor[o], 1));
    const double q = 1.0 / d;
    const double rad = std::fabs(div_up(1.0, d) - q) + std::fabs(q - div_down(1.0, d));
    for (int64_t i : w.taps[o]) m.term(0, i, q, rad);
    m.end_row(w.kh * w.kw + w.kw + 1);
  }
  return m.finish();
}

Box max_ibp(const NodeCtx& ctx, const Windows& w) {
  const Box& x = *ctx.parents[0];
  Box out(static_cast<int64_t>(w.taps.size()));
  for (size_t o = 0; o < w.taps.size(); ++o) {
    double lo = -kInf, hi = -kInf;
    for (int64_t i : w.taps[o]) {
      lo = std::max(lo, x.lo[i]);
      hi = std::max(hi, x.hi[i]);
    }
    if (w.taps[o].empty()) lo = hi = 0;  // TorchLean's empty window is +0
    out.lo[o] = lo;
    out.hi[o] = hi;
  }
  return out;
}

Windows v1_windows(const NodeCtx& ctx) {
  if (ctx.node.kind == ir::OpKind::max_pool2d || ctx.node.kind == ir::OpKind::avg_pool2d) {
    const auto& a = std::get<ir::Pool2dAttrs>(ctx.node.attrs);
    return chw_windows(ctx, a.kH, a.kW, a.stride, 0);
  }
  const auto& a = std::get<ir::Pool2dPadAttrs>(ctx.node.attrs);
  return chw_windows(ctx, a.kH, a.kW, a.stride, a.padding);
}

AffineMap conv2d_map(const NodeCtx& ctx) {
  const auto& a = std::get<ir::Conv2dAttrs>(ctx.node.attrs);
  const Tensor<double>& w = ctx.slot("weight");
  const Tensor<double>& b = ctx.slot("bias");
  const Shape& in = *ctx.parent_shapes[0];
  const Shape& out = ctx.node.shape;
  const int64_t C = in[0], H = in[1], W = in[2];
  AffineBuilder m(ctx, out.numel());
  for (int64_t oc = 0; oc < out[0]; ++oc)
    for (int64_t oh = 0; oh < out[1]; ++oh)
      for (int64_t ow = 0; ow < out[2]; ++ow) {
        for (int64_t ic = 0; ic < C; ++ic)
          for (int64_t kh = 0; kh < a.kH; ++kh)
            for (int64_t kw = 0; kw < a.kW; ++kw) {
              const int64_t ih = oh * a.stride + kh - a.padding,
                            iw = ow * a.stride + kw - a.padding;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              m.term(0, (ic * H + ih) * W + iw, w[((oc * C + ic) * a.kH + kh) * a.kW + kw]);
            }
        m.constant(b[oc], b[oc]);
        m.end_row(C * a.kH * a.kW + 1);
      }
  return m.finish();
}

AffineMap conv2d_nchw_map(const NodeCtx& ctx) {
  const auto& a = std::get<ir::Conv2dNchwAttrs>(ctx.node.attrs);
  for (size_t p = 1; p < ctx.parents.size(); ++p)
    if (!detail::is_const(ctx, p))
      throw UserError(ctx.prefix() +
                      "weight and bias must not depend on the network input for bound "
                      "propagation");
  const Shape& in = *ctx.parent_shapes[0];
  const Shape& ws = *ctx.parent_shapes[1];
  const Shape& out = ctx.node.shape;
  const Box& w = *ctx.constant[1];
  const bool has_bias = ctx.parents.size() == 3;
  const int64_t N = in[0], C = in[1], H = in[2], W = in[3];
  const int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3];
  const int64_t og = O / std::max<int64_t>(a.groups, 1);
  AffineBuilder m(ctx, out.numel());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < O; ++oc) {
      const int64_t g = oc / std::max<int64_t>(og, 1);
      for (int64_t oh = 0; oh < out[2]; ++oh)
        for (int64_t ow = 0; ow < out[3]; ++ow) {
          for (int64_t icg = 0; icg < Cg; ++icg)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t ih = oh * a.stride_h + kh * a.dilation_h - a.pad_top;
                const int64_t iw = ow * a.stride_w + kw * a.dilation_w - a.pad_left;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t ic = g * Cg + icg;
                const auto [coef, rad] = detail::mid_rad(w, ((oc * Cg + icg) * KH + kh) * KW + kw);
                m.term(0, ((n * C + ic) * H + ih) * W + iw, coef, rad);
              }
          if (has_bias) m.constant(ctx.constant[2]->lo[oc], ctx.constant[2]->hi[oc]);
          m.end_row(Cg * KH * KW + (has_bias ? 1 : 0));
        }
    }
  return m.finish();
}

}  // namespace

const OpRule BoundRule<"conv2d">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(conv2d_map(ctx), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return conv2d_map(ctx); }, true};

const OpRule BoundRule<"conv2d_nchw">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(conv2d_nchw_map(ctx), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return conv2d_nchw_map(ctx); }, true};

#define TL_AVG_RULE(json, windows)                                                    \
  const OpRule BoundRule<json>::rule{                                                 \
      [](const NodeCtx& ctx) { return affine_ibp(avg_map(ctx, windows(ctx)), ctx); }, \
      [](const NodeCtx& ctx) -> Linearization { return avg_map(ctx, windows(ctx)); }, true};
#define TL_MAX_RULE(json, windows)    \
  const OpRule BoundRule<json>::rule{ \
      [](const NodeCtx& ctx) { return max_ibp(ctx, windows(ctx)); }, detail::use_box, true};

TL_AVG_RULE("avg_pool2d", v1_windows)
TL_AVG_RULE("avg_pool2d_pad", v1_windows)
TL_AVG_RULE("avg_pool2d_nchw", nchw_windows)
TL_MAX_RULE("max_pool2d", v1_windows)
TL_MAX_RULE("max_pool2d_pad", v1_windows)
TL_MAX_RULE("max_pool2d_nchw", nchw_windows)
#undef TL_AVG_RULE
#undef TL_MAX_RULE

// Gradient-only ops are never part of a network being verified.
const OpRule BoundRule<"max_pool2d_nchw_grad">::rule = kNoRule;
const OpRule BoundRule<"avg_pool2d_nchw_grad">::rule = kNoRule;
const OpRule BoundRule<"conv2d_nchw_grad_input">::rule = kNoRule;
const OpRule BoundRule<"conv2d_nchw_grad_weight">::rule = kNoRule;

}  // namespace torchlean::verify
