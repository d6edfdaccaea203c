// Payload slot rules (which parameters a node needs, and their shapes) and the payload checker.
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::ir {

namespace {

[[noreturn]] void fail(const Node& n, const std::string& msg) { detail::fail_node(n, msg); }

using detail::attrs_of;

std::vector<PayloadSlot> linear_slots(const Graph& g, const Node& n) {
  if (n.parents.size() != 1)
    fail(n, "expected 1 parent, got " + std::to_string(n.parents.size()));
  const Shape& in = g.node(n.parents[0]).shape;
  if (in.rank() < 1 || n.shape.rank() < 1)
    fail(n, "expected rank >= 1 input and output, got input " + in.str() + ", declared " +
                n.shape.str());
  int64_t in_features = in[in.rank() - 1];
  int64_t out_features = n.shape[n.shape.rank() - 1];
  return {{"weight", Shape{out_features, in_features}}, {"bias", Shape{out_features}}};
}

std::string slot_names(const std::vector<PayloadSlot>& slots) {
  std::string out;
  for (size_t i = 0; i < slots.size(); ++i) out += (i ? ", '" : "'") + slots[i].name + "'";
  return out;
}

}  // namespace

std::vector<PayloadSlot> payload_slots(const Graph& g, const Node& n) {
  switch (n.kind) {
    case OpKind::constant:
      return {{"value", attrs_of<ConstAttrs>(n).value_shape}};
    case OpKind::linear:
      return linear_slots(g, n);
    case OpKind::conv2d: {
      const auto& a = attrs_of<Conv2dAttrs>(n);
      return {{"weight", Shape{a.outC, a.inC, a.kH, a.kW}}, {"bias", Shape{a.outC}}};
    }
    case OpKind::batch_norm2d_nchw_eval: {
      Shape c{attrs_of<BatchNormAttrs>(n).channels};
      return {{"gamma", c}, {"beta", c}, {"mean", c}, {"var", c}, {"eps", Shape{}}};
    }
    default:
      return {};
  }
}

std::vector<int64_t> parameterised_nodes(const Graph& g) {
  std::vector<int64_t> ids;
  for (const Node& n : g.nodes) {
    switch (n.kind) {
      case OpKind::constant:
      case OpKind::linear:
      case OpKind::conv2d:
      case OpKind::batch_norm2d_nchw_eval:
        ids.push_back(n.id);
        break;
      default:
        break;
    }
  }
  return ids;
}

namespace detail {

void check_payload_shapes(const Graph& g, const PayloadShapes& shapes) {
  check_graph(g);
  const int64_t count = static_cast<int64_t>(g.nodes.size());
  for (const auto& [id, slots] : shapes) {
    if (id < 0 || id >= count)
      throw UserError("[payload] payload for node " + std::to_string(id) +
                      ", which does not exist (graph has " + std::to_string(count) + " nodes)");
    const Node& n = g.nodes[static_cast<size_t>(id)];
    if (payload_slots(g, n).empty() && !slots.empty())
      fail(n, "has payload '" + slots.begin()->first + "' but the op takes no parameters");
  }
  for (int64_t id : parameterised_nodes(g)) {
    const Node& n = g.nodes[static_cast<size_t>(id)];
    std::vector<PayloadSlot> want = payload_slots(g, n);
    auto it = shapes.find(id);
    for (const PayloadSlot& slot : want) {
      if (it == shapes.end() || !it->second.contains(slot.name))
        fail(n, "missing payload '" + slot.name + "'");
      const Shape& have = it->second.at(slot.name);
      if (have != slot.shape)
        fail(n, "payload '" + slot.name + "' has shape " + have.str() + ", expected " +
                    slot.shape.str());
    }
    for (const auto& [name, shape] : it->second) {
      bool known = false;
      for (const PayloadSlot& slot : want) known = known || slot.name == name;
      if (!known)
        fail(n, "unexpected payload '" + name + "' " + shape.str() + " (the op takes " +
                    slot_names(want) + ")");
    }
  }
}

}  // namespace detail

}  // namespace torchlean::ir
