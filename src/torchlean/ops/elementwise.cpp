// Reference semantics of the elementwise ops. Every op maps each element independently, so the
// evaluation order is simply flat index order; each output element is one scalar operation of the
// domain (one rounding in F32/F64), except sqrt (a clamp, then sqrt).
//   add(a, b)      = a + b
//   sub(a, b)      = a - b
//   mul_elem(a, b) = a * b
//   abs(x)         = |x|
//   sqrt(x)        = sqrt(maximum(x, +0)): negatives, -0 and -inf clamp to +0 (TorchLean's
//   sqrtSpec) inv(x)         = 1 / x (IEEE: inv(±0) = ±inf; Exact: a divisor that may be 0 is an
//   EvalError) max_elem(a, b) = maximum(a, b), min_elem(a, b) = minimum(a, b): IEEE 754-2019,
//   NaN-propagating,
//                    -0 < +0
//   relu(x)        = maximum(x, +0), so relu(-0) = +0 and relu(NaN) = NaN
//   tanh, sigmoid, exp, sin, cos: the domain's function (correctly rounded in F32/F64, an enclosure
//                    in Exact)
//   log(x)         = log x for x > 0; x <= 0 (including -0, +0, -inf) is an EvalError in every
//                    domain, NaN propagates
//   detach(x)      = x (it only stops gradients)
#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

template <class S, class F>
Tensor<S> map_unary(const Tensor<S>& x, F f) {
  Tensor<S> out(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = f(x[i]);
  return out;
}

template <class S, class F>
Tensor<S> map_binary(const ir::Node& n, const Tensor<S>& a, const Tensor<S>& b, F f) {
  TL_INTERNAL_CHECK(a.shape() == b.shape(), detail::prefix(n) + "operand shapes " +
                                                a.shape().str() + " and " + b.shape().str() +
                                                " passed the checker but differ");
  Tensor<S> out(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) out[i] = f(a[i], b[i]);
  return out;
}

}  // namespace

template <class S>
Tensor<S> eval_add(const EvalArgs<S>& args) {
  return map_binary(args.node, args.arg(0), args.arg(1),
                    [](const S& a, const S& b) { return a + b; });
}

template <class S>
Tensor<S> eval_sub(const EvalArgs<S>& args) {
  return map_binary(args.node, args.arg(0), args.arg(1),
                    [](const S& a, const S& b) { return a - b; });
}

template <class S>
Tensor<S> eval_mul_elem(const EvalArgs<S>& args) {
  return map_binary(args.node, args.arg(0), args.arg(1),
                    [](const S& a, const S& b) { return a * b; });
}

template <class S>
Tensor<S> eval_max_elem(const EvalArgs<S>& args) {
  return map_binary(args.node, args.arg(0), args.arg(1),
                    [](const S& a, const S& b) { return maximum(a, b); });
}

template <class S>
Tensor<S> eval_min_elem(const EvalArgs<S>& args) {
  return map_binary(args.node, args.arg(0), args.arg(1),
                    [](const S& a, const S& b) { return minimum(a, b); });
}

template <class S>
Tensor<S> eval_abs(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x) { return abs(x); });
}

template <class S>
Tensor<S> eval_sqrt(const EvalArgs<S>& args) {
  const S zero = S::from_int(0);
  return map_unary(args.arg(0), [&](const S& x) { return sqrt(maximum(x, zero)); });
}

template <class S>
Tensor<S> eval_inv(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  const S one = S::from_int(1);
  Tensor<S> out(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (detail::may_be_zero(x[i]))
      throw EvalError(detail::prefix(args.node) + "argument at index " + std::to_string(i) +
                      " is " + detail::value_text(x[i]) + detail::zero_divisor_note(x[i]));
    out[i] = one / x[i];
  }
  return out;
}

template <class S>
Tensor<S> eval_relu(const EvalArgs<S>& args) {
  const S zero = S::from_int(0);
  return map_unary(args.arg(0), [&](const S& x) { return maximum(x, zero); });
}

template <class S>
Tensor<S> eval_tanh(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x) { return tanh(x); });
}

template <class S>
Tensor<S> eval_sigmoid(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x) { return sigmoid(x); });
}

template <class S>
Tensor<S> eval_exp(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x) { return exp(x); });
}

template <class S>
Tensor<S> eval_sin(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x) { return sin(x); });
}

template <class S>
Tensor<S> eval_cos(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x) { return cos(x); });
}

template <class S>
Tensor<S> eval_log(const EvalArgs<S>& args) {
  const Tensor<S>& x = args.arg(0);
  // Check the whole tensor first so the error names the first offending index, as TorchLean's
  // evaluator rejects the whole node rather than producing a partial result.
  for (int64_t i = 0; i < x.numel(); ++i) {
    switch (detail::positivity(x[i])) {
      case detail::Positivity::positive:
      case detail::Positivity::nan:
        break;
      case detail::Positivity::not_positive:
        throw EvalError(detail::prefix(args.node) + "argument at index " + std::to_string(i) +
                        " is " + detail::value_text(x[i]) + ", not positive");
      case detail::Positivity::undecided:
        throw EvalError(detail::prefix(args.node) + "argument at index " + std::to_string(i) +
                        " is " + detail::value_text(x[i]) + ", which may not be positive");
    }
  }
  return map_unary(x, [](const S& v) { return log(v); });
}

template <class S>
Tensor<S> eval_detach(const EvalArgs<S>& args) {
  return args.arg(0);
}

TL_OPS_INSTANTIATE(add)
TL_OPS_INSTANTIATE(sub)
TL_OPS_INSTANTIATE(mul_elem)
TL_OPS_INSTANTIATE(abs)
TL_OPS_INSTANTIATE(sqrt)
TL_OPS_INSTANTIATE(inv)
TL_OPS_INSTANTIATE(max_elem)
TL_OPS_INSTANTIATE(min_elem)
TL_OPS_INSTANTIATE(relu)
TL_OPS_INSTANTIATE(tanh)
TL_OPS_INSTANTIATE(sigmoid)
TL_OPS_INSTANTIATE(exp)
TL_OPS_INSTANTIATE(log)
TL_OPS_INSTANTIATE(sin)
TL_OPS_INSTANTIATE(cos)
TL_OPS_INSTANTIATE(detach)

}  // namespace torchlean::ops
