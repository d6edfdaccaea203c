// The reference evaluator ("denote"): a plain loop over the nodes in id order calling each op's
// reference semantics. It defines what a graph means in a scalar domain.
#pragma once
#include <span>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::interp {

// Checks the graph and payload, binds `inputs` to g.input_ids in order (shapes must match), and
// returns every node's value, indexed by node id. Throws UserError/EvalError on bad input.
template <class S>
std::vector<Tensor<S>> evaluate(const ir::Graph& g, const ir::PayloadStore<S>& payload,
                                std::span<const Tensor<S>> inputs);

// The values of g.output_ids, in order.
template <class S>
std::vector<Tensor<S>> evaluate_outputs(const ir::Graph& g, const ir::PayloadStore<S>& payload,
                                        std::span<const Tensor<S>> inputs);

}  // namespace torchlean::interp
