// Bound rules of the linear-algebra ops (ops/linalg.cpp). Both are exact affine maps when one
// operand is constant; the float32 rounding follows the fma-chain order: linear rounds in+1 times
// (in fmas, then + bias), matmul n times.
//   linear(x):   y[r,o] = sum_k W[o,k] x[r,k] + b[o]
//   matmul(a,b): constant b (or a): y[..,i,j] = sum_k a[..,i,k] b[..,k,j]; a 2-D right operand is
//                shared across the batch. Both operands variable: interval products (UseBox).
#include "torchlean/verify/rule_util.hpp"

namespace torchlean::verify {

namespace {

AffineMap linear_map(const NodeCtx& ctx) {
  const Tensor<double>& w = ctx.slot("weight");
  const Tensor<double>& b = ctx.slot("bias");
  const Shape& sx = *ctx.parent_shapes[0];
  const int64_t in = sx[sx.rank() - 1], out = w.shape()[0];
  const int64_t rows = sx.numel() / std::max<int64_t>(in, 1);
  AffineBuilder m(ctx, rows * out);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t k = 0; k < in; ++k) m.term(0, r * in + k, w[o * in + k]);
      m.constant(b[o], b[o]);
      m.end_row(in + 1);
    }
  }
  return m.finish();
}

// (batch, m, n) x (n, p) or x (batch, n, p): the geometry of the extended matmul.
struct MatmulDims {
  int64_t batch, m, n, p;
  bool shared_b;
};
MatmulDims matmul_dims(const NodeCtx& ctx) {
  const Shape& sa = *ctx.parent_shapes[0];
  const Shape& sb = *ctx.parent_shapes[1];
  const int64_t ra = sa.rank(), rb = sb.rank();
  MatmulDims d{sa.numel() / std::max<int64_t>(sa[ra - 2] * sa[ra - 1], 1), sa[ra - 2], sa[ra - 1],
               sb[rb - 1], rb == 2 && ra > 2};
  return d;
}

AffineMap matmul_map(const NodeCtx& ctx) {
  const MatmulDims d = matmul_dims(ctx);
  const bool b_const = detail::is_const(ctx, 1);
  const Box& c = *ctx.constant[b_const ? 1 : 0];
  const int32_t var = b_const ? 0 : 1;
  AffineBuilder m(ctx, d.batch * d.m * d.p);
  for (int64_t q = 0; q < d.batch; ++q) {
    const int64_t a0 = q * d.m * d.n, b0 = d.shared_b ? 0 : q * d.n * d.p;
    for (int64_t i = 0; i < d.m; ++i) {
      for (int64_t j = 0; j < d.p; ++j) {
        for (int64_t k = 0; k < d.n; ++k) {
          const int64_t ia = a0 + i * d.n + k, ib = b0 + k * d.p + j;
          const auto [coef, rad] = detail::mid_rad(c, b_const ? ib : ia);
          m.term(var, b_const ? ia : ib, coef, rad);
        }
        m.end_row(d.n);
      }
    }
  }
  return m.finish();
}

// Both operands variable: interval fold (in float32 each fma step is enclosed by an outward
// product and sum, which contains the single rounding of the fma).
Box matmul_interval(const NodeCtx& ctx) {
  const MatmulDims d = matmul_dims(ctx);
  const Box& a = *ctx.parents[0];
  const Box& b = *ctx.parents[1];
  Box out(d.batch * d.m * d.p);
  for (int64_t q = 0; q < d.batch; ++q) {
    const int64_t a0 = q * d.m * d.n, b0 = d.shared_b ? 0 : q * d.n * d.p;
    for (int64_t i = 0; i < d.m; ++i) {
      for (int64_t j = 0; j < d.p; ++j) {
        Interval<double> acc{0, 0};
        for (int64_t k = 0; k < d.n; ++k) {
          const int64_t ia = a0 + i * d.n + k, ib = b0 + k * d.p + j;
          acc = acc + Interval<double>{a.lo[ia], a.hi[ia]} * Interval<double>{b.lo[ib], b.hi[ib]};
          if (ctx.sem == Semantics::float32) {
            Box one(1);
            one.lo[0] = acc.lo;
            one.hi[0] = acc.hi;
            round_box_to_f32(one);
            acc = {one.lo[0], one.hi[0]};
          }
        }
        const int64_t o = (q * d.m + i) * d.p + j;
        out.lo[o] = acc.lo;
        out.hi[o] = acc.hi;
      }
    }
  }
  return out;
}

bool matmul_affine(const NodeCtx& ctx) {
  return detail::is_const(ctx, 0) || detail::is_const(ctx, 1);
}

}  // namespace

const OpRule BoundRule<"linear">::rule{
    [](const NodeCtx& ctx) { return affine_ibp(linear_map(ctx), ctx); },
    [](const NodeCtx& ctx) -> Linearization { return linear_map(ctx); }, true};

const OpRule BoundRule<"matmul">::rule{
    [](const NodeCtx& ctx) {
      return matmul_affine(ctx) ? affine_ibp(matmul_map(ctx), ctx) : matmul_interval(ctx);
    },
    [](const NodeCtx& ctx) -> Linearization {
      if (matmul_affine(ctx)) return matmul_map(ctx);
      return UseBox{};
    },
    true};

}  // namespace torchlean::verify
