#include "torchlean/io/param_order.hpp"

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::io::detail {

ir::Payload assign_in_order(const ir::Graph& g, std::span<const NamedTensor> tensors,
                            const ir::Payload& base, const std::string& prefix) {
  ir::check_graph(g);
  ir::Payload out = base;
  size_t next = 0;
  for (int64_t id : ir::parameterised_nodes(g)) {
    const ir::Node& node = g.node(id);
    for (const ir::PayloadSlot& slot : ir::payload_slots(g, node)) {
      auto held = out.find(id);
      if (held != out.end() && held->second.count(slot.name)) continue;
      if (node.kind == ir::OpKind::batch_norm2d_nchw_eval && slot.name == "eps")
        throw UserError(prefix + ": " + node.label() +
                        " has no eps; pass it in the base payload (a TorchLean graph JSON carries it as "
                        "the node's \"eps\" key)");
      if (next == tensors.size())
        throw UserError(prefix + ": ran out of tensors after " + std::to_string(tensors.size()) + ": " +
                        node.label() + " still needs slot `" + slot.name + "` of shape " + slot.shape.str());
      const NamedTensor& t = tensors[next++];
      if (t.tensor->shape() != slot.shape)
        throw UserError(prefix + ": " + t.name + " has shape " + t.tensor->shape().str() + " but " +
                        node.label() + " slot `" + slot.name + "` needs " + slot.shape.str());
      out[id].emplace(slot.name, *t.tensor);
    }
  }
  if (next != tensors.size())
    throw UserError(prefix + ": " + tensors[next].name + " is left over: the graph's parameterised nodes take " +
                    std::to_string(next) + " tensors, the input has " + std::to_string(tensors.size()));
  return out;
}

}  // namespace torchlean::io::detail
