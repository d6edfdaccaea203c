// Payload: parameters live here, never in nodes. Keyed by node id, then by slot name:
//   const                  -> "value"
//   linear                 -> "weight" (out, in), "bias" (out)
//   conv2d                 -> "weight" (outC, inC, kH, kW) = OIHW, "bias" (outC)
//   batch_norm2d_nchw_eval -> "gamma", "beta", "mean", "var" (C each), "eps" (scalar)
// Stored as binary64 values (every binary32 parameter is exact in binary64); an evaluator
// converts the store to its scalar domain once with `convert_payload`.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"

namespace torchlean::ir {

template <class S>
using PayloadStore = std::map<int64_t, std::map<std::string, Tensor<S>>>;
using Payload = PayloadStore<double>;

// A slot's name and the shape the node requires of it.
struct PayloadSlot {
  std::string name;
  Shape shape;
};

// The slots node `n` needs, with their shapes derived from the node, its parent's declared shape
// and its attributes (e.g. linear: weight (out,in), bias (out)), in the order listed above (the
// order importers consume parameter lists in). Empty for ops without parameters.
std::vector<PayloadSlot> payload_slots(const Graph& g, const Node& n);

// Node ids that carry parameters, in id order (const, linear, conv2d, batch_norm2d_nchw_eval).
std::vector<int64_t> parameterised_nodes(const Graph& g);

// Converts every tensor with S::from_double.
template <class S>
PayloadStore<S> convert_payload(const Payload& p) {
  PayloadStore<S> out;
  for (const auto& [id, slots] : p) {
    for (const auto& [name, t] : slots) {
      std::vector<S> v;
      v.reserve(t.vec().size());
      for (double x : t.vec()) v.push_back(S::from_double(x));
      out[id].emplace(name, Tensor<S>(t.shape(), std::move(v)));
    }
  }
  return out;
}

}  // namespace torchlean::ir
