// Reference semantics of the linear-algebra ops. Each output element is a dot product evaluated as
// a left fold over the reduction index k in increasing order, starting from +0, one fused
// multiply-add per step: acc = fma(a_k, b_k, acc) (DESIGN §3.3). TorchLean folds acc + a*b (two
// roundings per step); that difference is documented in docs/ops.md.
//   matmul(a, b): TorchLean v1 accepts exactly (m,n) x (n,p) -> (m,p) and the batched
//                 (B,m,n) x (B,n,p) -> (B,m,p); the extension forms are any rank >= 2 with equal
//                 leading batch dims, and (b...,m,n) x (n,p) (b shared across the batch).
//                 y[..,i,j] = fold_k fma(a[..,i,k], b[..,k,j], acc). Output elements in row-major
//                 order (batch, i, j).
//   linear(x):    y[r, o] = fold_k fma(W[o,k], x[r,k], acc) + b[o], over any input rank >= 1 (the
//                 last axis is the feature axis, r ranges over the leading axes, W is (out, in));
//                 the bias is added after the fold, one rounding.
#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

// out[i*p + j] = fold_k fma(a[i*n + k], b[k*p + j], acc) for one (m,n) x (n,p) block.
template <class S>
void matmul_block(const S* a, const S* b, S* out, int64_t m, int64_t n, int64_t p) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < p; ++j) {
      S acc = S::from_int(0);
      for (int64_t k = 0; k < n; ++k) acc = fma(a[i * n + k], b[k * p + j], acc);
      out[i * p + j] = acc;
    }
  }
}

}  // namespace

template <class S>
Tensor<S> eval_matmul(const EvalArgs<S>& args) {
  const Tensor<S>& a = args.arg(0);
  const Tensor<S>& b = args.arg(1);
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  const int64_t r = sa.rank();
  const bool shared = sb.rank() == 2;
  TL_INTERNAL_CHECK(r >= 2 && (shared || sb.rank() == r) && sa[r - 1] == sb[sb.rank() - 2],
                    detail::prefix(args.node) + "shapes " + sa.str() + " x " + sb.str() +
                        " passed the checker but are not matmul shapes");
  const int64_t batch = detail::dims_product(sa, 0, r - 2);
  const int64_t m = sa[r - 2], n = sa[r - 1], p = sb[sb.rank() - 1];
  std::vector<int64_t> dims(sa.dims().begin(), sa.dims().end() - 1);
  dims.push_back(p);
  Tensor<S> out{Shape(std::move(dims))};
  for (int64_t q = 0; q < batch; ++q)
    matmul_block(a.data().data() + q * m * n, b.data().data() + (shared ? 0 : q * n * p),
                 out.data().data() + q * m * p, m, n, p);
  return out;
}

template <class S>
Tensor<S> eval_linear(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const Tensor<S>& w = args.slot("weight");
  const Tensor<S>& bias = args.slot("bias");
  const Shape& sx = x.shape();
  TL_INTERNAL_CHECK(sx.rank() >= 1 && w.shape().rank() == 2 && bias.shape().rank() == 1,
                    detail::prefix(args.node) + "input " + sx.str() + ", weight " +
                        w.shape().str() + ", bias " + bias.shape().str() +
                        " passed the checker but do not form a linear layer");
  const int64_t in = sx[sx.rank() - 1];
  const int64_t out_features = w.shape()[0];
  TL_INTERNAL_CHECK(w.shape()[1] == in && bias.shape()[0] == out_features,
                    detail::prefix(args.node) + "weight " + w.shape().str() + " and bias " +
                        bias.shape().str() + " do not match input " + sx.str());
  std::vector<int64_t> dims = sx.dims();
  dims.back() = out_features;
  Tensor<S> out{Shape(std::move(dims))};
  const int64_t rows = detail::dims_product(sx, 0, sx.rank() - 1);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out_features; ++o) {
      S acc = S::from_int(0);
      for (int64_t k = 0; k < in; ++k) acc = fma(w[o * in + k], x[r * in + k], acc);
      out[r * out_features + o] = acc + bias[o];
    }
  }
  return out;
}

TL_OPS_INSTANTIATE(matmul)
TL_OPS_INSTANTIATE(linear)

}  // namespace torchlean::ops
