// Training a model file (GraphModule): an MLP written as IR JSON + safetensors, read back and
// trained, follows the built-in model's training bit for bit in exact mode; errors for files that
// are not a single-input, single-output batch model.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>

#include "torchlean/core/error.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/io/safetensors.hpp"
#include "torchlean/nn/graph_module.hpp"
#include "torchlean/nn/layers.hpp"
#include "torchlean/nn/trainer.hpp"
#include "tiny_problem.hpp"

namespace torchlean::nn {
namespace {

using testing::blobs;
using testing::mlp;

TrainConfig config() {
  TrainConfig c;
  c.epochs = 2;
  c.batch = 16;
  c.eval_batch = 16;
  c.seed = 11;
  c.progress = false;
  c.step.optimizer.kind = OptimizerConfig::sgd;
  c.step.optimizer.lr = 0.1;
  c.step.optimizer.momentum = 0.9;
  c.step.compile.mode = runtime::KernelMode::exact;
  return c;
}

std::vector<uint32_t> bits(const ParamStore& s) {
  std::vector<uint32_t> out;
  for (const ParamStore::Entry& e : s.entries())
    for (int64_t i = 0; i < e.value.numel(); ++i)
      out.push_back(std::bit_cast<uint32_t>(static_cast<float>(e.value[i])));
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

TEST(GraphModule, TrainingAnMlpFileEqualsTrainingTheBuiltInModelBitForBit) {
  const Dataset train = blobs(96, 1), test = blobs(32, 2);
  const TrainConfig cfg = config();

  // Initial weights from another seed than the run's (11), so that a file module that ignored
  // its weights and drew them from the run's seed would fail; written as a batch-16 IR JSON +
  // safetensors and read back.
  ParamStore init;
  const EvalGraph eg = build_eval_graph(*mlp(), Shape{16, 4}, init, 99);
  ParamStore seeded;
  build_eval_graph(*mlp(), Shape{16, 4}, seeded, cfg.seed);
  ASSERT_NE(bits(seeded), bits(init));
  const auto dir = std::filesystem::temp_directory_path() / "torchlean_test_graph_module";
  std::filesystem::create_directories(dir);
  io::write_graph_json_file(dir / "m.json", eg.graph, eg.payload);
  io::write_safetensors_file(dir / "m.safetensors", io::payload_to_safetensors(eg.payload));
  ir::Graph g = io::load_graph_json_file(dir / "m.json").graph;
  ir::Payload p = io::payload_from_safetensors(io::read_safetensors_file(dir / "m.safetensors"));

  // The built-in model starts from the same weights through a step-0 checkpoint.
  Trainer builtin(mlp(), cfg, train, &test);
  Checkpoint start;
  start.params = init;
  builtin.resume(start);
  Trainer file(std::make_shared<GraphModule>("m.json", fixed_batch_loader("m.json", g, p)), cfg,
               train, &test);
  EXPECT_EQ(file.params().trainable_count(), 4 * 8 + 8 + 8 * 3 + 3);
  EXPECT_EQ(bits(file.params()), bits(init));  // the file's weights, not a seeded initialisation
  const TrainResult a = builtin.fit(), b = file.fit();

  ASSERT_EQ(a.steps, 2 * (96 / 16));
  ASSERT_EQ(b.steps, a.steps);
  ASSERT_EQ(b.epochs.size(), a.epochs.size());
  for (size_t e = 0; e < a.epochs.size(); ++e) {
    EXPECT_EQ(b.epochs[e].train_loss, a.epochs[e].train_loss);
    EXPECT_EQ(b.epochs[e].test_loss, a.epochs[e].test_loss);
    EXPECT_EQ(b.epochs[e].test_accuracy, a.epochs[e].test_accuracy);
  }
  EXPECT_NE(bits(builtin.params()), bits(init));  // it trained
  EXPECT_EQ(bits(file.params()), bits(builtin.params()));
  EXPECT_LT(a.epochs.back().test_loss, a.epochs.front().test_loss);
}

TEST(GraphModule, TrainingAnOnnxExportOfTheMlpEqualsTheBuiltInModelBitForBit) {
  const Dataset train = blobs(96, 1), test = blobs(32, 2);
  const TrainConfig cfg = config();
  ParamStore init;
  const EvalGraph eg = build_eval_graph(*mlp(), Shape{16, 4}, init, 99);
  const std::vector<uint8_t> onnx = io::export_onnx(eg.graph, eg.payload);
  GraphLoader load = [&onnx](int64_t batch) {
    io::OnnxModel m = io::import_onnx(onnx, io::OnnxImportOptions{batch}, "m.onnx");
    return std::make_pair(m.graph, m.payload);
  };
  Trainer builtin(mlp(), cfg, train, &test);
  Checkpoint start;
  start.params = init;
  builtin.resume(start);
  Trainer file(std::make_shared<GraphModule>("m.onnx", load), cfg, train, &test);
  EXPECT_EQ(bits(file.params()), bits(init));
  const TrainResult a = builtin.fit(), b = file.fit();
  ASSERT_EQ(b.steps, a.steps);
  EXPECT_LT(b.epochs.back().test_loss, b.epochs.front().test_loss);
  EXPECT_EQ(bits(file.params()), bits(builtin.params()));
}

TEST(GraphModule, FileErrors) {
  ParamStore init;
  const EvalGraph eg = build_eval_graph(*mlp(), Shape{16, 4}, init, 0);
  const Dataset train = blobs(64, 1);
  TrainConfig cfg = config();
  cfg.batch = 8;
  cfg.eval_batch = 8;
  EXPECT_EQ(error_of([&] {
              Trainer t(std::make_shared<GraphModule>(
                            "m.json", fixed_batch_loader("m.json", eg.graph, eg.payload)),
                        cfg, train, nullptr);
              t.fit();
            }),
            "m.json: the graph is built for batch 16, not 8 (use --batch 16 --eval-batch 16)");
  ir::Graph two = eg.graph;
  two.output_ids.push_back(two.input_ids[0]);
  cfg.batch = 16;
  cfg.eval_batch = 16;
  EXPECT_EQ(error_of([&] {
              Trainer t(std::make_shared<GraphModule>(
                            "two.json", fixed_batch_loader("two.json", two, eg.payload)),
                        cfg, train, nullptr);
              t.fit();
            }),
            "two.json: a trainable model file needs one input and one output (the logits), it "
            "has 1 and 2");
  // A batch of 5-feature examples does not fit the graph's (16, 4) input.
  const Dataset wide{Tensor<float>(Shape{32, 5}, 0.0f), Tensor<float>(Shape{32}, 0.0f)};
  EXPECT_EQ(error_of([&] {
              Trainer t(std::make_shared<GraphModule>(
                            "m.json", fixed_batch_loader("m.json", eg.graph, eg.payload)),
                        cfg, wide, nullptr);
              t.fit();
            }),
            "m.json: the graph's input (16,4) does not fit the batch (16,5)");
}

}  // namespace
}  // namespace torchlean::nn
