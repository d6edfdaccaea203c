// Helpers for the elementwise and reduction kernel tests (test_elementwise.cpp, test_reduce.cpp):
// random binary32/binary64 values with IEEE special cases, one-op graphs run through the
// reference evaluator (the oracle every exact kernel must match bit for bit), and bit comparison.
#pragma once
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/core/tensor.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"
#include "torchlean/runtime/vmath.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::testing {

template <class T>
using Domain = IeeeScalar<T>;  // F32 for float, F64 for double

template <class T>
using BitsOf = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <class T>
BitsOf<T> bits_of(T v) {
  return std::bit_cast<BitsOf<T>>(v);
}

template <class T>
bool canonical(T v) {
  return !std::isnan(v) || bits_of(v) == bits_of(std::numeric_limits<T>::quiet_NaN());
}

// Random values: mostly moderate numbers of both signs (some small integers, so ties, exact
// cancellations and equal operands occur), and with probability `special` one of NaN, +-0,
// +-inf, subnormals, the largest finite numbers or tiny normals.
template <class T>
class Values {
 public:
  explicit Values(uint64_t seed, double special = 0.15) : rng_(seed), special_(special) {}
  uint64_t next() { return rng_.next(); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }

  T value() {
    const double u = uniform();
    if (u < special_) {
      using L = std::numeric_limits<T>;
      const T choices[] = {L::quiet_NaN(), T(0),         -T(0),      L::infinity(), -L::infinity(),
                           L::denorm_min(), -L::denorm_min() * T(37), L::min() * T(0.75),
                           L::max(),       -L::max(),     L::min(),   T(1e30),       -T(1e-30)};
      return choices[below(static_cast<int64_t>(std::size(choices)))];
    }
    if (u < special_ + 0.15) return static_cast<T>(below(9) - 4);  // small integers
    return static_cast<T>((uniform() * 2 - 1) * std::ldexp(1.0, static_cast<int>(below(12)) - 6));
  }
  std::vector<T> vec(int64_t n) {
    std::vector<T> v(static_cast<size_t>(n));
    for (T& x : v) x = value();
    return v;
  }
  // A random shape of rank 1..max_rank whose dims multiply to at most about `budget`.
  Shape shape(int max_rank, int64_t max_dim) {
    std::vector<int64_t> dims(static_cast<size_t>(1 + below(max_rank)));
    for (int64_t& d : dims) d = below(max_dim + 1);
    return Shape(dims);
  }

 private:
  SplitMix64 rng_;
  double special_;
};

// The reference evaluator on a graph of input nodes (one per entry of `inputs`) plus one `kind`
// node of shape `out_shape` (the graph's output). Throws what the evaluator throws.
template <class T>
std::vector<T> reference_op(ir::OpKind kind, const ir::Attrs& attrs,
                            const std::vector<std::pair<Shape, std::vector<T>>>& inputs,
                            const Shape& out_shape, const ir::Payload& payload = {}) {
  ir::Graph g;
  std::vector<Tensor<Domain<T>>> tensors;
  std::vector<int64_t> parents;
  for (const auto& [shape, values] : inputs) {
    parents.push_back(g.add(ir::OpKind::input, {}, ir::NoAttrs{}, shape));
    std::vector<Domain<T>> v;
    for (T x : values) v.push_back(Domain<T>::of(x));
    tensors.emplace_back(shape, std::move(v));
  }
  g.input_ids = parents;
  const int64_t out = g.add(kind, parents, attrs, out_shape);
  g.output_ids = {out};
  ir::Payload shifted;  // payload given for node "the op" under key -1
  for (const auto& [id, slots] : payload) shifted[id < 0 ? out : id] = slots;
  const auto store = ir::convert_payload<Domain<T>>(shifted);
  const auto result = interp::evaluate_outputs<Domain<T>>(g, store, tensors);
  std::vector<T> values;
  for (const Domain<T>& v : result.at(0).vec()) values.push_back(v.v);
  return values;
}

// Index of the first element whose bits differ, or -1.
template <class T>
int64_t first_bit_difference(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (bits_of(a[i]) != bits_of(b[i])) return static_cast<int64_t>(i);
  return -1;
}

#define EXPECT_SAME_BITS(got, want, what)                                                   \
  do {                                                                                      \
    const int64_t at_ = ::torchlean::testing::first_bit_difference(got, want);              \
    if (at_ >= 0) {                                                                         \
      ADD_FAILURE() << (what) << ": element " << at_ << " differs: got " << std::hexfloat   \
                    << ((got).size() > static_cast<size_t>(at_) ? (got)[at_] : 0) << " want " \
                    << ((want).size() > static_cast<size_t>(at_) ? (want)[at_] : 0)          \
                    << std::defaultfloat << " (sizes " << (got).size() << ", "              \
                    << (want).size() << ")";                                                \
    }                                                                                       \
  } while (0)

// Runs a test body on every instruction-set path this machine supports.
template <class F>
void for_each_isa(F&& body) {
  for (runtime::Isa isa : {runtime::Isa::portable, runtime::Isa::avx2, runtime::Isa::avx512}) {
    if (!runtime::isa_supported(isa)) continue;
    SCOPED_TRACE(std::string("isa ") + std::string(runtime::isa_name(isa)));
    struct Restore {
      ~Restore() { runtime::force_isa_for_testing(std::nullopt); }
    } restore;
    runtime::force_isa_for_testing(isa);
    body(isa);
  }
}

}  // namespace torchlean::testing
