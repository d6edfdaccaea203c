// Maps an ordered list of tensors (a state dict's params, a paramlist_bits file) onto a graph's
// parameterised nodes: nodes in id order and, within a node, slots in ir::payload_slots order.
#pragma once
#include <span>
#include <string>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::io {

struct NamedTensor {
  std::string name;  // shown in messages: a state-dict key, or "params[3]"
  const Tensor<double>* tensor;
};

namespace detail {
// Checks `g`, then fills every slot of every parameterised node that `base` does not already
// hold, consuming `tensors` in order. batch_norm's "eps" is never consumed (PyTorch state dicts do
// not store it): it must come from `base` (GraphJson::inline_payload). Count and shape mismatches
// throw UserError "<prefix>: ..." naming the tensor, the node and the slot.
ir::Payload assign_in_order(const ir::Graph& g, std::span<const NamedTensor> tensors,
                            const ir::Payload& base, const std::string& prefix);
}  // namespace detail

}  // namespace torchlean::io
