// Reference semantics of log_softmax and cross_entropy, in softmax's order (normalization.cpp).
//   log_softmax(x; axis): for each line along `axis`:
//       m   = maximum over the line (a fold seeded with the line's first element, as softmax),
//       d_k = x_k - m,
//       s   = sum_k exp(d_k) (left fold from +0 in index order),
//       l   = log(s),
//       y_k = d_k - l.
//     Lines are visited in row-major order of the other axes.
//   cross_entropy(logits (N,C), targets (N)): for row n, with m, d, l as above over the C logits
//     and t the class index held by targets[n] (an integer in [0, C); anything else, including
//     PyTorch's ignore_index -100, is an EvalError naming the node and the row),
//       loss_n = l - d_t          (= -log_softmax(logits)[n, t], bit for bit)
//       total  = sum_n loss_n     (left fold from +0 over n ascending)
//       y      = total / N        (one division: PyTorch's reduction='mean')
#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

// m and l = log(sum exp(x - m)) of the line x[base + k*stride], k < len (len > 0); the shifted
// values d_k = x_k - m go to `d`.
template <class S>
S log_sum_exp_shifted(const Tensor<S>& x, int64_t base, int64_t len, int64_t stride,
                      std::vector<S>& d) {
  S m = x[base];
  for (int64_t k = 0; k < len; ++k) m = maximum(m, x[base + k * stride]);
  S total = S::from_int(0);
  for (int64_t k = 0; k < len; ++k) {
    d[static_cast<size_t>(k)] = x[base + k * stride] - m;
    total = total + exp(d[static_cast<size_t>(k)]);
  }
  return log(total);
}

}  // namespace

template <class S>
Tensor<S> eval_log_softmax(const EvalArgs<S>& args) {
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
  std::vector<S> d(static_cast<size_t>(len));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      const S l = log_sum_exp_shifted(x, base, len, inner, d);
      for (int64_t k = 0; k < len; ++k) out[base + k * inner] = d[static_cast<size_t>(k)] - l;
    }
  }
  return out;
}

template <class S>
Tensor<S> eval_cross_entropy(const EvalArgs<S>& args) {
  const Tensor<S>& logits = args.arg(0);
  const Tensor<S>& targets = args.arg(1);
  const Shape& s = logits.shape();
  TL_INTERNAL_CHECK(s.rank() == 2 && s[0] > 0 && s[1] > 0 && targets.shape() == Shape{s[0]},
                    detail::prefix(args.node) + "logits " + s.str() + " and targets " +
                        targets.shape().str() + " passed the checker but do not match");
  const int64_t rows = s[0], classes = s[1];
  std::vector<int64_t> t(static_cast<size_t>(rows));
  for (int64_t n = 0; n < rows; ++n)
    t[static_cast<size_t>(n)] =
        detail::index_in(args.node, "target", targets[n], n, classes, false);
  std::vector<S> d(static_cast<size_t>(classes));
  S total = S::from_int(0);
  for (int64_t n = 0; n < rows; ++n) {
    const S l = log_sum_exp_shifted(logits, n * classes, classes, 1, d);
    total = total + (l - d[static_cast<size_t>(t[static_cast<size_t>(n)])]);
  }
  return Tensor<S>(Shape{}, std::vector<S>{total / S::from_int(rows)});
}

TL_OPS_INSTANTIATE(log_softmax)
TL_OPS_INSTANTIATE(cross_entropy)

}  // namespace torchlean::ops
