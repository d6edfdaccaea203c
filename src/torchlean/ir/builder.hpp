// GraphBuilder: the one way importers (ONNX) and the nn layer emit IR. Each node's shape comes
// from the one shape function (infer_shape), so a builder can never declare a shape the checker
// would reject; parameters go to the payload store, never into nodes.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::ir {

class GraphBuilder {
 public:
  // A graph input of the given shape; inputs are bound in the order they are added.
  int64_t input(Shape shape);
  // A `const` node holding `value` in the payload.
  int64_t constant(Tensor<double> value);
  // Appends a node, inferring its shape. `declared` is needed only by ops whose shape is not
  // determined by parents and attributes (rand_uniform, bernoulli_mask, linear's out features).
  // Throws UserError (from infer_shape) if the node is ill-formed.
  int64_t add(OpKind kind, std::vector<int64_t> parents, Attrs attrs = NoAttrs{},
              std::optional<Shape> declared = std::nullopt);
  // Attaches payload slot `slot` of node `id` (e.g. linear "weight").
  void set_payload(int64_t id, const std::string& slot, Tensor<double> value);
  void mark_output(int64_t id);

  const Shape& shape(int64_t id) const { return graph_.node(id).shape; }
  const Graph& graph() const { return graph_; }
  const Payload& payload() const { return payload_; }
  // Checks the finished graph and payload (UserError on failure) and hands them over.
  std::pair<Graph, Payload> finish() &&;

 private:
  Graph graph_;
  Payload payload_;
};

}  // namespace torchlean::ir
