// `torchlean check-cert` end to end: exit 0 and "accepted" for a valid certificate, exit 1 and
// the reason for a tampered one, exit 1 with a one-line error for an unreadable one, 2 for usage.
#include <gtest/gtest.h>

#include "../cli_runner.hpp"
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "cert_test_util.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/io/safetensors.hpp"

namespace torchlean::cert::test {
namespace {

using Result = torchlean::testing::CliResult;
using torchlean::testing::run_cli;

class CheckCertCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("torchlean_cert_cli_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto [g, p] = tiny_net();
    io::write_graph_json_file(dir_ / "m.json", g);
    io::write_safetensors_file(dir_ / "m.safetensors", io::payload_to_safetensors(p));
    ExampleSpec e;
    e.x = {1.0, 0.5};
    e.certified = true;
    e.margins = {{1, 0.75}};  // the exact CROWN bound (test_checker.cpp)
    e.relaxation = {
        {"layers",
         nlohmann::json::array({{{"node", 2}, {"lower", {0.5, -0.5}}, {"upper", {2.5, 1.5}}}})}};
    cert_ = make_cert(g, p, "real", "crown", "1/2", {e});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::string model() const {
    return "--model " + (dir_ / "m.json").string() + " --weights " +
           (dir_ / "m.safetensors").string();
  }

  std::filesystem::path dir_;
  nlohmann::json cert_;
};

TEST_F(CheckCertCli, AcceptedExitsZero) {
  Result r = run_cli("check-cert " + write("c.json", cert_.dump()) + " " + model());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(
      r.out.find("accepted: 1 examples, 1 certified, 1 margin claims and 2 intermediate bounds"),
      std::string::npos)
      << r.out;
}

TEST_F(CheckCertCli, RejectedExitsOneWithTheReason) {
  cert_["examples"][0]["margins"][0]["lower"] = 0.8;
  Result r = run_cli("check-cert " + write("c.json", cert_.dump()) + " " + model());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("rejected: example 0 (index 0): class 1: claimed lower bound 0.8"),
            std::string::npos)
      << r.out;
}

TEST_F(CheckCertCli, ErrorsAndUsage) {
  Result r = run_cli("check-cert " + write("c.json", cert_.dump().substr(0, 50)) + " " + model());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("torchlean check-cert: error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("malformed or truncated JSON"), std::string::npos) << r.out;
  r = run_cli("check-cert " + write("c.json", cert_.dump()));
  EXPECT_EQ(r.code, 2) << r.out;
  r = run_cli("check-cert " + write("c.json", cert_.dump()) + " " + model() + " --spec-sha256 " +
              std::string(64, 'f'));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("rejected: spec hash mismatch: expected ffff"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace torchlean::cert::test
