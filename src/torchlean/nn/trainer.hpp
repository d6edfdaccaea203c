// The Trainer: epochs of compiled training steps over a seeded loader, with a learning-rate
// schedule, a progress bar on stderr (steps, loss, throughput, ETA), a JSON-lines training log,
// evaluation on a test set after each epoch (accuracy, confusion matrix), and checkpoints that
// make a resumed run bit-identical to an uninterrupted one.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "torchlean/nn/checkpoint.hpp"
#include "torchlean/nn/dataset.hpp"
#include "torchlean/nn/metrics.hpp"
#include "torchlean/nn/train_step.hpp"

namespace torchlean::nn {

struct TrainConfig {
  int64_t epochs = 1;
  int64_t batch = 64;
  StepConfig step;
  ScheduleConfig schedule;
  uint64_t seed = 0;               // parameter init, data order and dropout masks
  int64_t eval_batch = 1000;       // batch of the compiled predictor
  bool progress = true;            // progress bar on stderr
  int64_t log_every = 50;          // a step record in the log every this many steps (0: none)
  std::filesystem::path log_path;  // JSON lines; empty: no log
  std::filesystem::path checkpoint_path;  // written after every epoch; empty: none
  int64_t stop_after_steps = -1;  // >= 0: stop once this many steps are done (interruptions)
};

struct EpochResult {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;  // only with a test set
  double seconds = 0;                       // training time of the epoch (steps only)
};

struct TrainResult {
  std::vector<EpochResult> epochs;
  int64_t steps = 0;
  double train_seconds = 0;  // time spent in training steps
  std::optional<ConfusionMatrix> test_confusion;
};

class Trainer {
 public:
  // `train` is batched with drop_last (every compiled step has the same batch); the model's
  // parameters are initialised from cfg.seed unless `params` already holds them.
  Trainer(ModulePtr model, TrainConfig cfg, const Dataset& train, const Dataset* test);
  ~Trainer();

  // Continues from a checkpoint (parameters, optimizer state, step). Call before fit().
  void resume(const Checkpoint& ck);
  TrainResult fit();
  // Accuracy, loss and confusion matrix of the current parameters on `data` (class targets).
  ConfusionMatrix evaluate(const Dataset& data);

  ParamStore& params() { return params_; }
  const ParamStore& optimizer_state() const { return opt_state_; }
  int64_t step() const { return step_; }
  Checkpoint checkpoint() const;
  TrainStep& train_step() { return *step_fn_; }
  // The eval-mode graph and payload of the current parameters (for saving and export).
  std::pair<ir::Graph, ir::Payload> eval_model();
  std::string summary() const;

 private:
  Predictor& predictor();

  ModulePtr model_;
  TrainConfig cfg_;
  const Dataset& train_;
  const Dataset* test_;
  ParamStore params_, opt_state_;
  int64_t step_ = 0;
  std::unique_ptr<TrainStep> step_fn_;
  std::unique_ptr<Predictor> predictor_;
};

}  // namespace torchlean::nn
