#include "torchlean/nn/trainer.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "torchlean/core/error.hpp"

namespace torchlean::nn {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Shape with_batch(int64_t batch, const Shape& example) {
  std::vector<int64_t> d = {batch};
  d.insert(d.end(), example.dims().begin(), example.dims().end());
  return Shape(d);
}

// Independent streams for the data order and for the dropout masks of each step.
uint64_t derive(uint64_t seed, uint64_t stream, uint64_t index) {
  SplitMix64 a(seed ^ (stream * 0xD1B54A32D192ED03ull));
  SplitMix64 b(a.next() + index);
  return b.next();
}

std::string clock_text(double s) {
  if (!std::isfinite(s) || s < 0) s = 0;
  const int64_t t = static_cast<int64_t>(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(t / 60),
                static_cast<long long>(t % 60));
  return buf;
}

// The one-line progress bar: redrawn in place on a terminal, throttled to 10 updates a second.
class Progress {
 public:
  explicit Progress(bool on) : on_(on), tty_(on && isatty(2)) {}
  void update(int64_t epoch, int64_t epochs, int64_t done, int64_t per_epoch, double loss,
              double examples_per_s, double eta_s, bool force) {
    if (!tty_) return;
    const auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 24;
    const int filled = per_epoch ? static_cast<int>(width * done / per_epoch) : width;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\repoch %lld/%lld [%s] %lld/%lld loss %.4f %.0f ex/s ETA %s   ",
                 static_cast<long long>(epoch), static_cast<long long>(epochs), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(per_epoch), loss,
                 examples_per_s, clock_text(eta_s).c_str());
    std::fflush(stderr);
  }
  void epoch_done(const EpochResult& r, bool has_test, int64_t epochs) {
    if (!on_) return;
    if (tty_) std::fprintf(stderr, "\r%*s\r", 100, "");
    std::fprintf(stderr, "epoch %lld/%lld: train loss %.4f acc %.4f",
                 static_cast<long long>(r.epoch), static_cast<long long>(epochs), r.train_loss,
                 r.train_accuracy);
    if (has_test) std::fprintf(stderr, ", test loss %.4f acc %.4f", r.test_loss, r.test_accuracy);
    std::fprintf(stderr, " (%.1f s)\n", r.seconds);
  }

 private:
  bool on_, tty_;
  Clock::time_point last_{};
};

}  // namespace

Trainer::Trainer(ModulePtr model, TrainConfig cfg, const Dataset& train, const Dataset* test)
    : model_(std::move(model)), cfg_(std::move(cfg)), train_(train), test_(test) {
  check_dataset(train, "trainer: training set");
  if (test) check_dataset(*test, "trainer: test set");
  TL_USER_CHECK(cfg_.epochs >= 0, "trainer: epochs must be >= 0");
  TL_USER_CHECK(cfg_.batch > 0 && cfg_.batch <= train.size(),
                "trainer: batch " + std::to_string(cfg_.batch) + " must be in [1, " +
                    std::to_string(train.size()) + "] (the training set size)");
  TL_USER_CHECK(cfg_.eval_batch > 0, "trainer: eval batch must be positive");
  step_fn_ = std::make_unique<TrainStep>(*model_, with_batch(cfg_.batch, train.example_shape()),
                                         with_batch(cfg_.batch, train.target_shape()), cfg_.step,
                                         params_, opt_state_, cfg_.seed);
}

Trainer::~Trainer() = default;

void Trainer::resume(const Checkpoint& ck) {
  params_ = ck.params;
  opt_state_ = ck.optimizer;
  step_ = ck.step;
  step_fn_ = std::make_unique<TrainStep>(*model_, with_batch(cfg_.batch, train_.example_shape()),
                                         with_batch(cfg_.batch, train_.target_shape()), cfg_.step,
                                         params_, opt_state_, cfg_.seed);
  // Building the step initialises any parameter the checkpoint lacks: a different model.
  TL_USER_CHECK(params_.entries().size() == ck.params.entries().size(),
                "checkpoint: has no value for parameter '" +
                    params_.entries()[ck.params.entries().size()].name + "' of this model");
  predictor_.reset();
}

Checkpoint Trainer::checkpoint() const {
  Checkpoint ck;
  ck.params = params_;
  ck.optimizer = opt_state_;
  step_fn_->save(ck.params, ck.optimizer);
  ck.step = step_;
  ck.meta["optimizer"] = optimizer_name(cfg_.step.optimizer.kind);
  ck.meta["batch"] = std::to_string(cfg_.batch);
  ck.meta["seed"] = std::to_string(cfg_.seed);
  return ck;
}

Predictor& Trainer::predictor() {
  if (!predictor_) {
    compile::CompileOptions opts = cfg_.step.compile;
    predictor_ = std::make_unique<Predictor>(
        *model_, with_batch(cfg_.eval_batch, train_.example_shape()), params_, opts, cfg_.seed);
  }
  step_fn_->save(params_, opt_state_);
  predictor_->load(params_);
  return *predictor_;
}

ConfusionMatrix Trainer::evaluate(const Dataset& data) {
  Predictor& p = predictor();
  const Shape& out = p.output_shape();
  TL_USER_CHECK(out.rank() == 2,
                "evaluate: accuracy needs (batch, classes) outputs, model gives " + out.str());
  TL_USER_CHECK(data.example_shape() == train_.example_shape(),
                "evaluate: examples of shape " + data.example_shape().str() +
                    " do not match the model's " + train_.example_shape().str());
  ConfusionMatrix cm(out[1]);
  Loader loader(data, cfg_.eval_batch, false, 0, false);
  loader.start_epoch(0);
  std::vector<float> x(static_cast<size_t>(cfg_.eval_batch * data.example_shape().numel()));
  std::vector<float> y(static_cast<size_t>(cfg_.eval_batch * data.target_shape().numel()));
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    const int64_t n = loader.fill(b, x.data(), y.data());
    cm.add(p.run(x.data()), y, n);
  }
  return cm;
}

std::pair<ir::Graph, ir::Payload> Trainer::eval_model() {
  Predictor& p = predictor();
  return {p.graph(), p.payload()};
}

std::string Trainer::summary() const { return format_summary(step_fn_->summary(), params_); }

TrainResult Trainer::fit() {
  TrainResult result;
  Loader loader(train_, cfg_.batch, true, derive(cfg_.seed, 1, 0), true);
  const int64_t per_epoch = loader.batches_per_epoch();
  const int64_t total = per_epoch * cfg_.epochs;
  const bool classes = cfg_.step.loss == Loss::cross_entropy;
  std::ofstream log;
  if (!cfg_.log_path.empty()) {
    log.open(cfg_.log_path, step_ > 0 ? std::ios::app : std::ios::trunc);
    TL_USER_CHECK(log.good(), "trainer: cannot write log '" + cfg_.log_path.string() + "'");
  }
  auto write_log = [&](const nlohmann::ordered_json& j) {
    if (log.is_open()) log << j.dump() << "\n" << std::flush;
  };
  std::vector<float> x(static_cast<size_t>(cfg_.batch * train_.example_shape().numel()));
  std::vector<float> y(static_cast<size_t>(cfg_.batch * train_.target_shape().numel()));
  Progress bar(cfg_.progress);
  double loss_sum = 0, epoch_seconds = 0;
  int64_t correct = 0, seen = 0, epoch_steps = 0;
  const int64_t start_step = step_;
  while (step_ < total) {
    if (cfg_.stop_after_steps >= 0 && step_ >= cfg_.stop_after_steps) break;
    const int64_t epoch = step_ / per_epoch, b = step_ % per_epoch;
    loader.start_epoch(epoch);
    loader.fill(b, x.data(), y.data());
    const double lr = learning_rate(cfg_.schedule, cfg_.step.optimizer.lr, step_, total, per_epoch);
    SplitMix64 rng(derive(cfg_.seed, 2, static_cast<uint64_t>(step_)));
    const auto t0 = Clock::now();
    const TrainStep::Result r = step_fn_->run(x.data(), y.data(), lr, step_ + 1, rng);
    const double dt = seconds_since(t0);
    epoch_seconds += dt;
    result.train_seconds += dt;
    ++step_;
    ++epoch_steps;
    loss_sum += r.loss;
    if (classes) {
      const std::vector<float>& pred = step_fn_->prediction();
      const int64_t c = step_fn_->prediction_shape()[step_fn_->prediction_shape().rank() - 1];
      const int64_t rows = static_cast<int64_t>(pred.size()) / c;
      if (rows == cfg_.batch)
        for (int64_t i = 0; i < rows; ++i)
          correct += argmax(std::span<const float>(pred).subspan(static_cast<size_t>(i * c),
                                                                 static_cast<size_t>(c))) ==
                     static_cast<int64_t>(y[static_cast<size_t>(i)]);
    }
    seen += cfg_.batch;
    const double rate = static_cast<double>(seen) / std::max(epoch_seconds, 1e-9);
    const double eta = static_cast<double>(total - step_) * cfg_.batch / std::max(rate, 1e-9);
    bar.update(epoch + 1, cfg_.epochs, b + 1, per_epoch,
               loss_sum / static_cast<double>(epoch_steps), rate, eta, false);
    if (cfg_.log_every > 0 && step_ % cfg_.log_every == 0)
      write_log({{"kind", "step"},
                 {"step", step_},
                 {"epoch", static_cast<double>(step_) / per_epoch},
                 {"loss", r.loss},
                 {"lr", lr},
                 {"grad_norm", r.grad_norm},
                 {"examples_per_s", rate}});
    if (step_ % per_epoch == 0) {
      EpochResult er;
      er.epoch = step_ / per_epoch;
      er.train_loss = loss_sum / static_cast<double>(epoch_steps);
      er.train_accuracy = classes ? static_cast<double>(correct) / static_cast<double>(seen) : 0;
      er.seconds = epoch_seconds;
      nlohmann::ordered_json j = {{"kind", "epoch"},
                                  {"epoch", er.epoch},
                                  {"step", step_},
                                  {"train_loss", er.train_loss},
                                  {"train_accuracy", er.train_accuracy},
                                  {"seconds", er.seconds}};
      if (test_ && classes) {
        ConfusionMatrix cm = evaluate(*test_);
        er.test_loss = cm.mean_loss();
        er.test_accuracy = cm.accuracy();
        j["test_loss"] = er.test_loss;
        j["test_accuracy"] = er.test_accuracy;
        result.test_confusion = cm;
      }
      write_log(j);
      bar.epoch_done(er, test_ && classes, cfg_.epochs);
      result.epochs.push_back(er);
      if (!cfg_.checkpoint_path.empty()) write_checkpoint(cfg_.checkpoint_path, checkpoint());
      loss_sum = epoch_seconds = 0;
      correct = seen = epoch_steps = 0;
    }
  }
  step_fn_->save(params_, opt_state_);
  if (!cfg_.checkpoint_path.empty() && step_ % per_epoch != 0)
    write_checkpoint(cfg_.checkpoint_path, checkpoint());
  result.steps = step_ - start_step;
  return result;
}

}  // namespace torchlean::nn
