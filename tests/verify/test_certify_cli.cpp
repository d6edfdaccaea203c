// `torchlean certify` end to end: a small ReLU MLP written as graph JSON + safetensors, data and
// labels as NPY; the certificate passes `torchlean check-cert`; the summary JSON and curve hold
// what they claim; bad input is a one-line user error (exit 1) or a usage error (exit 2).
#include <gtest/gtest.h>

#include "../cli_runner.hpp"
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/io/npy.hpp"
#include "torchlean/io/safetensors.hpp"
#include "torchlean/ir/builder.hpp"

namespace torchlean::testing {
namespace {

using Result = torchlean::testing::CliResult;
using torchlean::testing::run_cli;

class CertifyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("torchlean_certify_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    SplitMix64 rng(7);
    auto rnd = [&rng](Shape s, double scale) {
      Tensor<double> t(std::move(s));
      for (double& v : t.vec())
        v = static_cast<float>((static_cast<double>(rng.next() >> 11) * 0x1p-53 * 2 - 1) * scale);
      return t;
    };
    ir::GraphBuilder b;
    const int64_t x = b.input(Shape{4});
    const int64_t h = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{8});
    b.set_payload(h, "weight", rnd(Shape{8, 4}, 1));
    b.set_payload(h, "bias", rnd(Shape{8}, 0.2));
    const int64_t y =
        b.add(ir::OpKind::linear, {b.add(ir::OpKind::relu, {h})}, ir::NoAttrs{}, Shape{3});
    b.set_payload(y, "weight", rnd(Shape{3, 8}, 1));
    b.set_payload(y, "bias", rnd(Shape{3}, 0.2));
    b.mark_output(y);
    auto [g, p] = std::move(b).finish();
    io::write_graph_json_file(path("m.json"), g);
    io::write_safetensors_file(path("m.safetensors"), io::payload_to_safetensors(p));
    io::write_npy_file(path("X.npy"), rnd(Shape{10, 4}, 1));
    Tensor<double> labels(Shape{10});
    for (int i = 0; i < 10; ++i) labels[i] = i % 3;
    io::write_npy_file(path("y.npy"), labels);
    model_ = path("m.json") + " --weights " + path("m.safetensors");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
  std::string model_;
};

TEST_F(CertifyCli, CertifiesWritesSummaryCurveAndACheckableCertificate) {
  for (const std::string sem : {"real", "float32"}) {
    for (const std::string method : {"ibp", "crown", "alpha"}) {
      const Result r =
          run_cli("certify " + model_ + " --data " + path("X.npy") + " --labels " + path("y.npy") +
                  " --eps 1/64 --eps-list 0,1/64,1/4 --method " + method + " --semantics " + sem +
                  " --cert " + path("c.json") + " --summary-json " + path("s.json") + " --curve " +
                  path("curve.csv"));
      ASSERT_EQ(r.code, 0) << r.out;
      EXPECT_NE(r.out.find("semantics " + sem + ", method " + method), std::string::npos) << r.out;
      std::ifstream sf(path("s.json"));
      const nlohmann::json s = nlohmann::json::parse(sf);
      EXPECT_EQ(s["examples"], 10);
      EXPECT_EQ(s["semantics"], sem);
      EXPECT_LE(s["certified"].get<int>(), s["clean_correct"].get<int>());
      // At eps = 0 an example is certified iff it is classified correctly (strict margins).
      EXPECT_EQ(s["curve"][0]["certified"], s["clean_correct"]);
      std::ifstream cf(path("curve.csv"));
      std::string header, line;
      std::getline(cf, header);
      EXPECT_EQ(header, "eps,certified_accuracy");
      int rows = 0;
      while (std::getline(cf, line)) ++rows;
      EXPECT_EQ(rows, 3);
      const Result c = run_cli("check-cert " + path("c.json") + " --model " + model_);
      EXPECT_EQ(c.code, 0) << c.out;
      EXPECT_NE(c.out.find("accepted"), std::string::npos) << c.out;
    }
  }
}

// Big-endian IDX: magic (0, 0, type 0x08 = ubyte, rank), the dims, then the bytes.
void write_idx_ubyte(const std::string& file, const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data) {
  std::ofstream f(file, std::ios::binary);
  const auto be32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>((v >> s) & 0xff));
  };
  f.put(0), f.put(0), f.put(0x08), f.put(static_cast<char>(dims.size()));
  for (uint32_t d : dims) be32(d);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// A directory of MNIST-style IDX files is read like `train` reads it (pixels / 255); the summary
// counts the examples of the requested split.
TEST_F(CertifyCli, ReadsAnIdxDirectory) {
  const std::filesystem::path idx = dir_ / "idx";
  std::filesystem::create_directories(idx);
  write_idx_ubyte((idx / "t10k-images-idx3-ubyte").string(), {3, 2, 2},
                  {0, 255, 17, 34, 51, 68, 85, 102, 119, 136, 153, 170});
  write_idx_ubyte((idx / "t10k-labels-idx1-ubyte").string(), {3}, {0, 1, 2});
  const Result r = run_cli("certify " + model_ + " --cert " + path("c.json") + " --data " +
                           idx.string() + " --eps 1/255 --summary-json " + path("s.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream sf(path("s.json"));
  const nlohmann::json s = nlohmann::json::parse(sf);
  EXPECT_EQ(s["examples"], 3);
  const Result c = run_cli("check-cert " + path("c.json") + " --model " + model_);
  EXPECT_EQ(c.code, 0) << c.out;
}

TEST_F(CertifyCli, BadInputIsAOneLineError) {
  const std::string base = "certify " + model_ + " --cert " + path("c.json") + " ";
  Tensor<double> two_d(Shape{5, 2});
  io::write_npy_file(path("y2.npy"), two_d);
  Tensor<double> frac(Shape{10}, 0.5);
  io::write_npy_file(path("yf.npy"), frac);
  Tensor<double> big(Shape{10}, 7.0);
  io::write_npy_file(path("yb.npy"), big);
  io::write_npy_file(path("X5.npy"), Tensor<double>(Shape{10, 5}));
  struct Bad {
    std::string args, message;
    int code;
  };
  const std::string data = "--data " + path("X.npy") + " --eps 0.1 ";
  const std::vector<Bad> bad = {
      {data + "--labels " + path("y2.npy"), "labels must be a 1-D array, got shape (5,2)", 1},
      {data + "--labels " + path("yf.npy"), "is not a class index: 0.5", 1},
      {data + "--labels " + path("yb.npy"), "has label 7 but the model has 3 outputs", 1},
      {"--data " + path("X5.npy") + " --eps 0.1 --labels " + path("y.npy"),
       "expected 10 examples of 4 elements", 1},
      {data + "--labels " + path("y.npy") + " --method beta",
       "method: expected ibp, crown or alpha, got 'beta'", 1},
      {data + "--labels " + path("y.npy") + " --semantics f64",
       "semantics: expected real or float32", 1},
      {"--data " + path("X.npy") + " --eps -1/2 --labels " + path("y.npy"), "--eps must be >= 0",
       2},
      {"--data " + path("X.npy") + " --eps x --labels " + path("y.npy"), "--eps", 1},
      {data + "--labels " + path("y.npy") + " --clip 1", "--clip expects LO,HI", 2},
      {data + "--labels " + path("y.npy") + " --clip 1,0", "LO must be <= HI", 2},
      {data + "--labels " + path("y.npy") + " --count 0", "--count must be a positive integer", 2},
      {"--data " + path("X.npy") + " --labels " + path("y.npy"),
       "certify needs --data, --eps and --cert", 2},
      {"--data " + path("X.npy") + " --eps 0.1", "--labels is needed unless --data is a directory",
       2},
      {"--data " + dir_.string() + " --eps 0.1", "t10k-images-idx3-ubyte", 1},
  };
  for (const Bad& b : bad) {
    const Result r = run_cli(base + b.args);
    EXPECT_EQ(r.code, b.code) << b.args << "\n" << r.out;
    EXPECT_NE(r.out.find(b.message), std::string::npos) << b.args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace torchlean::testing
