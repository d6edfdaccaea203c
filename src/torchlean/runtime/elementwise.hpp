// Elementwise kernels of the compiled runtime, for T = float or double, over contiguous arrays:
// one-operand ops, two-operand ops (either side may be a broadcast scalar), and fused chains of
// them evaluated in one pass. Reference: ops/elementwise.cpp, element by element; every result is
// bit-identical to it (NaN results are the canonical quiet NaN; maximum/minimum are IEEE
// 754-2019's). The hot path allocates nothing, checks no shapes and never throws: where the
// reference throws (log of x <= 0) the kernel reports an ElementwiseError and the caller throws
// the reference's EvalError after the run. Kernels are vectorised (vmath.hpp's Isa) and
// single-threaded; elements are independent, so a caller may split [0, n) among threads freely.
// y may be the same array as an input (not a partial overlap).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "torchlean/ir/op_kind.hpp"
#include "torchlean/runtime/elementwise_ops.hpp"

namespace torchlean::runtime {

std::string_view unary_op_name(UnaryOp op);
std::string_view binary_op_name(BinaryOp op);
// The kernel op that implements an IR op (detach -> copy, mul_elem -> mul, max_elem -> maximum,
// ...), or nullopt when the IR op is not elementwise.
std::optional<UnaryOp> unary_op_of(ir::OpKind k);
std::optional<BinaryOp> binary_op_of(ir::OpKind k);
// Whether unary_fast differs from unary_exact for op (the elementary functions).
bool unary_has_fast_variant(UnaryOp op);

// Where an exact kernel met an input the reference rejects: log's argument x <= 0 (including -0,
// +0 and -inf; NaN propagates). index is the first such element (the reference checks the whole
// tensor first, so this is the element its message names), step the chain step (0 for a single
// op) and value the offending argument.
struct ElementwiseError {
  int64_t index = -1;
  int32_t step = -1;
  double value = 0;
  bool failed() const { return index >= 0; }
};

// y[i] = op(x[i]). error (optional) receives log's domain error.
template <class T>
void unary_exact(UnaryOp op, const T* x, T* y, int64_t n, ElementwiseError* error = nullptr);
// As unary_exact, but the elementary functions use vmath_fast: |y - exact| <= unary_fast_bound.
template <class T>
void unary_fast(UnaryOp op, const T* x, T* y, int64_t n, ElementwiseError* error = nullptr);
// The fast variant's declared bound for one element whose exact result is ref: 0 for ops without
// a fast variant and for non-finite ref (the results are then identical), else
// vmath_fast_ulps<T> * ulp_of(ref).
template <class T>
double unary_fast_bound(UnaryOp op, T ref);

// y[i] = a[i] op b[i]; y[i] = a[i] op b; y[i] = a op b[i].
template <class T>
void binary_exact(BinaryOp op, const T* a, const T* b, T* y, int64_t n);
template <class T>
void binary_exact_rhs_scalar(BinaryOp op, const T* a, T b, T* y, int64_t n);
template <class T>
void binary_exact_lhs_scalar(BinaryOp op, T a, const T* b, T* y, int64_t n);

// ---- fused chains --------------------------------------------------------------------------
// A chain is a tiny register program evaluated per element: a value v flows through up to
// kMaxChainSteps steps, each a unary or binary op whose operands are v, an input array (indexed
// per element) or a scalar (broadcast). Step 0 has no v yet, so it reads arrays/scalars only.
// Each step is one op of the reference, rounded once, so a chain is bit-identical to running its
// ops one after another (the fused node's unfused decomposition stays its definition).
// Implementation: blocks of 256 elements; each step runs the vectorised single-op kernel over the
// block, the value staying in a stack buffer (L1).
inline constexpr int kMaxChainSteps = 16;

enum class ChainSource : uint8_t { value, array, scalar };
struct ChainOperand {
  ChainSource source = ChainSource::value;
  uint8_t index = 0;  // array or scalar index

  static constexpr ChainOperand value() { return {ChainSource::value, 0}; }
  static constexpr ChainOperand array(uint8_t i) { return {ChainSource::array, i}; }
  static constexpr ChainOperand scalar(uint8_t i) { return {ChainSource::scalar, i}; }
};

struct ChainStep {
  bool is_binary = false;
  UnaryOp unary = UnaryOp::copy;
  BinaryOp binary = BinaryOp::add;
  ChainOperand lhs;  // the operand of a unary step
  ChainOperand rhs;  // binary steps only

  static constexpr ChainStep of(UnaryOp op, ChainOperand x = ChainOperand::value()) {
    return {false, op, BinaryOp::add, x, ChainOperand::value()};
  }
  static constexpr ChainStep of(BinaryOp op, ChainOperand a, ChainOperand b) {
    return {true, UnaryOp::copy, op, a, b};
  }
};

// A plain value (no allocation): the compiler stores it in the instruction.
struct ElementwiseChain {
  int32_t length = 0;
  ChainStep steps[kMaxChainSteps] = {};
  bool fast = false;  // elementary functions use their fast variants (unary_fast)

  // Appends a step; InternalError when the chain is full.
  ElementwiseChain& then(ChainStep step);
};

// Checks a chain once, outside the hot path: 1 <= length <= kMaxChainSteps, step 0 reads no value,
// array/scalar indices below n_arrays/n_scalars. InternalError (a malformed chain is a compiler bug)
// naming the step.
void check_chain(const ElementwiseChain& chain, int n_arrays, int n_scalars);

// y[i] = chain(arrays[.][i], scalars[.]) for i in [0, n). error (optional) receives the first
// domain error: the lowest step with one, and within it the lowest index (as the unfused ops,
// evaluated node by node, would report it).
template <class T>
void chain_run(const ElementwiseChain& chain, const T* const* arrays, const T* scalars, T* y,
               int64_t n, ElementwiseError* error = nullptr);

}  // namespace torchlean::runtime
