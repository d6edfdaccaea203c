#include "torchlean/ir/builder.hpp"

#include "torchlean/ir/check.hpp"

namespace torchlean::ir {

int64_t GraphBuilder::input(Shape shape) {
  int64_t id = add(OpKind::input, {}, NoAttrs{}, std::move(shape));
  graph_.input_ids.push_back(id);
  return id;
}

int64_t GraphBuilder::constant(Tensor<double> value) {
  int64_t id = add(OpKind::constant, {}, ConstAttrs{value.shape()});
  payload_[id].insert_or_assign("value", std::move(value));
  return id;
}

int64_t GraphBuilder::add(OpKind kind, std::vector<int64_t> parents, Attrs attrs,
                          std::optional<Shape> declared) {
  Node n;
  n.id = static_cast<int64_t>(graph_.nodes.size());
  n.parents = std::move(parents);
  n.kind = kind;
  n.attrs = std::move(attrs);
  n.shape = declared.value_or(Shape{});
  std::vector<Shape> parent_shapes;
  parent_shapes.reserve(n.parents.size());
  for (int64_t p : n.parents) {
    if (p < 0 || p >= n.id)
      detail::fail_node(n, "parent " + std::to_string(p) + " does not exist yet");
    parent_shapes.push_back(graph_.node(p).shape);
  }
  n.shape = infer_shape(n, parent_shapes);
  graph_.nodes.push_back(std::move(n));
  return graph_.nodes.back().id;
}

void GraphBuilder::set_payload(int64_t id, const std::string& slot, Tensor<double> value) {
  payload_[id].insert_or_assign(slot, std::move(value));
}

void GraphBuilder::mark_output(int64_t id) { graph_.output_ids.push_back(id); }

std::pair<Graph, Payload> GraphBuilder::finish() && {
  check_payload(graph_, payload_);
  return {std::move(graph_), std::move(payload_)};
}

}  // namespace torchlean::ir
