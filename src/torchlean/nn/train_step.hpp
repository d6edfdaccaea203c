// The compiled training step and the compiled predictor. TrainStep builds the model in train
// mode on a batch input, appends the loss, differentiates it with autodiff::grad with respect to
// every trainable parameter, appends the optimizer's update nodes, and compiles the whole graph
// into ONE runtime::Program (forward + backward + update, one static memory plan). Parameters
// and optimizer state are `const` nodes whose payload tensors the Program reads by reference;
// after each run the new values (graph outputs) are copied into those tensors, so the next run
// sees them. Predictor compiles the eval-mode forward graph the same way.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "torchlean/compile/compile.hpp"
#include "torchlean/nn/loss.hpp"
#include "torchlean/nn/module.hpp"
#include "torchlean/nn/optim.hpp"

namespace torchlean::nn {

struct StepConfig {
  Loss loss = Loss::cross_entropy;
  OptimizerConfig optimizer;
  compile::CompileOptions compile;
};

// Rebuilds `g` node by node in a GraphBuilder (same ids, shapes re-inferred), so more nodes can
// be appended; payload slots are carried over. Inputs must be in id order.
ir::GraphBuilder replay(const ir::Graph& g, const ir::Payload& payload);

// The eval-mode graph of `model` on inputs of `x_shape` (batch included) over `params` (missing
// parameters initialised from `init_seed`), its payload, and the module summary.
struct EvalGraph {
  ir::Graph graph;
  ir::Payload payload;
  std::vector<SummaryRow> summary;
  std::vector<Context::Bound> bound;  // parameters and buffers by name
};
EvalGraph build_eval_graph(const Module& model, const Shape& x_shape, ParamStore& params,
                           uint64_t init_seed);

class TrainStep {
 public:
  // x_shape / y_shape include the batch dim. Missing parameters are initialised from
  // `init_seed` (and added to `params`); missing optimizer state starts at zero.
  TrainStep(const Module& model, const Shape& x_shape, const Shape& y_shape, const StepConfig& cfg,
            ParamStore& params, const ParamStore& opt_state, uint64_t init_seed);
  ~TrainStep();

  struct Result {
    float loss = 0;
    float grad_norm = 0;  // global 2-norm of the gradients before clipping
  };
  // One optimizer step on a batch (row-major x and y of the shapes above) with learning rate
  // `lr` at optimizer step `t` (1-based). Dropout masks are drawn from `rng`.
  Result run(const float* x, const float* y, double lr, int64_t t, SplitMix64& rng);
  // The model's prediction for the last batch, as computed in the step (before the update).
  const std::vector<float>& prediction() const { return outputs_[1]; }
  const Shape& prediction_shape() const;

  // Copies the current parameter, buffer and optimizer-state values into the stores (by name).
  void save(ParamStore& params, ParamStore& opt_state) const;

  const std::vector<SummaryRow>& summary() const { return summary_; }
  const ir::Graph& graph() const;
  // The compiled step (e.g. for runtime::check_equivalence).
  runtime::Program<float>& program() { return *program_; }

 private:
  struct Tracked {  // a const node whose value an output replaces after each step
    std::string name;
    int64_t node;
    size_t output;
    bool optimizer_state;
  };
  StepConfig cfg_;
  std::vector<SummaryRow> summary_;
  std::vector<StepInput> step_inputs_;
  std::vector<Tracked> tracked_;
  std::unique_ptr<ir::PayloadStore<float>> store_;
  std::unique_ptr<runtime::Program<float>> program_;
  std::vector<std::vector<float>> inputs_, outputs_;  // scalar/mask inputs; every output
  std::vector<const float*> in_ptrs_;
  std::vector<float*> out_ptrs_;
  size_t first_scalar_input_ = 0, first_mask_input_ = 0;
  int64_t grad_norm_output_ = -1;
};

class Predictor {
 public:
  // The eval-mode graph of `model` on inputs of `x_shape` (batch included), over `params`.
  Predictor(const Module& model, const Shape& x_shape, ParamStore& params,
            const compile::CompileOptions& options, uint64_t init_seed);
  ~Predictor();
  // Refreshes the parameter values from `params` (same names and shapes).
  void load(const ParamStore& params);
  // Runs one batch; returns the model output (output_shape()).
  const std::vector<float>& run(const float* x);
  const Shape& output_shape() const;
  // The eval graph and its payload (binary64), e.g. for export.
  const ir::Graph& graph() const { return graph_; }
  ir::Payload payload() const;
  const std::vector<SummaryRow>& summary() const { return summary_; }

 private:
  ir::Graph graph_;
  std::vector<SummaryRow> summary_;
  std::vector<Context::Bound> bound_;  // parameters and buffers by name
  std::unique_ptr<ir::PayloadStore<float>> store_;
  std::unique_ptr<runtime::Program<float>> program_;
  std::vector<float> out_;
};

}  // namespace torchlean::nn
