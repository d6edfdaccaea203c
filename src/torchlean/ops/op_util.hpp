// Helpers shared by the op family files (ops/<family>.cpp): domain-generic predicates the reference
// semantics need beyond the scalar interface (decided comparisons, sign tests, "may be zero" for
// enclosures), the nearest scalar to a decimal constant, row-major index helpers, and the macro
// that instantiates an op's semantics for every scalar domain.
#pragma once
#include <gmpxx.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/core/shape.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::ops {

// The nearest value of domain S to the rational mantissa * 10^exp10: correctly rounded (to nearest,
// ties to even) for F32 and F64, the exact rational for Exact. Used for decimal constants such as
// layernorm's eps = 1e-6, whose binary32 and binary64 values are different roundings of 10^-6.
template <class S>
S from_decimal(int64_t mantissa, int exp10);

template <>
inline F32 from_decimal<F32>(int64_t mantissa, int exp10) {
  // glibc's strtof rounds correctly; "<int>e<int>" has no decimal point, so no locale dependence.
  std::string text = std::to_string(mantissa) + "e" + std::to_string(exp10);
  return F32::of(std::strtof(text.c_str(), nullptr));
}

template <>
inline F64 from_decimal<F64>(int64_t mantissa, int exp10) {
  std::string text = std::to_string(mantissa) + "e" + std::to_string(exp10);
  return F64::of(std::strtod(text.c_str(), nullptr));
}

template <>
inline Exact from_decimal<Exact>(int64_t mantissa, int exp10) {
  mpz_class scale;
  mpz_ui_pow_ui(scale.get_mpz_t(), 10, static_cast<unsigned long>(exp10 < 0 ? -exp10 : exp10));
  mpq_class q(mpz_class(std::to_string(mantissa)), mpz_class(1));
  if (exp10 < 0)
    q /= scale;
  else
    q *= scale;
  q.canonicalize();
  return Exact(q);
}

namespace detail {

// "[op] node N: " — the same prefix the IR checker uses, so every message about a node reads alike.
inline std::string prefix(const ir::Node& n) { return ir::detail::node_prefix(n); }

// a > b when it can be decided: always for IEEE (false if either is NaN); for Exact enclosures
// only when they do not overlap.
template <class T>
inline std::optional<bool> greater(IeeeScalar<T> a, IeeeScalar<T> b) {
  return a.v > b.v;
}
inline std::optional<bool> greater(const Exact& a, const Exact& b) {
  if (a.lo > b.hi) return true;
  if (a.hi <= b.lo) return false;
  return std::nullopt;
}

// Whether a divisor can be zero. IEEE division by zero is defined (±inf, NaN), so only the Exact
// domain, where it is an error, can answer yes.
template <class T>
inline bool may_be_zero(IeeeScalar<T>) {
  return false;
}
inline bool may_be_zero(const Exact& x) { return x.lo <= 0 && x.hi >= 0; }
// The end of a division-by-zero message for a divisor that may_be_zero.
inline std::string zero_divisor_note(const Exact& x) {
  return x.is_point() ? ": division by zero" : ", an enclosure of 0: division by zero";
}
template <class T>
inline std::string zero_divisor_note(IeeeScalar<T>) {
  return ": division by zero";
}

// Sign test for log's domain check.
enum class Positivity { positive, not_positive, undecided, nan };
template <class T>
inline Positivity positivity(IeeeScalar<T> x) {
  if (std::isnan(x.v)) return Positivity::nan;
  return x.v > 0 ? Positivity::positive : Positivity::not_positive;
}
inline Positivity positivity(const Exact& x) {
  if (x.lo > 0) return Positivity::positive;
  if (x.hi <= 0) return Positivity::not_positive;
  return Positivity::undecided;
}

// A value as text for error messages (shortest round-trip decimal, or the exact rational).
template <class T>
inline std::string value_text(IeeeScalar<T> x) {
  return to_string(x);
}
inline std::string value_text(const Exact& x) { return to_string(x); }

// The integer an index-like element holds (gather indices, class targets are float tensors), or
// nullopt if it is not an integer in [-2^53, 2^53] (NaN, infinite, fractional, an enclosure).
template <class T>
inline std::optional<int64_t> integer_value(IeeeScalar<T> x) {
  if (!(std::fabs(x.v) <= 0x1p53) || x.v != std::trunc(x.v)) return std::nullopt;
  return static_cast<int64_t>(x.v);
}
inline std::optional<int64_t> integer_value(const Exact& x) {
  if (!x.is_point() || x.lo.get_den() != 1 || abs(x.lo.get_num()) > mpz_class(1) << 53)
    return std::nullopt;
  return x.lo.get_num().get_si();
}

// An index-like element as a position in [0, extent): an integer in [-extent, extent) (negative
// values count from the end when `allow_negative`). Otherwise an EvalError naming the node, the
// element's position in its tensor and its value.
template <class S>
inline int64_t index_in(const ir::Node& n, const char* what, const S& v, int64_t position,
                        int64_t extent, bool allow_negative) {
  std::optional<int64_t> i = integer_value(v);
  const int64_t lo = allow_negative ? -extent : 0;
  if (!i || *i < lo || *i >= extent)
    throw EvalError(prefix(n) + what + " at index " + std::to_string(position) + " is " +
                    value_text(v) + ", expected an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(extent - 1) + "]");
  return *i < 0 ? *i + extent : *i;
}

// Product of dims[begin, end) (the element count of a block of axes).
inline int64_t dims_product(const Shape& s, int64_t begin, int64_t end) {
  int64_t n = 1;
  for (int64_t i = begin; i < end; ++i) n *= s[i];
  return n;
}

// Row-major multi-index iteration: advances `idx` within `dims`, last axis fastest. Returns false
// after the last index. Callers check numel > 0 first.
inline bool next_index(std::vector<int64_t>& idx, const std::vector<int64_t>& dims) {
  for (size_t k = idx.size(); k-- > 0;) {
    if (++idx[k] < dims[k]) return true;
    idx[k] = 0;
  }
  return false;
}

}  // namespace detail
}  // namespace torchlean::ops

// Explicit instantiation of eval_<name> for the three scalar domains (DESIGN §5.1: every op's
// semantics exists in every domain, so the dispatch table links for each).
#define TL_OPS_INSTANTIATE(name)                                       \
  template Tensor<::torchlean::F32> eval_##name<::torchlean::F32>(     \
      const EvalArgs<::torchlean::F32>&);                              \
  template Tensor<::torchlean::F64> eval_##name<::torchlean::F64>(     \
      const EvalArgs<::torchlean::F64>&);                              \
  template Tensor<::torchlean::Exact> eval_##name<::torchlean::Exact>( \
      const EvalArgs<::torchlean::Exact>&);
