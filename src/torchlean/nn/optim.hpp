// Optimizers as IR update nodes (appended to the training graph after the backward pass, so one
// compiled Program does forward, backward and update), learning-rate schedules (computed on the
// host each step and fed as a scalar input), and gradient clipping by global norm. The update
// formulas are PyTorch 1.13's single-tensor torch.optim implementations; docs/training.md lists
// them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "torchlean/ir/builder.hpp"
#include "torchlean/nn/module.hpp"

namespace torchlean::nn {

struct OptimizerConfig {
  enum Kind { sgd, adam, adamw };
  Kind kind = sgd;
  double lr = 0.01;
  double momentum = 0, dampening = 0;  // sgd
  bool nesterov = false;               // sgd (needs momentum > 0, dampening 0)
  double weight_decay = 0;             // sgd/adam: L2 added to the gradient; adamw: decoupled
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
  double clip_norm = 0;   // > 0: scale gradients so their global 2-norm is at most this
  void validate() const;  // UserError for inconsistent settings
};
OptimizerConfig::Kind parse_optimizer(const std::string& name);  // sgd | adam | adamw
std::string optimizer_name(OptimizerConfig::Kind k);

struct ScheduleConfig {
  enum Kind { constant, step, cosine };
  Kind kind = constant;
  int64_t step_epochs = 1;  // step: multiply by gamma every step_epochs epochs
  double gamma = 0.1;
  int64_t warmup_steps = 0;  // cosine: linear warmup from 0 over these steps
  double min_lr = 0;         // cosine: the final learning rate
};
ScheduleConfig::Kind parse_schedule(const std::string& name);  // constant | step | cosine

// The learning rate of optimizer step `step` (0-based) out of `total_steps`, with
// `steps_per_epoch` steps per epoch. Cosine: base * (t+1)/warmup during warmup, then
// min + (base - min) * (1 + cos(pi * progress)) / 2 over the remaining steps.
double learning_rate(const ScheduleConfig& s, double base_lr, int64_t step, int64_t total_steps,
                     int64_t steps_per_epoch);

// A parameter being trained: its const node and its gradient node in the training graph.
struct TrainedParam {
  std::string name;
  int64_t node = -1;
  int64_t grad = -1;
};

// What emit_optimizer added: per-step scalar inputs, the optimizer's state tensors (const nodes,
// named "<param>.<state>": momentum_buffer, exp_avg, exp_avg_sq) and the nodes holding the new
// parameter and state values after the step.
struct OptimizerGraph {
  std::vector<int64_t> scalar_inputs;  // rank-0 inputs, in the order step_scalars() fills them
  std::vector<std::string> state_names;
  std::vector<int64_t> state_nodes;
  std::vector<int64_t> new_params;  // one per TrainedParam, in order
  std::vector<int64_t> new_state;   // one per state node, in order
  int64_t grad_norm = -1;           // the global gradient norm (before clipping), rank 0
};

// Appends the update. `state` supplies the optimizer state's current values by name (missing:
// zeros, the state of a fresh optimizer).
OptimizerGraph emit_optimizer(ir::GraphBuilder& b, const OptimizerConfig& cfg,
                              const std::vector<TrainedParam>& params, const ParamStore& state);

// The per-step scalar inputs for learning rate `lr` at optimizer step `t` (1-based): sgd
// {lr}; adam {lr, lr / (1 - beta1^t), sqrt(1 - beta2^t)}; adamw adds {1 - lr * weight_decay}.
// Computed in binary64 and rounded once, as PyTorch computes them in Python floats.
std::vector<double> step_scalars(const OptimizerConfig& cfg, double lr, int64_t t);

}  // namespace torchlean::nn
