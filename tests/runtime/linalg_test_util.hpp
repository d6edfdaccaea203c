// Helpers for the GEMM and conv kernel tests: random matrices whose dot products are sensitive to
// summation order (spread exponents, mixed signs) with a controllable share of special values
// (NaN, +-0, +-inf, subnormals), and bitwise comparison.
#pragma once
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "torchlean/scalar/f32.hpp"

namespace torchlean::runtime::testing {

template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <class T>
Bits<T> bits_of(T x) {
  return std::bit_cast<Bits<T>>(x);
}

// One value: with probability `special_rate` a special (NaN, +-0, +-inf, a subnormal, the largest
// finite), otherwise +-m * 2^e with a random mantissa and e in [-12, 12].
template <class T>
T random_value(std::mt19937_64& rng, double special_rate) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (unit(rng) < special_rate) {
    using L = std::numeric_limits<T>;
    switch (rng() % 9) {
      case 0:
        return L::quiet_NaN();
      case 1:
        return T(0);
      case 2:
        return -T(0);
      case 3:
        return L::infinity();
      case 4:
        return -L::infinity();
      case 5:
        return L::denorm_min();
      case 6:
        return -L::denorm_min() * T(static_cast<int>(rng() % 1000 + 1));
      case 7:
        return L::min() / T(3);  // subnormal
      default:
        return (rng() & 1) ? L::max() : -L::max();
    }
  }
  const double mant = 1.0 + unit(rng);
  const int e = static_cast<int>(rng() % 25) - 12;
  const double v = std::ldexp(mant, e);
  return static_cast<T>((rng() & 1) ? v : -v);
}

template <class T>
std::vector<T> random_vector(std::mt19937_64& rng, int64_t n, double special_rate) {
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = random_value<T>(rng, special_rate);
  return v;
}

// Same bits, treating every NaN alike (the kernels canonicalise; inputs may carry payloads).
template <class T>
bool same_bits(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return bits_of(a) == bits_of(b);
}

// The canonical quiet NaN every F32/F64 NaN result must be.
template <class T>
bool is_canonical_nan(T x) {
  return bits_of(x) == bits_of(std::numeric_limits<T>::quiet_NaN());
}

template <class T>
std::string show(T x) {
  return to_string(IeeeScalar<T>{x}) + " (0x" + [&] {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(bits_of(x)));
    return std::string(buf);
  }() + ")";
}

}  // namespace torchlean::runtime::testing
