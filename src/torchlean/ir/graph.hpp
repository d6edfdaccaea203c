// The IR graph: an array of nodes in SSA order (nodes[i].id == i, parents have smaller ids).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "torchlean/core/shape.hpp"
#include "torchlean/ir/attrs.hpp"
#include "torchlean/ir/op_kind.hpp"

namespace torchlean::ir {

struct Node {
  int64_t id = 0;
  std::vector<int64_t> parents;
  OpKind kind = OpKind::input;
  Attrs attrs;
  Shape shape;  // declared output shape; the checker re-infers and compares it

  bool operator==(const Node&) const = default;
  // "node 3 (relu)" for error messages.
  std::string label() const;
};

struct Graph {
  std::vector<Node> nodes;
  // Graph inputs and outputs, by node id. A torchlean.ir.v1 file has exactly one of each;
  // several are an extension (bound by their order here).
  std::vector<int64_t> input_ids;
  std::vector<int64_t> output_ids;

  bool operator==(const Graph&) const = default;

  // Appends a node with the next id and returns that id. Does not check it.
  int64_t add(OpKind kind, std::vector<int64_t> parents, Attrs attrs, Shape shape);
  const Node& node(int64_t id) const;
};

}  // namespace torchlean::ir
