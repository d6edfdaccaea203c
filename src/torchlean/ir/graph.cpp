#include "torchlean/ir/graph.hpp"

#include "torchlean/core/error.hpp"

namespace torchlean::ir {

std::string Node::label() const {
  return "node " + std::to_string(id) + " (" + std::string(op_name(kind)) + ")";
}

int64_t Graph::add(OpKind kind, std::vector<int64_t> parents, Attrs attrs, Shape shape) {
  int64_t id = static_cast<int64_t>(nodes.size());
  nodes.push_back(Node{id, std::move(parents), kind, std::move(attrs), std::move(shape)});
  return id;
}

const Node& Graph::node(int64_t id) const {
  TL_USER_CHECK(id >= 0 && id < static_cast<int64_t>(nodes.size()),
                "graph: node id " + std::to_string(id) + " out of range (graph has " +
                    std::to_string(nodes.size()) + " nodes)");
  return nodes[static_cast<size_t>(id)];
}

}  // namespace torchlean::ir
