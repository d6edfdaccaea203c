// Bound rules of the reductions and normalisations (ops/reduction.cpp, ops/normalization.cpp,
// log_softmax and cross_entropy).
//   sum, reduce_sum, reduce_mean: exact affine maps (float32: a fold of n additions, plus the
//     division of the mean).
//   batch_norm2d_nchw_eval: affine y = k x + (beta - k mean) with k = gamma / sqrt(max(var,0) +
//     eps) enclosed in real semantics; in float32 the denominator is the binary32 value the
//     network computes and the four roundings of ((x - mean) / d) * gamma + beta are bounded by
//     gamma_4 (|beta| + |k| (max|x| + |mean|)) + 4 eta.
//   softmax, layernorm, mse_loss: boxes only (UseBox). Real semantics uses tighter equivalent
//     real expressions where they exist (softmax_k = 1 / (1 + sum_{j != k} exp(x_j - x_k)));
//     float32 re-runs the documented binary32 order in Interval<float>, whose every step encloses
//     the correctly rounded binary32 step.
//   log_softmax, cross_entropy: real semantics only (-log(1 + sum_{j != k} exp(x_j - x_k))).
#include <cstdlib>

#include "torchlean/verify/rule_util.hpp"

namespace torchlean::verify {

namespace {

using I = Interval<double>;

// (outer, n, inner) view of a reduction along `axis`.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisView view_of(const Shape& s, int64_t axis) {
  AxisView v;
  for (int64_t i = 0; i < axis; ++i) v.outer *= s[i];
  v.n = s[axis];
  for (int64_t i = axis + 1; i < s.rank(); ++i) v.inner *= s[i];
  return v;
}

AffineMap reduce_map(const NodeCtx& ctx, bool mean) {
  const Shape& s = *ctx.parent_shapes[0];
  AxisView v;
  if (ctx.node.kind == ir::OpKind::sum)
    v.n = s.numel();
  else
    v = view_of(s, std::get<ir::AxisAttrs>(ctx.node.attrs).axis);
  double q = 1, rad = 0;
  if (mean) {
    const double d = static_cast<double>(v.n);
    q = 1.0 / d;
    rad = std::fmax(std::fabs(div_up(1.0, d) - q), std::fabs(q - div_down(1.0, d)));
  }
  AffineBuilder m(ctx, v.outer * v.inner);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      for (int64_t k = 0; k < v.n; ++k) m.term(0, (o * v.n + k) * v.inner + i, q, rad);
      m.end_row(v.n + (mean ? 1 : 0));
    }
  return m.finish();
}

AffineMap batchnorm_map(const NodeCtx& ctx) {
  const Tensor<double>& gamma = ctx.slot("gamma");
  const Tensor<double>& beta = ctx.slot("beta");
  const Tensor<double>& mean = ctx.slot("mean");
  const Tensor<double>& var = ctx.slot("var");
  const double eps = ctx.slot("eps")[0];
  const Shape& s = *ctx.parent_shapes[0];
  const int64_t N = s[0], C = s[1], plane = s[2] * s[3];
  const bool f32 = ctx.sem == Semantics::float32;
  std::vector<I> k(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    I d;
    if (f32) {
      const float df =
          std::sqrt(std::fmax(static_cast<float>(var[c]), 0.0f) + static_cast<float>(eps));
      d = I{df, df};
    } else {
      d = sqrt(I{std::fmax(var[c], 0.0), std::fmax(var[c], 0.0)} + I{eps, eps});
    }
    k[c] = I{gamma[c], gamma[c]} / d;
  }
  AffineBuilder m(ctx, s.numel());
  const Box& x = *ctx.parents[0];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const I kc = k[c];
      const double mid = kc.lo + (kc.hi - kc.lo) / 2;
      const double rad = std::fmax(sub_up(mid, kc.lo), sub_up(kc.hi, mid));
      const I shift = I{beta[c], beta[c]} - kc * I{mean[c], mean[c]};
      const double kmag = mag(kc.lo, kc.hi);
      for (int64_t p = 0; p < plane; ++p) {
        const int64_t i = (n * C + c) * plane + p;
        m.term(0, i, mid, rad);
        m.constant(shift.lo, shift.hi);
        if (f32) {
          const double S = add_up(std::fabs(beta[c]),
                                  mul_up(kmag, add_up(mag(x.lo[i], x.hi[i]), std::fabs(mean[c]))));
          m.end_row_with_error(f32_affine_error(S, 4));
        } else {
          m.end_row(0);
        }
      }
    }
  return m.finish();
}

// Lines of a softmax-like op along `axis`: calls fn(first index, stride, n) per line.
template <class Fn>
void for_lines(const Shape& s, int64_t axis, Fn fn) {
  const AxisView v = view_of(s, axis);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) fn(o * v.n * v.inner + i, v.inner, v.n);
}

// sum_{j != k} exp(x_j - x_k) over a line, as a real enclosure.
I others_exp_sum(const Box& x, int64_t first, int64_t stride, int64_t n, int64_t k) {
  I s{0, 0};
  const int64_t ik = first + k * stride;
  for (int64_t j = 0; j < n; ++j) {
    if (j == k) continue;
    const int64_t ij = first + j * stride;
    s = s + exp(I{x.lo[ij], x.hi[ij]} - I{x.lo[ik], x.hi[ik]});
  }
  return s;
}

template <class F>
Interval<F> iv(double lo, double hi) {
  if constexpr (std::is_same_v<F, float>) {
    Box b(1);
    b.lo[0] = lo, b.hi[0] = hi;
    round_box_to_f32(b);
    return {static_cast<float>(b.lo[0]), static_cast<float>(b.hi[0])};
  } else {
    return {lo, hi};
  }
}

Box softmax_ibp(const NodeCtx& ctx) {
  const Box& x = *ctx.parents[0];
  Box out(x.size());
  const int64_t axis = std::get<ir::AxisAttrs>(ctx.node.attrs).axis;
  const bool f32 = ctx.sem == Semantics::float32;
  for_lines(*ctx.parent_shapes[0], axis, [&](int64_t first, int64_t stride, int64_t n) {
    if (!f32) {
      for (int64_t k = 0; k < n; ++k) {
        const I y = I{1, 1} / (I{1, 1} + others_exp_sum(x, first, stride, n, k));
        out.lo[first + k * stride] = std::fmax(y.lo, 0.0);
        out.hi[first + k * stride] = std::fmin(y.hi, 1.0);
      }
      return;
    }
    // binary32 order: m = max (seeded with the first), e_k = exp(x_k - m), s = fold, y = e / s.
    using J = Interval<float>;
    J m = iv<float>(x.lo[first], x.hi[first]);
    for (int64_t k = 1; k < n; ++k)
      m = maximum(m, iv<float>(x.lo[first + k * stride], x.hi[first + k * stride]));
    std::vector<J> e;
    J s{0, 0};
    for (int64_t k = 0; k < n; ++k) {
      e.push_back(exp(iv<float>(x.lo[first + k * stride], x.hi[first + k * stride]) - m));
      s = s + e.back();
    }
    for (int64_t k = 0; k < n; ++k) {
      const J y = e[k] / s;
      out.lo[first + k * stride] = std::fmax(y.lo, 0.0f);
      out.hi[first + k * stride] = std::fmin(y.hi, 1.0f);
    }
  });
  return out;
}

Box log_softmax_ibp(const NodeCtx& ctx) {
  if (ctx.sem == Semantics::float32) detail::no_float32_rule(ctx);
  const Box& x = *ctx.parents[0];
  Box out(x.size());
  const int64_t axis = std::get<ir::AxisAttrs>(ctx.node.attrs).axis;
  for_lines(*ctx.parent_shapes[0], axis, [&](int64_t first, int64_t stride, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
      const I y = -log(I{1, 1} + others_exp_sum(x, first, stride, n, k));
      out.lo[first + k * stride] = y.lo;
      out.hi[first + k * stride] = std::fmin(y.hi, 0.0);
    }
  });
  return out;
}

Box cross_entropy_ibp(const NodeCtx& ctx) {
  if (ctx.sem == Semantics::float32) detail::no_float32_rule(ctx);
  if (!detail::is_const(ctx, 1))
    throw UserError(ctx.prefix() + "bound rules need constant targets");
  const Box& x = *ctx.parents[0];
  const Box& t = *ctx.constant[1];
  const Shape& s = *ctx.parent_shapes[0];
  const int64_t N = s[0], C = s[1];
  I total{0, 0};
  for (int64_t r = 0; r < N; ++r) {
    const double tv = t.lo[r];
    if (tv != t.hi[r] || tv != std::floor(tv) || tv < 0 || tv >= static_cast<double>(C))
      throw UserError(ctx.prefix() + "target " + std::to_string(r) + " is not a class index");
    total = total + log(I{1, 1} + others_exp_sum(x, r * C, 1, C, static_cast<int64_t>(tv)));
  }
  const I y = total / I{static_cast<double>(N), static_cast<double>(N)};
  Box out(1);
  out.lo[0] = std::fmax(y.lo, 0.0);
  out.hi[0] = y.hi;
  return out;
}

// layernorm in domain F following ops/normalization.cpp's order.
template <class F>
void layernorm_row(const Box& x, int64_t first, int64_t D, Box& out) {
  using J = Interval<F>;
  const J d = iv<F>(static_cast<double>(D), static_cast<double>(D));
  J eps;
  if constexpr (std::is_same_v<F, float>) {
    const float e = std::strtof("1e-6", nullptr);
    eps = J{e, e};
  } else {
    eps = J{std::nextafter(1e-6, 0.0), std::nextafter(1e-6, 1.0)};  // encloses 10^-6
  }
  J sum{0, 0};
  for (int64_t k = 0; k < D; ++k) sum = sum + iv<F>(x.lo[first + k], x.hi[first + k]);
  const J mean = sum / d;
  std::vector<J> c;
  J s1{0, 0}, s2{0, 0};
  for (int64_t k = 0; k < D; ++k) {
    c.push_back(iv<F>(x.lo[first + k], x.hi[first + k]) - mean);
    s2 = s2 + c.back() * c.back();
    s1 = s1 + c.back();
  }
  const J m1 = s1 / d;
  const J var = maximum(s2 / d - m1 * m1, J{0, 0});
  const J denom = sqrt(var + eps);
  for (int64_t k = 0; k < D; ++k) {
    const J y = c[k] / denom * J{1, 1} + J{0, 0};
    out.lo[first + k] = y.lo;
    out.hi[first + k] = y.hi;
  }
}

Box layernorm_ibp(const NodeCtx& ctx) {
  const Box& x = *ctx.parents[0];
  const Shape& s = *ctx.parent_shapes[0];
  const int64_t axis = std::get<ir::AxisAttrs>(ctx.node.attrs).axis;
  int64_t D = 1;
  for (int64_t i = axis; i < s.rank(); ++i) D *= s[i];
  Box out(x.size());
  for (int64_t first = 0; first < x.size(); first += std::max<int64_t>(D, 1)) {
    if (ctx.sem == Semantics::float32)
      layernorm_row<float>(x, first, D, out);
    else
      layernorm_row<double>(x, first, D, out);
  }
  return out;
}

template <class F>
Box mse_in(const NodeCtx& ctx) {
  using J = Interval<F>;
  const Box& a = *ctx.parents[0];
  const Box& b = *ctx.parents[1];
  J acc{0, 0};
  for (int64_t i = 0; i < a.size(); ++i) {
    const J d = iv<F>(a.lo[i], a.hi[i]) - iv<F>(b.lo[i], b.hi[i]);
    acc = acc + d * d;
  }
  const double n = static_cast<double>(std::max<int64_t>(a.size(), 1));
  const J y = acc / iv<F>(n, n);
  Box out(1);
  out.lo[0] = std::fmax(y.lo, F(0));
  out.hi[0] = y.hi;
  return out;
}

}  // namespace

const OpRule BoundRule<"sum">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(reduce_map(ctx, false), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return reduce_map(ctx, false); }, true};
const OpRule BoundRule<"reduce_sum">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(reduce_map(ctx, false), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return reduce_map(ctx, false); }, true};
const OpRule BoundRule<"reduce_mean">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(reduce_map(ctx, true), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return reduce_map(ctx, true); }, true};
const OpRule BoundRule<"batch_norm2d_nchw_eval">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(batchnorm_map(ctx), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return batchnorm_map(ctx); }, true};
const OpRule BoundRule<"softmax">::rule{softmax_ibp, detail::use_box, true};
const OpRule BoundRule<"log_softmax">::rule{log_softmax_ibp, detail::use_box, true};
const OpRule BoundRule<"cross_entropy">::rule{cross_entropy_ibp, detail::use_box, true};
const OpRule BoundRule<"layernorm">::rule{layernorm_ibp, detail::use_box, true};
const OpRule BoundRule<"mse_loss">::rule{
    [](const NodeCtx& ctx) {
      return ctx.sem == Semantics::float32 ? mse_in<float>(ctx) : mse_in<double>(ctx);
    },
    detail::use_box, true};

}  // namespace torchlean::verify
