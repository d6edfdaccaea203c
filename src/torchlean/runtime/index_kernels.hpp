// Kernels of the ops that read indices held as float values: gather (ONNX Gather) and its
// gradient gather_grad (scatter-add). Reference: ops/indexing.cpp. Indices (and cross_entropy's
// class targets, ops/classification.cpp) are checked first, all of them, in flat order, as the
// reference does, so the first invalid one (not an integer, or outside the range) is the one the
// reference's EvalError names; the executor then throws that message (throw_index_error). gather
// only moves bits; scatter-add starts every element at +0 and adds the gradient terms in index
// order (k ascending), as the reference's loop does.
#pragma once
#include <cstdint>
#include <string>

#include "torchlean/ir/graph.hpp"
#include "torchlean/runtime/program.hpp"

namespace torchlean::runtime {

struct IndexError {
  int64_t position = -1;   // flat position of the first invalid index, or -1
  std::string value;       // its value, as the reference prints it
  int64_t lo = 0, hi = 0;  // the accepted range [lo, hi]
  bool failed() const { return position >= 0; }
};

// The first of idx[0..count) that is not an integer in [-extent, extent) (allow_negative) or
// [0, extent) (NaN, infinities and fractions included).
template <class T>
IndexError check_indices(const T* idx, int64_t count, int64_t extent, bool allow_negative);
// The reference's EvalError for an invalid index of `node`; `what` is "index" (gather,
// gather_grad) or "target" (cross_entropy).
[[noreturn]] void throw_index_error(const ir::Node& node, const char* what, const IndexError& err);

// y (outer, count, inner) = data (outer, axis_len, inner) at the (checked) indices.
template <class T>
void gather_exact(const IndexParams& p, const T* data, const T* idx, T* y);
// y (outer, axis_len, inner) = +0, then y[o, idx[k], i] += g[o, k, i] for k ascending.
template <class T>
void scatter_add_exact(const IndexParams& p, const T* idx, const T* g, T* y);

}  // namespace torchlean::runtime
