// The Trainer end to end on small synthetic problems: the loss goes down, exact mode is
// bit-reproducible (run to run and across thread counts), and a run resumed from a checkpoint
// equals the uninterrupted run bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tiny_problem.hpp"
#include "torchlean/nn/layers.hpp"
#include "torchlean/nn/plot.hpp"
#include "torchlean/nn/trainer.hpp"
#include "torchlean/runtime/equivalence.hpp"

namespace torchlean::nn {
namespace {

using testing::blobs;
using testing::mlp;

TrainConfig config(OptimizerConfig::Kind kind) {
  TrainConfig c;
  c.epochs = 3;
  c.batch = 16;
  c.seed = 7;
  c.eval_batch = 32;
  c.progress = false;
  c.step.optimizer.kind = kind;
  c.step.optimizer.lr = kind == OptimizerConfig::sgd ? 0.1 : 0.01;
  c.step.optimizer.momentum = kind == OptimizerConfig::sgd ? 0.9 : 0;
  return c;
}

TEST(Trainer, LossDecreasesOnSyntheticData) {
  const Dataset train = blobs(256, 1), test = blobs(64, 2);
  for (auto kind : {OptimizerConfig::sgd, OptimizerConfig::adam, OptimizerConfig::adamw}) {
    Trainer t(mlp(), config(kind), train, &test);
    const double before = t.evaluate(test).mean_loss();
    const TrainResult r = t.fit();
    ASSERT_EQ(r.epochs.size(), 3u);
    EXPECT_EQ(r.steps, 3 * (256 / 16));
    EXPECT_LT(r.epochs.back().test_loss, 0.5 * before) << optimizer_name(kind);
    EXPECT_GT(r.epochs.back().test_accuracy, 0.9) << optimizer_name(kind);
  }
}

TEST(Trainer, WritesAJsonLinesLogThatPlots) {
  const Dataset train = blobs(128, 1), test = blobs(32, 2);
  const auto log = std::filesystem::temp_directory_path() / "torchlean_test_nn_log.jsonl";
  TrainConfig c = config(OptimizerConfig::sgd);
  c.epochs = 2;
  c.log_every = 4;
  c.log_path = log;
  Trainer t(mlp(), c, train, &test);
  t.fit();
  std::ifstream f(log);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const LogTable table = parse_log(text, "log");
  // 8 steps per epoch: step records at 4, 8, 12, 16 and two epoch records.
  ASSERT_EQ(table.rows.size(), 6u);
  EXPECT_EQ(table.rows[0].at("step"), 4);
  EXPECT_EQ(table.rows[2].at("epoch"), 1);
  EXPECT_GT(table.rows[2].at("test_accuracy"), 0);
  EXPECT_EQ(table.rows[5].at("step"), 16);
  const std::string svg = render_svg(table, "step", parse_panels("loss,test_accuracy"), "run");
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  std::filesystem::remove(log);
}

ModulePtr mlp_dropout() {
  return std::make_shared<Sequential>(std::vector<ModulePtr>{
      std::make_shared<Linear>(4, 16), std::make_shared<Activation>(ir::OpKind::relu),
      std::make_shared<Dropout>(0.25), std::make_shared<Linear>(16, 3)});
}

TrainConfig exact_config(OptimizerConfig::Kind kind, int threads) {
  TrainConfig c = config(kind);
  c.step.compile.mode = runtime::KernelMode::exact;
  c.step.compile.threads = threads;
  c.schedule.kind = ScheduleConfig::cosine;
  c.schedule.warmup_steps = 5;
  c.step.optimizer.nesterov = kind == OptimizerConfig::sgd;
  c.step.optimizer.clip_norm = 1.0;
  return c;
}

void expect_same_bits(const ParamStore& a, const ParamStore& b) {
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (size_t i = 0; i < a.entries().size(); ++i) {
    EXPECT_EQ(a.entries()[i].name, b.entries()[i].name);
    EXPECT_EQ(a.entries()[i].value.vec(), b.entries()[i].value.vec()) << a.entries()[i].name;
  }
}

TEST(Trainer, ExactModeIsBitReproducibleAcrossRunsAndThreadCounts) {
  const Dataset train = blobs(256, 1);
  for (auto kind : {OptimizerConfig::sgd, OptimizerConfig::adam}) {
    Trainer a(mlp_dropout(), exact_config(kind, 1), train, nullptr);
    Trainer b(mlp_dropout(), exact_config(kind, 1), train, nullptr);
    Trainer c(mlp_dropout(), exact_config(kind, 2), train, nullptr);
    const TrainResult ra = a.fit(), rb = b.fit(), rc = c.fit();
    EXPECT_EQ(ra.epochs.back().train_loss, rb.epochs.back().train_loss);
    EXPECT_EQ(ra.epochs.back().train_loss, rc.epochs.back().train_loss);
    expect_same_bits(a.params(), b.params());
    expect_same_bits(a.params(), c.params());
    expect_same_bits(a.optimizer_state(), c.optimizer_state());
    // A different seed changes the run (initialisation, order and dropout masks).
    TrainConfig other = exact_config(kind, 1);
    other.seed = 8;
    Trainer d(mlp_dropout(), other, train, nullptr);
    d.fit();
    EXPECT_NE(a.params().entries()[0].value.vec(), d.params().entries()[0].value.vec());
  }
}

TEST(Trainer, ResumeFromCheckpointEqualsUninterruptedRun) {
  const Dataset train = blobs(256, 1);
  const auto path = std::filesystem::temp_directory_path() / "torchlean_test_nn_resume.safetensors";
  for (auto kind : {OptimizerConfig::sgd, OptimizerConfig::adamw}) {
    Trainer full(mlp_dropout(), exact_config(kind, 1), train, nullptr);
    full.fit();
    // Interrupted in the middle of epoch 2 (16 steps per epoch), checkpointed, resumed.
    TrainConfig first = exact_config(kind, 1);
    first.stop_after_steps = 21;
    first.checkpoint_path = path;
    Trainer part(mlp_dropout(), first, train, nullptr);
    EXPECT_EQ(part.fit().steps, 21);
    const Checkpoint ck = read_checkpoint(path);
    EXPECT_EQ(ck.step, 21);
    Trainer rest(mlp_dropout(), exact_config(kind, 1), train, nullptr);
    rest.resume(ck);
    EXPECT_EQ(rest.fit().steps, 3 * 16 - 21);
    expect_same_bits(full.params(), rest.params());
    expect_same_bits(full.optimizer_state(), rest.optimizer_state());
  }
  // A checkpoint of another model is refused, not silently completed with fresh values.
  Trainer other(mlp(), exact_config(OptimizerConfig::sgd, 1), train, nullptr);
  Checkpoint wrong = other.checkpoint();
  wrong.params = ParamStore{};
  wrong.params.add("1.weight", other.params().at("0.weight").value, true);
  Trainer t(mlp(), exact_config(OptimizerConfig::sgd, 1), train, nullptr);
  EXPECT_THROW(t.resume(wrong), UserError);
  std::filesystem::remove(path);
}

// 8x8 single-channel images: class c has a bright 3x3 patch in one of three places.
Dataset patches(int64_t n, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<float> x, y;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = static_cast<int64_t>(rng.next() % 3);
    for (int64_t r = 0; r < 8; ++r)
      for (int64_t q = 0; q < 8; ++q) {
        const bool on = r >= 2 * c && r < 2 * c + 3 && q >= 2 * c && q < 2 * c + 3;
        x.push_back(static_cast<float>((on ? 1.0 : 0.0) + 0.3 * standard_normal(rng)));
      }
    y.push_back(static_cast<float>(c));
  }
  return Dataset{Tensor<float>(Shape{n, 1, 8, 8}, x), Tensor<float>(Shape{n}, y)};
}

TEST(Trainer, ConvBatchNormModelTrainsAndUpdatesRunningStatistics) {
  const Dataset train = patches(192, 3), test = patches(64, 4);
  auto model = std::make_shared<Sequential>(std::vector<ModulePtr>{
      std::make_shared<Conv2d>(1, 4, 3, 1, 1), std::make_shared<BatchNorm2d>(4),
      std::make_shared<Activation>(ir::OpKind::relu), std::make_shared<Pool2d>(true, 2),
      std::make_shared<Flatten>(), std::make_shared<Linear>(64, 3)});
  TrainConfig c = config(OptimizerConfig::adam);
  c.step.optimizer.lr = 0.02;
  Trainer t(model, c, train, &test);
  const double before = t.evaluate(test).mean_loss();
  const TrainResult r = t.fit();
  EXPECT_LT(r.epochs.back().test_loss, 0.5 * before);
  EXPECT_GT(r.epochs.back().test_accuracy, 0.9);
  for (double v : t.params().at("1.running_var").value.vec()) EXPECT_NE(v, 1.0);
}

// Sequences of 4 tokens from {0..4}; the class is the token at position 0 (mod 3).
TEST(Trainer, TransformerEncoderOnTokensTrains) {
  SplitMix64 rng(9);
  std::vector<float> x, y;
  for (int i = 0; i < 192; ++i) {
    for (int t = 0; t < 4; ++t) x.push_back(static_cast<float>(rng.next() % 5));
    y.push_back(static_cast<float>(static_cast<int>(x[x.size() - 4]) % 3));
  }
  const Dataset train{Tensor<float>(Shape{192, 4}, x), Tensor<float>(Shape{192}, y)};
  auto model = std::make_shared<Sequential>(std::vector<ModulePtr>{
      std::make_shared<Embedding>(5, 8), std::make_shared<TransformerEncoderLayer>(8, 2, 16, 0.1),
      std::make_shared<Flatten>(), std::make_shared<Linear>(32, 3)});
  TrainConfig c = config(OptimizerConfig::adam);
  c.epochs = 6;
  c.step.optimizer.lr = 0.01;
  Trainer t(model, c, train, &train);
  const double before = t.evaluate(train).mean_loss();
  const TrainResult r = t.fit();
  EXPECT_LT(r.epochs.back().test_loss, 0.5 * before);
}

// The whole compiled training step (forward, backward, optimizer update) of a CNN with batch
// norm, dropout and pooling is an ordinary Program: exact mode is bit-identical to the reference
// evaluator node by node, fast mode within each kernel's declared bound.
TEST(TrainStep, CompiledStepPassesTheEquivalenceChecker) {
  auto model = std::make_shared<Sequential>(std::vector<ModulePtr>{
      std::make_shared<Conv2d>(1, 3, 3, 1, 1), std::make_shared<BatchNorm2d>(3),
      std::make_shared<Activation>(ir::OpKind::gelu), std::make_shared<Pool2d>(true, 2),
      std::make_shared<Flatten>(), std::make_shared<Dropout>(0.5),
      std::make_shared<Linear>(48, 3)});
  for (auto mode : {runtime::KernelMode::exact, runtime::KernelMode::fast}) {
    StepConfig cfg;
    cfg.optimizer.kind = OptimizerConfig::adamw;
    cfg.optimizer.clip_norm = 0.5;
    cfg.compile.mode = mode;
    cfg.compile.fast_variants = compile::FastVariants::all;  // check the fast kernels themselves
    ParamStore params, state;
    TrainStep step(*model, Shape{4, 1, 8, 8}, Shape{4}, cfg, params, state, 11);
    runtime::Program<float>& prog = step.program();
    SplitMix64 rng(5);
    std::vector<Tensor<float>> inputs;
    for (int64_t i = 0; i < prog.num_inputs(); ++i) {
      Tensor<float> t(prog.input_shape(i));
      for (float& v : t.vec())
        v = i == 1   ? static_cast<float>(rng.next() % 3)  // class targets
            : i == 2 ? (rng.next() % 2 ? 2.0f : 0.0f)      // the dropout mask
                     : static_cast<float>(uniform01(rng) * 0.5);
      inputs.push_back(std::move(t));
    }
    const runtime::CheckReport r = runtime::check_equivalence(prog, inputs);
    EXPECT_TRUE(r.ok) << r.text();
    if (mode == runtime::KernelMode::exact) {
      EXPECT_EQ(r.exact_instructions, r.instructions);
    }
  }
}

}  // namespace
}  // namespace torchlean::nn
