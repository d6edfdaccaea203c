// Losses against PyTorch (float64 values from tests/nn/data/torch_reference.json), metrics, the
// log parser and SVG plot, and checkpoint file errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "torchlean/compile/compile.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/io/safetensors.hpp"
#include "torchlean/nn/checkpoint.hpp"
#include "torchlean/nn/loss.hpp"
#include "torchlean/nn/metrics.hpp"
#include "torchlean/nn/plot.hpp"

namespace torchlean::nn {
namespace {

Tensor<double> matrix(const nlohmann::json& rows) {
  std::vector<double> v;
  for (const auto& r : rows)
    for (double x : r) v.push_back(x);
  return Tensor<double>(
      Shape{static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, v);
}

// The loss of (prediction, target) computed by a compiled binary64 program.
double loss_value(Loss loss, const Tensor<double>& pred, const Tensor<double>& target) {
  ir::GraphBuilder b;
  const int64_t p = b.input(pred.shape()), t = b.input(target.shape());
  b.mark_output(build_loss(b, loss, p, t));
  auto [g, payload] = std::move(b).finish();
  const ir::PayloadStore<double> store = runtime::to_runtime_payload<double>(payload);
  runtime::Program<double> prog = compile::compile<double>(g, store, {});
  return prog.run({pred, target})[0][0];
}

TEST(Loss, MatchesPyTorchInFloat64) {
  std::ifstream f(std::string(TORCHLEAN_SOURCE_DIR) + "/tests/nn/data/torch_reference.json");
  const nlohmann::json ref = nlohmann::json::parse(f)["loss"];
  std::vector<double> targets;
  for (int64_t t : ref["targets"]) targets.push_back(static_cast<double>(t));
  const Tensor<double> logits = matrix(ref["logits"]), pred = matrix(ref["pred"]),
                       truth = matrix(ref["truth"]);
  // A few roundings of difference in the order of the sums: a relative 1e-15.
  const double ce = ref["cross_entropy"], mse = ref["mse"], bce = ref["bce_with_logits"];
  EXPECT_NEAR(loss_value(Loss::cross_entropy, logits, Tensor<double>(Shape{4}, targets)), ce,
              1e-15 * ce);
  EXPECT_NEAR(loss_value(Loss::mse, pred, truth), mse, 1e-15 * mse);
  EXPECT_NEAR(loss_value(Loss::bce_with_logits, pred, truth), bce, 1e-15 * bce);
}

TEST(Loss, ShapeErrorsNameTheLoss) {
  ir::GraphBuilder b;
  const int64_t p = b.input(Shape{4, 3}), t = b.input(Shape{3});
  try {
    build_loss(b, Loss::cross_entropy, p, t);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cross_entropy: prediction (4,3), target (3): expected logits (N..., C) and class "
              "indices (N...)");
  }
  EXPECT_THROW(build_loss(b, Loss::mse, p, t), UserError);
  EXPECT_THROW(parse_loss("hinge"), UserError);
}

TEST(Metrics, AccuracyConfusionAndLoss) {
  ConfusionMatrix cm(3);
  // Rows: argmax 2 (truth 2), argmax 0 (truth 1), tie 1/1 -> first (truth 1).
  const std::vector<float> logits = {0, 1, 5, 3, 1, 0, 0, 2, 2};
  cm.add(logits, std::vector<float>{2, 1, 1}, 3);
  EXPECT_EQ(cm.count(2, 2), 1);
  EXPECT_EQ(cm.count(1, 0), 1);
  EXPECT_EQ(cm.count(1, 1), 1);
  EXPECT_DOUBLE_EQ(cm.accuracy(), 2.0 / 3.0);
  // Row 3: -log(e^2 / (1 + 2 e^2)).
  const double l3 = std::log(1 + 2 * std::exp(2.0)) - 2;
  const double l1 = std::log(1 + std::exp(1.0) + std::exp(5.0)) - 5;
  const double l2 = std::log(std::exp(3.0) + std::exp(1.0) + 1) - 1;
  EXPECT_NEAR(cm.mean_loss(), (l1 + l2 + l3) / 3, 1e-12);
  EXPECT_THROW(cm.add(logits, std::vector<float>{3, 0, 0}, 1), UserError);
}

TEST(Plot, ParsesJsonLinesAndCsv) {
  const LogTable j = parse_log(
      "{\"kind\":\"step\",\"step\":1,\"loss\":2.5}\n\n{\"step\":2,\"loss\":1.5,\"ok\":true}\n",
      "log");
  EXPECT_EQ(j.columns, (std::vector<std::string>{"step", "loss", "ok"}));
  ASSERT_EQ(j.rows.size(), 2u);
  EXPECT_EQ(j.rows[1].at("loss"), 1.5);
  const LogTable c = parse_log("eps,certified_accuracy\n0.01,0.9\n0.02, n/a\n", "curve.csv");
  EXPECT_EQ(c.rows[0].at("certified_accuracy"), 0.9);
  EXPECT_EQ(c.rows[1].count("certified_accuracy"), 0u);
  EXPECT_THROW(parse_log("{\"a\":1}\n{oops\n", "log"), UserError);
  EXPECT_THROW(parse_log("a,b\n1,2,3\n", "log"), UserError);
  EXPECT_THROW(parse_log("\n\n", "log"), UserError);
}

TEST(Plot, RendersOnePolylinePerSeries) {
  const LogTable t = parse_log("step,loss,acc\n0,2,0.1\n1,1,0.5\n2,0.5,0.8\n", "log");
  const std::string svg = render_svg(t, "step", parse_panels("loss,acc+loss"), "a <title>");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1))
    ++lines;
  EXPECT_EQ(lines, 3u);
  EXPECT_NE(svg.find("a &lt;title&gt;"), std::string::npos);
  EXPECT_THROW(render_svg(t, "epoch", parse_panels("loss"), ""), UserError);
  EXPECT_THROW(render_svg(t, "step", parse_panels("accuracy"), ""), UserError);
}

TEST(Checkpoint, RoundTripAndErrors) {
  const auto path = std::filesystem::temp_directory_path() / "torchlean_test_nn_ckpt.safetensors";
  Checkpoint ck;
  ck.params.add("0.weight", Tensor<double>(Shape{2}, std::vector<double>{0.5, -1}), true);
  ck.params.add("1.running_mean", Tensor<double>(Shape{1}, std::vector<double>{3}), false);
  ck.optimizer.add("0.weight.exp_avg", Tensor<double>(Shape{2}, std::vector<double>{1, 2}), false);
  ck.step = 42;
  write_checkpoint(path, ck);
  const Checkpoint back = read_checkpoint(path);
  EXPECT_EQ(back.step, 42);
  EXPECT_TRUE(back.params.at("0.weight").trainable);
  EXPECT_FALSE(back.params.at("1.running_mean").trainable);
  EXPECT_EQ(back.optimizer.at("0.weight.exp_avg").value.vec(), (std::vector<double>{1, 2}));
  io::Safetensors st;
  st.tensors.push_back({"w", io::DType::f32, Tensor<double>(Shape{1}, std::vector<double>{1})});
  io::write_safetensors_file(path, st);
  try {
    read_checkpoint(path);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("metadata format is not torchlean_cpp.checkpoint.v1"),
              std::string::npos);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace torchlean::nn
