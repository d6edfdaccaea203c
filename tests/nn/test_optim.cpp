// Optimizer update nodes: hand-computed single steps on dyadic values (exact in binary64, so
// the comparison is equality), and four-step trajectories against torch.optim in float64
// (tests/nn/data/torch_reference.json, written by tests/nn/gen_reference.py). The graph runs
// compiled in binary64, exact mode; the trajectories agree to a few ulps (the same formulas,
// the only differences being the order of a few scalar products inside PyTorch's kernels).
// Also the learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "torchlean/compile/compile.hpp"
#include "torchlean/nn/optim.hpp"

namespace torchlean::nn {
namespace {

// One parameter `p` (shape of p0) whose gradient is the graph input; runs optimizer steps.
class Harness {
 public:
  Harness(const OptimizerConfig& cfg, const Tensor<double>& p0) : cfg_(cfg) {
    ir::GraphBuilder b;
    const int64_t g = b.input(p0.shape());
    p_ = b.constant(p0);
    ParamStore none;
    og_ = emit_optimizer(b, cfg, {{"p", p_, g}}, none);
    b.mark_output(og_.new_params[0]);
    for (int64_t s : og_.new_state) b.mark_output(s);
    auto [graph, payload] = std::move(b).finish();
    graph_ = std::move(graph);
    store_ = runtime::to_runtime_payload<double>(payload);
    prog_ =
        std::make_unique<runtime::Program<double>>(compile::compile<double>(graph_, store_, {}));
  }
  // One step with gradient `grad` at step t (1-based); returns the new parameter.
  std::vector<double> step(const std::vector<double>& grad, int64_t t, double lr) {
    std::vector<double> scalars = step_scalars(cfg_, lr, t);
    std::vector<const double*> in = {grad.data()};
    for (double& s : scalars) in.push_back(&s);
    std::vector<std::vector<double>> outs(1 + og_.new_state.size(),
                                          std::vector<double>(grad.size()));
    std::vector<double*> out;
    for (auto& o : outs) out.push_back(o.data());
    prog_->run(in, out);
    store_[p_].at("value").vec() = outs[0];
    for (size_t i = 0; i < og_.state_nodes.size(); ++i)
      store_[og_.state_nodes[i]].at("value").vec() = outs[1 + i];
    return outs[0];
  }

 private:
  OptimizerConfig cfg_;
  int64_t p_;
  OptimizerGraph og_;
  ir::Graph graph_;
  ir::PayloadStore<double> store_;
  std::unique_ptr<runtime::Program<double>> prog_;
};

Tensor<double> scalar_param(double v) { return Tensor<double>(Shape{1}, std::vector<double>{v}); }

TEST(Optimizer, SgdStepsByHand) {
  OptimizerConfig c;
  c.lr = 0.25;
  Harness plain(c, scalar_param(1));
  EXPECT_EQ(plain.step({0.5}, 1, 0.25)[0], 0.875);  // 1 - 0.25 * 0.5
  c.momentum = 0.5;
  Harness mom(c, scalar_param(1));
  EXPECT_EQ(mom.step({0.5}, 1, 0.25)[0], 0.875);   // buf = 0.5
  EXPECT_EQ(mom.step({1.0}, 2, 0.25)[0], 0.5625);  // buf = 0.5*0.5 + 1 = 1.25; 0.875 - 0.3125
  c.nesterov = true;
  Harness nest(c, scalar_param(1));
  EXPECT_EQ(nest.step({0.5}, 1, 0.25)[0], 0.8125);  // d = 0.5 + 0.5*0.5 = 0.75; 1 - 0.1875
  c = OptimizerConfig{};
  c.lr = 0.5;
  c.weight_decay = 0.25;
  Harness wd(c, scalar_param(2));
  EXPECT_EQ(wd.step({1.0}, 1, 0.5)[0], 1.25);  // g = 1 + 0.25*2 = 1.5; 2 - 0.75
}

TEST(Optimizer, AdamFirstStepMovesByLearningRate) {
  // Step 1: m = (1-b1) g, v = (1-b2) g^2, so m/(1-b1) / (sqrt(v)/sqrt(1-b2) + eps) = g/(|g|+eps).
  OptimizerConfig c;
  c.kind = OptimizerConfig::adam;
  c.lr = 0.125;
  c.eps = 0;
  Harness h(c, scalar_param(1));
  EXPECT_NEAR(h.step({-0.5}, 1, 0.125)[0], 1.125, 4e-16);
  c.kind = OptimizerConfig::adamw;
  c.weight_decay = 0.5;
  Harness w(c, scalar_param(1));
  // p * (1 - lr * wd) = 0.9375, then the Adam step of 0.125 downwards.
  EXPECT_NEAR(w.step({2.0}, 1, 0.125)[0], 0.8125, 4e-16);
}

// The spacing of binary64 numbers at |x|.
double ulp(double x) { return std::nextafter(std::fabs(x), INFINITY) - std::fabs(x); }

nlohmann::json reference() {
  std::ifstream f(std::string(TORCHLEAN_SOURCE_DIR) + "/tests/nn/data/torch_reference.json");
  return nlohmann::json::parse(f);
}

void expect_trajectory(const OptimizerConfig& c, const std::string& key) {
  const nlohmann::json ref = reference();
  std::vector<double> p0;
  for (const auto& row : ref["p0"])
    for (double v : row) p0.push_back(v);
  Harness h(c, Tensor<double>(Shape{2, 2}, p0));
  for (size_t t = 0; t < ref["grads"].size(); ++t) {
    std::vector<double> g;
    for (const auto& row : ref["grads"][t])
      for (double v : row) g.push_back(v);
    const std::vector<double> p = h.step(g, static_cast<int64_t>(t + 1), c.lr);
    for (size_t i = 0; i < p.size(); ++i) {
      const double want = ref[key][t][i].get<double>();
      EXPECT_NEAR(p[i], want, 4 * ulp(want)) << key << " step " << t + 1 << " element " << i;
    }
  }
}

TEST(Optimizer, MatchesTorchOptimInFloat64) {
  OptimizerConfig c;
  c.lr = 0.1;
  expect_trajectory(c, "sgd");
  c.momentum = 0.9;
  c.weight_decay = 0.01;
  expect_trajectory(c, "sgd_momentum_wd");
  c = OptimizerConfig{};
  c.lr = 0.05;
  c.momentum = 0.8;
  c.nesterov = true;
  expect_trajectory(c, "sgd_nesterov");
  c = OptimizerConfig{};
  c.kind = OptimizerConfig::adam;
  c.lr = 0.01;
  expect_trajectory(c, "adam");
  c.lr = 0.02;
  c.beta1 = 0.8;
  c.beta2 = 0.99;
  c.weight_decay = 0.1;
  expect_trajectory(c, "adam_wd");
  c = OptimizerConfig{};
  c.kind = OptimizerConfig::adamw;
  c.lr = 0.01;
  c.weight_decay = 0.1;
  expect_trajectory(c, "adamw");
  c = OptimizerConfig{};
  c.lr = 0.1;
  c.clip_norm = 0.5;
  expect_trajectory(c, "sgd_clip");
}

TEST(Optimizer, InvalidSettingsAreUserErrors) {
  OptimizerConfig c;
  c.nesterov = true;
  EXPECT_THROW(c.validate(), UserError);
  EXPECT_THROW(parse_optimizer("rmsprop"), UserError);
  EXPECT_THROW(parse_schedule("linear"), UserError);
}

TEST(Schedule, StepAndCosineWithWarmup) {
  ScheduleConfig s;
  s.kind = ScheduleConfig::step;
  s.step_epochs = 2;
  s.gamma = 0.5;
  // 10 steps per epoch: epochs 0-1 at 1, 2-3 at 0.5, 4 at 0.25.
  EXPECT_EQ(learning_rate(s, 1.0, 19, 100, 10), 1.0);
  EXPECT_EQ(learning_rate(s, 1.0, 20, 100, 10), 0.5);
  EXPECT_EQ(learning_rate(s, 1.0, 45, 100, 10), 0.25);
  s = ScheduleConfig{};
  s.kind = ScheduleConfig::cosine;
  s.warmup_steps = 4;
  EXPECT_EQ(learning_rate(s, 2.0, 0, 104, 10), 0.5);            // 2 * 1/4
  EXPECT_EQ(learning_rate(s, 2.0, 3, 104, 10), 2.0);            // end of warmup
  EXPECT_EQ(learning_rate(s, 2.0, 4, 104, 10), 2.0);            // cosine at progress 0
  EXPECT_NEAR(learning_rate(s, 2.0, 54, 104, 10), 1.0, 1e-15);  // halfway: (1 + cos(pi/2)) / 2
  EXPECT_EQ(learning_rate(s, 2.0, 104, 104, 10), 0.0);
}

}  // namespace
}  // namespace torchlean::nn
