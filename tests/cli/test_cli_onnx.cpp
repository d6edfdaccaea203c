// End-to-end tests of ONNX in the torchlean program: `run` on .onnx and .onnx.gz models, `convert`
// between .onnx and .json + .safetensors in both directions (outputs bit-identical), --batch for
// symbolic batch dims, and the error exits.
#include <gtest/gtest.h>

#include "../cli_runner.hpp"
#include <sys/wait.h>

#include <array>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <string>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/io/npy.hpp"

namespace {

using Result = torchlean::testing::CliResult;
using torchlean::testing::run_cli;

class CliOnnx : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("torchlean_cli_onnx_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // A random (exact binary32) input of `shape` written as .npy.
  std::string input(const std::string& name, torchlean::Shape shape) const {
    torchlean::SplitMix64 rng(11);
    torchlean::Tensor<float> t(std::move(shape));
    for (float& x : t.vec()) x = static_cast<float>(rng.next() >> 40) * 0x1p-23f - 1.0f;
    torchlean::io::write_npy_file(path(name), t);
    return path(name);
  }
  std::vector<uint32_t> output_bits(const std::string& name) const {
    std::vector<uint32_t> b;
    const torchlean::Tensor<float> t = torchlean::io::read_npy_f32_file(path(name));
    for (float x : t.vec()) b.push_back(std::bit_cast<uint32_t>(x));
    return b;
  }
  std::filesystem::path dir_;
};

const std::string kSrc = TORCHLEAN_SOURCE_DIR;
const std::string kMlp = kSrc + "/tests/io/data/onnx/mlp.onnx";
const std::string kRul =
    kSrc + "/../shared/data/vnncomp2022/collins_rul_cnn/onnx/NN_rul_small_window_20.onnx.gz";

TEST_F(CliOnnx, RunOnnxAndItsJsonConversionGiveTheSameBits) {
  const std::string x = input("x.npy", torchlean::Shape{2, 6});
  Result r = run_cli("run " + kMlp + " --input " + x + " --output " + path("y_onnx.npy"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run_cli("convert " + kMlp + " " + path("mlp.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(path("mlp.safetensors")));
  r = run_cli("run " + path("mlp.json") + " --weights " + path("mlp.safetensors") + " --input " +
              x + " --output " + path("y_json.npy"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run_cli("convert " + path("mlp.json") + " " + path("back.onnx") + " --weights " +
              path("mlp.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run_cli("run " + path("back.onnx") + " --input " + x + " --output " + path("y_back.npy"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(output_bits("y_onnx.npy"), output_bits("y_json.npy"));
  EXPECT_EQ(output_bits("y_onnx.npy"), output_bits("y_back.npy"));
}

TEST_F(CliOnnx, RunGzippedVnncompNetwork) {
  const std::string x = input("acas.npy", torchlean::Shape{1, 1, 1, 5});
  Result r = run_cli(
      "run " + kSrc +
      "/../shared/data/vnncomp2022/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx.gz --input " + x +
      " --semantics f64");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("semantics: f64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" (1,5) = ["), std::string::npos) << r.out;
}

TEST_F(CliOnnx, SymbolicBatchNeedsBatchOption) {
  Result r = run_cli("convert " + kRul + " " + path("rul.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(
      r.out.find("NN_rul_small_window_20.onnx.gz: graph input 'imageinput' has symbolic batch dim "
                 "'BatchSize' at axis 0; fix it with --batch N"),
      std::string::npos)
      << r.out;
  r = run_cli("convert " + kRul + " " + path("rul.json") + " --batch 3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("rul.safetensors"), std::string::npos) << r.out;
  EXPECT_EQ(run_cli("convert " + kRul + " " + path("rul.json") + " --batch two").code, 2);
}

// The parameter count is the sum of the file's float initializers (60826, counted with
// python3-onnx); every command that loads a model takes --batch for the symbolic batch dim.
TEST_F(CliOnnx, InspectDotAndRunTakeOnnxWithBatch) {
  Result r = run_cli("inspect " + kRul + " --batch 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("parameters: 60826\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("checker: OK"), std::string::npos) << r.out;
  r = run_cli("dot " + kRul + " --batch 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("digraph torchlean {", 0), 0u) << r.out;
  EXPECT_EQ(run_cli("dot " + kRul).code, 1);
  const std::string x = input("rul.npy", torchlean::Shape{2, 1, 20, 20});
  r = run_cli("run " + kRul + " --batch 2 --input " + x);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(" (2,1) = ["), std::string::npos) << r.out;
}

TEST_F(CliOnnx, Errors) {
  Result r = run_cli("run " + kMlp + " --weights w.safetensors --input x.npy");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("an ONNX model carries its weights"), std::string::npos) << r.out;
  {
    std::FILE* f = std::fopen(path("bad.onnx").c_str(), "wb");
    std::fputs("not a model", f);
    std::fclose(f);
  }
  r = run_cli("convert " + path("bad.onnx") + " " + path("bad.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("bad.onnx: not a valid ONNX model"), std::string::npos) << r.out;
  EXPECT_EQ(run_cli("convert " + kMlp + " " + path("out.txt")).code, 2);
  EXPECT_EQ(run_cli("convert --help").code, 0);
}

}  // namespace
