// The two-level checker (first failure wins), the ONE shape-inference function, and the payload
// checker. Every error is a UserError whose message starts with "[op] node N:" and shows shapes.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <variant>
#include <string>
#include <vector>

#include "torchlean/core/shape.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::ir {

// Output shape of `n` given its parents' shapes (TorchLean v1's inferNodeOutShape, one rule per
// op). Also validates the node's attributes and its parent count. Throws UserError naming the op,
// node and shapes, e.g. "[max_pool2d] node 1: window 3x3 (stride 1, padding 0) does not fit input
// (1,2,2)". For ops whose output shape is not determined by inputs and attributes (input,
// rand_uniform, bernoulli_mask, linear's last dim) the declared shape is returned once the op's
// contract holds.
Shape infer_shape(const Node& n, std::span<const Shape> parent_shapes);

// Level 1: ids (nodes[i].id == i), parent ids in [0, i), arity, attribute type, and the graph's
// input/output ids (non-empty, in range; input_ids name exactly the `input` nodes, once each).
void check_structure(const Graph& g);
// Level 1 then level 2: every node's declared shape equals the inferred one. Returns the shapes,
// indexed by node id.
std::vector<Shape> check_graph(const Graph& g);

// Whether `g` is a TorchLean v1 graph: exactly one input and one output, and every node a v1 op in
// a v1 form (matmul only (m,n)x(n,p) or (b,m,n)x(b,n,p), judged by the parents' declared shapes).
// Anything else is written as torchlean_cpp.ir.v1x.
bool is_v1_graph(const Graph& g);

namespace detail {
// The slot shapes of a payload store, keyed like the store.
using PayloadShapes = std::map<int64_t, std::map<std::string, Shape>>;
void check_payload_shapes(const Graph& g, const PayloadShapes& shapes);
// "[op] node N: " — the prefix of every node error.
std::string node_prefix(const Node& n);
// The name of the Attrs alternative at `index` ("Conv2dAttrs"), for messages.
std::string attrs_type_name(size_t index);
// Throws UserError "[op] node N: <msg>".
[[noreturn]] void fail_node(const Node& n, const std::string& msg);
// The node's attributes as A, or a UserError naming the type it holds instead.
template <class A>
const A& attrs_of(const Node& n) {
  const A* a = std::get_if<A>(&n.attrs);
  if (a == nullptr)
    fail_node(n, "attributes are " + attrs_type_name(n.attrs.index()) + ", expected " +
                     attrs_type_name(op_info(n.kind).attrs_index));
  return *a;
}
}  // namespace detail

// check_graph, plus: every parameterised node has exactly its payload slots with the right
// shapes, and no payload refers to a missing node or to a node without parameters.
template <class S>
void check_payload(const Graph& g, const PayloadStore<S>& payload) {
  detail::PayloadShapes shapes;
  for (const auto& [id, slots] : payload)
    for (const auto& [name, t] : slots) shapes[id].emplace(name, t.shape());
  detail::check_payload_shapes(g, shapes);
}

}  // namespace torchlean::ir
