// Reference semantics of the extension elementwise ops. Each output element depends only on the
// elements at the same flat index, so elements are computed in flat index order; the formula per
// element, with one rounding per step in F32/F64 (step by step, left to right as written), is:
//   neg(x)           = -x (exact: a sign flip)
//   div(a, b)        = a / b, one correctly rounded division (IEEE: b = ±0 gives ±inf or NaN;
//                      Exact: a divisor that may be 0 is an EvalError)
//   pow_const(x; p)  = integer p, |p| <= 1024: r = x, then |p|-1 times r = r * x (a left fold:
//                      x^3 = (x*x)*x); p < 0 then takes 1 / r; p = 0 gives 1 for every x (NaN
//                      too, as C's pow). p = 0.5: sqrt(x) (IEEE: NaN for x < 0, no clamp; Exact:
//                      EvalError). Other p: exp(p * log x) (three roundings, p first rounded to the
//                      domain), defined for x > 0 only: x <= 0 is an EvalError naming the index.
//   erf(x)           = erf x (correctly rounded in F32/F64, an enclosure in Exact)
//   gelu(x)          = (x * 0.5) * (1 + erf(x * c)), c = the domain's 1/sqrt(2) (nearest binary32
//                      or binary64; an enclosure in Exact); PyTorch's approximate='none' kernel
//                      evaluates the same expression in the same order
//   leaky_relu(x; a) = x >= 0 ? x : a * x (a rounded to the domain; -0 stays -0, NaN propagates)
//   softplus(x)      = maximum(x, +0) + log(1 + exp(-|x|)) (the overflow-free form of
//                      log(1 + exp(x)); PyTorch's threshold=20 linearisation is not applied)
//   silu(x)          = x * sigmoid(x)
//   clamp(x; lo, hi) = minimum(maximum(x, lo), hi), each bound only when set (IEEE 754-2019
//                      maximum/minimum: NaN propagates, -0 < +0); lo = -inf and hi = +inf are
//                      no-ops, the other infinite bounds are an EvalError in Exact
//   compare(a, b)    = 1 where `a cmp b` else +0 (IEEE: every comparison with NaN is false except
//                      ne; -0 == +0); Exact: an undecidable comparison of enclosures is an
//                      EvalError
//   where(c, a, b)   = c != 0 ? a : b (NaN counts as non-zero); Exact: a c that may or may not be 0
//                      is an EvalError
#include <algorithm>
#include <cmath>

#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

template <class S, class F>
Tensor<S> map_unary(const Tensor<S>& x, F f) {
  Tensor<S> out(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = f(x[i], i);
  return out;
}

template <class S>
void require_same(const ir::Node& n, const Tensor<S>& a, const Tensor<S>& b) {
  TL_INTERNAL_CHECK(a.shape() == b.shape(), detail::prefix(n) + "operand shapes " +
                                                a.shape().str() + " and " + b.shape().str() +
                                                " passed the checker but differ");
}

// ---- decisions (IEEE: always decided; Exact: only when the enclosures allow) ----

template <class T>
std::optional<bool> compare_values(const std::string& cmp, IeeeScalar<T> a, IeeeScalar<T> b) {
  if (cmp == "lt") return a.v < b.v;
  if (cmp == "le") return a.v <= b.v;
  if (cmp == "gt") return a.v > b.v;
  if (cmp == "ge") return a.v >= b.v;
  if (cmp == "eq") return a.v == b.v;
  return a.v != b.v;
}

std::optional<bool> compare_values(const std::string& cmp, const Exact& a, const Exact& b) {
  // a < b is decided when the enclosures are disjoint; equality only for equal points.
  auto less = [](const Exact& x, const Exact& y) -> std::optional<bool> {
    if (x.hi < y.lo) return true;
    if (x.lo >= y.hi) return false;
    return std::nullopt;
  };
  auto equal = [](const Exact& x, const Exact& y) -> std::optional<bool> {
    if (x.is_point() && y.is_point()) return x.lo == y.lo;
    if (x.hi < y.lo || y.hi < x.lo) return false;
    return std::nullopt;
  };
  auto negate = [](std::optional<bool> v) -> std::optional<bool> {
    if (v) return !*v;
    return std::nullopt;
  };
  if (cmp == "lt") return less(a, b);
  if (cmp == "le") return negate(less(b, a));
  if (cmp == "gt") return less(b, a);
  if (cmp == "ge") return negate(less(a, b));
  if (cmp == "eq") return equal(a, b);
  return negate(equal(a, b));
}

template <class T>
std::optional<bool> non_zero(IeeeScalar<T> c) {
  return c.v != 0;
}
std::optional<bool> non_zero(const Exact& c) {
  if (c.lo > 0 || c.hi < 0) return true;
  if (c.is_point()) return false;  // the point 0
  return std::nullopt;
}

template <class T>
IeeeScalar<T> leaky(IeeeScalar<T> x, IeeeScalar<T> alpha) {
  return x.v >= 0 ? x : alpha * x;
}
// On an enclosure that straddles 0, leaky_relu's image is the hull of alpha*lo, 0 and hi.
Exact leaky(const Exact& x, const Exact& alpha) {
  if (x.lo >= 0) return x;
  if (x.hi < 0) return alpha * x;
  const Exact left = alpha * Exact(x.lo);
  mpq_class lo = std::min({left.lo, mpq_class(0), x.hi});
  mpq_class hi = std::max({left.hi, mpq_class(0), x.hi});
  return Exact(lo, hi);
}

// The domain's value of a finite double attribute; a non-finite one is an EvalError in Exact.
template <class S>
S attr_value(const ir::Node& n, const char* name, double v) {
  if constexpr (S::is_exact) {
    if (!std::isfinite(v))
      throw EvalError(detail::prefix(n) + name + " " + std::to_string(v) +
                      " is not a real number (the Exact domain has no infinities)");
  }
  return S::from_double(v);
}

template <class S>
S one_over_sqrt2() {
  if constexpr (S::is_exact)
    return sqrt(Exact(mpq_class(1, 2)));
  else
    return S::from_double(M_SQRT1_2);
}

template <class S>
S divide(const ir::Node& n, const S& a, const S& b, int64_t i) {
  if (detail::may_be_zero(b))
    throw EvalError(detail::prefix(n) + "divisor at index " + std::to_string(i) + " is " +
                    detail::value_text(b) + detail::zero_divisor_note(b));
  return a / b;
}

}  // namespace

template <class S>
Tensor<S> eval_neg(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x, int64_t) { return -x; });
}

template <class S>
Tensor<S> eval_div(const EvalArgs<S>& args) {
  const Tensor<S>& a = args.arg(0);
  const Tensor<S>& b = args.arg(1);
  require_same(args.node, a, b);
  Tensor<S> out(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) out[i] = divide(args.node, a[i], b[i], i);
  return out;
}

template <class S>
Tensor<S> eval_pow_const(const EvalArgs<S>& args) {
  const double p = args.template attrs<ir::PowAttrs>().exponent;
  const ir::Node& n = args.node;
  const S one = S::from_int(1);
  if (p == std::trunc(p) && std::fabs(p) <= 1024) {
    const int64_t count = static_cast<int64_t>(std::fabs(p));
    return map_unary(args.arg(0), [&](const S& x, int64_t i) {
      if (count == 0) return one;
      S r = x;
      for (int64_t k = 1; k < count; ++k) r = r * x;
      return p < 0 ? divide(n, one, r, i) : r;
    });
  }
  if (p == 0.5) {
    return map_unary(args.arg(0), [&](const S& x, int64_t i) {
      if constexpr (S::is_exact) {
        if (x.lo < 0)
          throw EvalError(detail::prefix(n) + "base at index " + std::to_string(i) + " is " +
                          detail::value_text(x) + ", but x^0.5 = sqrt(x) needs x >= 0");
      }
      return sqrt(x);
    });
  }
  const S ps = S::from_double(p);
  return map_unary(args.arg(0), [&](const S& x, int64_t i) {
    switch (detail::positivity(x)) {
      case detail::Positivity::positive:
      case detail::Positivity::nan:
        break;
      case detail::Positivity::not_positive:
      case detail::Positivity::undecided:
        throw EvalError(detail::prefix(n) + "base at index " + std::to_string(i) + " is " +
                        detail::value_text(x) + ", but x^" + std::to_string(p) +
                        " = exp(p*log x) needs x > 0");
    }
    return exp(ps * log(x));
  });
}

template <class S>
Tensor<S> eval_erf(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x, int64_t) { return erf(x); });
}

template <class S>
Tensor<S> eval_gelu(const EvalArgs<S>& args) {
  const S c = one_over_sqrt2<S>();
  const S half = S::from_double(0.5);
  const S one = S::from_int(1);
  return map_unary(args.arg(0),
                   [&](const S& x, int64_t) { return (x * half) * (one + erf(x * c)); });
}

template <class S>
Tensor<S> eval_leaky_relu(const EvalArgs<S>& args) {
  const S alpha = S::from_double(args.template attrs<ir::LeakyReluAttrs>().alpha);
  return map_unary(args.arg(0), [&](const S& x, int64_t) { return leaky(x, alpha); });
}

template <class S>
Tensor<S> eval_softplus(const EvalArgs<S>& args) {
  const S zero = S::from_int(0);
  const S one = S::from_int(1);
  return map_unary(args.arg(0),
                   [&](const S& x, int64_t) { return maximum(x, zero) + log(one + exp(-abs(x))); });
}

template <class S>
Tensor<S> eval_silu(const EvalArgs<S>& args) {
  return map_unary(args.arg(0), [](const S& x, int64_t) { return x * sigmoid(x); });
}

template <class S>
Tensor<S> eval_clamp(const EvalArgs<S>& args) {
  const auto& a = args.template attrs<ir::ClampAttrs>();
  const bool use_lo = a.has_lo && a.lo != -INFINITY;
  const bool use_hi = a.has_hi && a.hi != INFINITY;
  const S lo = use_lo ? attr_value<S>(args.node, "lower bound", a.lo) : S::from_int(0);
  const S hi = use_hi ? attr_value<S>(args.node, "upper bound", a.hi) : S::from_int(0);
  return map_unary(args.arg(0), [&](const S& x, int64_t) {
    S y = use_lo ? maximum(x, lo) : x;
    return use_hi ? minimum(y, hi) : y;
  });
}

template <class S>
Tensor<S> eval_compare(const EvalArgs<S>& args) {
  const std::string& cmp = args.template attrs<ir::CompareAttrs>().cmp;
  const Tensor<S>& a = args.arg(0);
  const Tensor<S>& b = args.arg(1);
  require_same(args.node, a, b);
  const S one = S::from_int(1);
  const S zero = S::from_int(0);
  Tensor<S> out(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) {
    std::optional<bool> r = compare_values(cmp, a[i], b[i]);
    if (!r)
      throw EvalError(detail::prefix(args.node) + "cannot decide " + detail::value_text(a[i]) +
                      " " + cmp + " " + detail::value_text(b[i]) + " at index " +
                      std::to_string(i) + " (overlapping enclosures)");
    out[i] = *r ? one : zero;
  }
  return out;
}

template <class S>
Tensor<S> eval_where(const EvalArgs<S>& args) {
  const Tensor<S>& c = args.arg(0);
  const Tensor<S>& a = args.arg(1);
  const Tensor<S>& b = args.arg(2);
  require_same(args.node, c, a);
  require_same(args.node, c, b);
  Tensor<S> out(c.shape());
  for (int64_t i = 0; i < c.numel(); ++i) {
    std::optional<bool> r = non_zero(c[i]);
    if (!r)
      throw EvalError(detail::prefix(args.node) + "condition at index " + std::to_string(i) +
                      " is " + detail::value_text(c[i]) + ", which may or may not be 0");
    out[i] = *r ? a[i] : b[i];
  }
  return out;
}

TL_OPS_INSTANTIATE(neg)
TL_OPS_INSTANTIATE(div)
TL_OPS_INSTANTIATE(pow_const)
TL_OPS_INSTANTIATE(erf)
TL_OPS_INSTANTIATE(gelu)
TL_OPS_INSTANTIATE(leaky_relu)
TL_OPS_INSTANTIATE(softplus)
TL_OPS_INSTANTIATE(silu)
TL_OPS_INSTANTIATE(clamp)
TL_OPS_INSTANTIATE(compare)
TL_OPS_INSTANTIATE(where)

}  // namespace torchlean::ops
