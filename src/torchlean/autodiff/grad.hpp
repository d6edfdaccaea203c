// Reverse-mode automatic differentiation as an IR -> IR transform (DESIGN §6). The backward pass
// is an ordinary graph: it is checked, evaluated, compiled and bounded like any other. Each op's
// vector-Jacobian product (VJP) is written as IR nodes in autodiff/vjp_<family>.cpp; the dispatch
// table is generated from the registry, so an op without a VJP entry does not build.
// Conventions (relu'(0) = 0, first maximiser for max pooling, ...): docs/autodiff.md.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::autodiff {

// Where a payload slot of the original graph went: `lift_parameters` turns it into the `const`
// node `const_id` of the lifted graph.
struct LiftedParameter {
  int64_t node = 0;  // parameterised node in the original graph (linear, conv2d, batchnorm, const)
  std::string slot;  // "weight", "bias", "gamma", "beta", "mean", "var", "eps" or "value"
  int64_t const_id = 0;
};

// Rewrites payload-parameterised v1 nodes into parent-based ops whose parameters are `const`
// nodes, without changing a single bit of any output in any domain:
//   linear(x)                 -> add(matmul(x, permute(W)), broadcast(b))   (rank-1 x: reshaped)
//   conv2d(x)                 -> reshape(conv2d_nchw(reshape(x), W, b))
//   batch_norm2d_nchw_eval(x) -> add(mul_elem(div(sub(x, m), d), gamma), beta) with
//                                d = sqrt(add(relu(var), eps)), per-channel values broadcast
//                                (a negative eps is a UserError: the IR's sqrt clamps, v1's not)
// rand_uniform and bernoulli_mask get their seed shifted by their change of id, so their draws
// (keyed by seed + node id) stay the same. Every other node is copied. Input and output order is
// kept; node ids change (new const nodes are inserted before their users). If `params` is given, it
// receives one entry per payload slot of the original graph, in (node id, slot order) order.
std::pair<ir::Graph, ir::Payload> lift_parameters(const ir::Graph& g, const ir::Payload& payload,
                                                  std::vector<LiftedParameter>* params = nullptr);

struct GradRequest {
  int64_t loss = 0;          // node id of a scalar (rank-0) node
  std::vector<int64_t> wrt;  // ids of input or const nodes to differentiate with respect to
};

struct GradGraph {
  // The original nodes (same ids, same attributes) followed by the backward nodes. Inputs are
  // the original inputs; outputs are the original outputs, then one gradient per `wrt` id, in
  // order. The gradient of a wrt node the loss does not depend on is zeros.
  ir::Graph graph;
  // Values of the `const` nodes the backward pass added (scalars such as the seed 1, zeros, 2 for
  // sqrt'); ids are disjoint from the original graph's. Evaluate with the original payload merged
  // with this one (see `merge_payload`).
  ir::Payload payload;
  std::vector<int64_t> grad_ids;  // node id of each gradient, one per wrt id, in order
};

// Differentiates the (checked) graph `g`: d loss / d wrt[i] for every i, seeded with 1.
// Gradients flow only along paths from a wrt node to the loss that `detach` does not cut.
// Piecewise-constant dependencies (compare, bernoulli_mask's keep probability, where's condition)
// contribute zero. Throws UserError if the loss is not rank 0, a wrt id is not an input or const
// node, or a wrt node reaches the loss through an operand that has no derivative, e.g.
// "[autodiff] node 4 (gather): operand 1 (indices) is not differentiable".
GradGraph grad(const ir::Graph& g, const GradRequest& req);

// `forward` plus the backward constants of `gg` (the payload to evaluate gg.graph with).
ir::Payload merge_payload(const ir::Payload& forward, const GradGraph& gg);

}  // namespace torchlean::autodiff
