// A model read from a file (IR JSON + weights, or ONNX) as a trainable Module. The file's graph is
// lifted (autodiff::lift_parameters: linear/conv2d/batch-norm payload becomes `const` parents) and
// replayed into the training or evaluation graph with the batch input in place of its one graph
// input; its floating-point `const` tensors become named parameters of the ParamStore, so the
// Trainer, checkpoints and the optimizer treat them like a built-in model's.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"
#include "torchlean/nn/module.hpp"

namespace torchlean::nn {

// The model's graph and payload for inputs with leading (batch) dim `batch`. UserError (naming
// the file) when the file cannot be built for that batch.
using GraphLoader = std::function<std::pair<ir::Graph, ir::Payload>(int64_t batch)>;

// A loader for a graph whose batch is fixed (IR JSON): the graph itself at its own batch (the
// leading dim of its one input), a UserError for any other batch.
GraphLoader fixed_batch_loader(std::string name, ir::Graph graph, ir::Payload payload);

class GraphModule : public Module {
 public:
  // `name` is the file (for messages and the summary).
  GraphModule(std::string name, GraphLoader load);

  // The input x must have the graph input's batch and per-example element count; a different
  // example layout ((N, 28, 28) for an (N, 784) graph) is reshaped. Trainable parameters are the
  // lifted weight/bias/gamma/beta slots and the graph's own `const` tensors of rank >= 1, named
  // "<node id in the file>.<slot>" (the safetensors key of the file's weights). Scalar consts and
  // batch-norm running statistics and eps stay fixed.
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  struct Lifted {
    ir::Graph graph;
    ir::Payload payload;
    std::map<int64_t, std::string> trainable;  // lifted const id -> parameter name
  };
  const Lifted& at_batch(int64_t batch) const;

  std::string name_;
  GraphLoader load_;
  mutable std::map<int64_t, Lifted> cache_;  // by batch: a model is built several times per batch
};

}  // namespace torchlean::nn
