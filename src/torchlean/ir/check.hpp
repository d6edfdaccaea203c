// The two-level checker (first failure wins) and the ONE shape-inference function.
#pragma once
#include <span>
#include <vector>

#include "torchlean/core/shape.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::ir {

// Output shape of `n` given its parents' shapes. Throws UserError naming the op and the shapes,
// e.g. "[max_pool2d] window 3x3 does not fit input (1,2,2)". For ops whose output shape
// is not determined by inputs and attributes (input, rand_uniform, bernoulli_mask, linear's last
// dim) the declared shape is validated against the op's contract instead.
Shape infer_shape(const Node& n, std::span<const Shape> parent_shapes);

// Level 1: ids (nodes[i].id == i), parent ids below the node, arity, attribute type, and the
// graph's input/output ids. Throws UserError naming the node.
void check_structure(const Graph& g);
// Level 1 then level 2: every node's declared shape equals the inferred one. Returns the shapes.
std::vector<Shape> check_graph(const Graph& g);
// check_graph, plus every parameterised node has its payload slots with the right shapes and
// no payload refers to a missing node.
template <class S>
void check_payload(const Graph& g, const PayloadStore<S>& payload);

}  // namespace torchlean::ir
