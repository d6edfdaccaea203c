// VJPs of the products (ops/linalg.cpp): for C = A B, dA = dC B^T and dB = A^T dC, batched when
// A and B are; a 2-D B shared across a batch collects dB over the whole batch with one product
// of the flattened operands.
#include "torchlean/autodiff/vjp.hpp"

namespace torchlean::autodiff::detail {

using ir::OpKind;

Adjoints vjp_matmul(const VjpContext& c) {
  const int64_t a = c.parent(0);
  const int64_t b = c.parent(1);
  const Shape as = c.parent_shape(0);
  const Shape bs = c.parent_shape(1);
  Adjoints adj{kNone, kNone};
  if (c.needed[0]) adj[0] = c.e.binary(OpKind::matmul, c.gy, c.e.transpose_last_two(b));
  if (c.needed[1]) {
    if (as.rank() == bs.rank()) {
      adj[1] = c.e.binary(OpKind::matmul, c.e.transpose_last_two(a), c.gy);
    } else {
      // (b...,m,n) x (n,p): dB = A'^T dC' over the flattened (b...*m) rows.
      const int64_t rows = as.numel() / as[as.rank() - 1];
      const int64_t a2 = c.e.reshape(a, Shape{rows, as[as.rank() - 1]});
      const int64_t g2 = c.e.reshape(c.gy, Shape{rows, bs[1]});
      adj[1] = c.e.binary(OpKind::matmul, c.e.transpose_last_two(a2), g2);
    }
  }
  return adj;
}

// The weights live in the payload, out of reach of a graph: lift_parameters rewrites linear into
// matmul + broadcast add over const nodes, which differentiate.
Adjoints vjp_linear(const VjpContext& c) {
  c.not_differentiable(0,
                       "(linear keeps its weights in the payload): call "
                       "autodiff::lift_parameters before grad");
  return {kNone};
}

}  // namespace torchlean::autodiff::detail
