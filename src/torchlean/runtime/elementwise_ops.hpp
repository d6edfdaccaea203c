// The elementwise operations of the runtime's kernels, as plain enums: shared by the public API
// (elementwise.hpp) and the per-ISA kernel files, which must not include headers with inline code
// (see vmath_simd.hpp).
#pragma once
#include <cstdint>

namespace torchlean::runtime {

// One-operand ops. copy keeps the bits (detach); the others follow ops/elementwise.cpp (neg and
// erf are extension ops).
enum class UnaryOp : uint8_t {
  copy,
  relu,
  abs,
  sqrt,
  inv,
  exp,
  log,
  tanh,
  sigmoid,
  sin,
  cos,
  neg,
  erf
};
inline constexpr int kNumUnaryOps = 13;

// Two-operand ops (maximum/minimum are IEEE 754-2019's, -0 < +0, NaN-propagating). div is the
// extension op div and is also used by the normalisation and pooling kernels.
enum class BinaryOp : uint8_t { add, sub, mul, div, maximum, minimum };
inline constexpr int kNumBinaryOps = 6;

}  // namespace torchlean::runtime
