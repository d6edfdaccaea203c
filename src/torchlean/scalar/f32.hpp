// F32 and F64: IEEE 754 binary32/binary64 scalar domains, round-to-nearest-even, every operation
// rounded once. Any NaN result is replaced by the canonical quiet NaN so results are the same bits
// everywhere (DESIGN §3.2). Elementary functions are correctly rounded (elementary.cpp; method
// and error allowance in docs/scalar.md); elementary.hpp selects them by name.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace torchlean {

namespace detail {
template <class T>
inline T canon(T x) {
  return std::isnan(x) ? std::numeric_limits<T>::quiet_NaN() : x;
}
}  // namespace detail

// One IEEE binary format as a scalar domain. T is float or double.
template <class T>
struct IeeeScalar {
  T v{};

  static constexpr bool is_exact = false;
  static IeeeScalar of(T x) { return IeeeScalar{detail::canon(x)}; }
  // Nearest value of the format (one rounding from binary64).
  static IeeeScalar from_double(double x) { return of(static_cast<T>(x)); }
  static IeeeScalar from_int(int64_t n) { return of(static_cast<T>(n)); }
  double to_double() const { return static_cast<double>(v); }

  friend IeeeScalar operator+(IeeeScalar a, IeeeScalar b) { return of(a.v + b.v); }
  friend IeeeScalar operator-(IeeeScalar a, IeeeScalar b) { return of(a.v - b.v); }
  friend IeeeScalar operator*(IeeeScalar a, IeeeScalar b) { return of(a.v * b.v); }
  friend IeeeScalar operator/(IeeeScalar a, IeeeScalar b) { return of(a.v / b.v); }
  friend IeeeScalar operator-(IeeeScalar a) { return of(-a.v); }
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  Bits bits() const { return std::bit_cast<Bits>(v); }
  // Bit equality (so NaN == NaN and -0 != +0): the relation the equivalence checker uses.
  friend bool operator==(IeeeScalar a, IeeeScalar b) { return a.bits() == b.bits(); }
};

using F32 = IeeeScalar<float>;
using F64 = IeeeScalar<double>;

template <class T>
inline IeeeScalar<T> fma(IeeeScalar<T> a, IeeeScalar<T> b, IeeeScalar<T> c) {
  return IeeeScalar<T>::of(std::fma(a.v, b.v, c.v));
}
// sqrt of a negative input is NaN, as in IEEE 754 (ops clamp first where TorchLean does).
template <class T>
inline IeeeScalar<T> sqrt(IeeeScalar<T> a) { return IeeeScalar<T>::of(std::sqrt(a.v)); }
template <class T>
inline IeeeScalar<T> abs(IeeeScalar<T> a) { return IeeeScalar<T>::of(std::fabs(a.v)); }
// IEEE 754-2019 maximum/minimum: NaN-propagating, and -0 < +0.
template <class T>
inline IeeeScalar<T> maximum(IeeeScalar<T> a, IeeeScalar<T> b) {
  if (std::isnan(a.v) || std::isnan(b.v)) return IeeeScalar<T>::of(std::numeric_limits<T>::quiet_NaN());
  if (a.v == b.v) return std::signbit(a.v) ? b : a;
  return a.v > b.v ? a : b;
}
template <class T>
inline IeeeScalar<T> minimum(IeeeScalar<T> a, IeeeScalar<T> b) {
  if (std::isnan(a.v) || std::isnan(b.v)) return IeeeScalar<T>::of(std::numeric_limits<T>::quiet_NaN());
  if (a.v == b.v) return std::signbit(a.v) ? a : b;
  return a.v < b.v ? a : b;
}

// Correctly rounded elementary functions (round-to-nearest-even), defined in elementary.cpp.
F32 exp(F32 x);
F32 log(F32 x);
F32 tanh(F32 x);
F32 sigmoid(F32 x);
F32 sin(F32 x);
F32 cos(F32 x);
F32 erf(F32 x);
F64 exp(F64 x);
F64 log(F64 x);
F64 tanh(F64 x);
F64 sigmoid(F64 x);
F64 sin(F64 x);
F64 cos(F64 x);
F64 erf(F64 x);

std::string to_string(F32 x);  // shortest decimal that round-trips
std::string to_string(F64 x);

}  // namespace torchlean
