// Helpers shared by the compiler/runtime tests: converting binary64 test data to the runtime's
// element type (as the reference's F32/F64 conversion does), random values with IEEE special
// cases, and compiling + checking a model in one call.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "torchlean/compile/compile.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/core/tensor.hpp"
#include "torchlean/runtime/equivalence.hpp"

namespace torchlean::testing {

// binary64 -> T rounded to nearest, NaN -> the canonical quiet NaN (F32::from_double's rule).
template <class T>
T to_elem(double v) {
  return std::isnan(v) ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(v);
}

template <class T>
std::vector<Tensor<T>> to_elem(const std::vector<Tensor<double>>& xs) {
  std::vector<Tensor<T>> out;
  for (const Tensor<double>& x : xs) {
    std::vector<T> v;
    for (double d : x.vec()) v.push_back(to_elem<T>(d));
    out.emplace_back(x.shape(), std::move(v));
  }
  return out;
}

template <class T>
bool same_bits(T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  return std::bit_cast<Bits>(a) == std::bit_cast<Bits>(b);
}

// Random values: mostly small normal numbers, with probability `special` one of NaN, +-0,
// +-inf, the smallest binary32/binary64 subnormals or a large value.
class ValueSource {
 public:
  explicit ValueSource(uint64_t seed, double special = 0.1) : rng_(seed), special_(special) {}
  uint64_t next() { return rng_.next(); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
  double value() {
    if (uniform() < special_) {
      static const double kSpecial[] = {std::numeric_limits<double>::quiet_NaN(),
                                        0.0,
                                        -0.0,
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        0x1p-149,
                                        -0x1p-140,
                                        0x1p-1074,
                                        -0x1p-1060,
                                        0x1p-126 * 0.75,
                                        3e38,
                                        -1e300};
      return kSpecial[below(std::size(kSpecial))];
    }
    // A few significant bits more than binary32 holds, so F32 inputs are rounded too.
    return (uniform() * 8 - 4) * (below(4) == 0 ? 1e-3 : 1.0);
  }
  std::vector<double> values(int64_t n) {
    std::vector<double> v(static_cast<size_t>(n));
    for (double& x : v) x = value();
    return v;
  }

 private:
  SplitMix64 rng_;
  double special_;
};

}  // namespace torchlean::testing
