// End-to-end tests of the torchlean program: exit codes (0 ok, 1 user error, 2 usage error),
// --help on every subcommand, one-line error messages, and run/inspect/dot on small models whose
// outputs are known exactly.
#include <gtest/gtest.h>

#include "../cli_runner.hpp"
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "torchlean/io/npy.hpp"
#include "torchlean/runtime/gemm.hpp"

namespace {

using Result = torchlean::testing::CliResult;
using torchlean::testing::run_cli;

std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("torchlean_cli_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

void write_text(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

// y = relu(x) - x on a (3,) input: x = [-2.5, 0.5, 3] gives [2.5, 0, 0] exactly in every domain.
const char* kReluGraph = R"({"format": "torchlean.ir.v1", "input_id": 0, "output_id": 2, "nodes": [
  {"id": 0, "kind": "input", "parents": [], "shape": [3]},
  {"id": 1, "kind": "relu", "parents": [0], "shape": [3]},
  {"id": 2, "kind": "sub", "parents": [1, 0], "shape": [3]}]})";

}  // namespace

TEST(Cli, HelpOnEverySubcommandExitsZero) {
  for (const char* sub : {"inspect", "dot", "run", "demo"}) {
    Result r = run_cli(std::string(sub) + " --help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("usage: torchlean " + std::string(sub)), std::string::npos) << r.out;
  }
  EXPECT_EQ(run_cli("--help").code, 0);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cli("").code, 2);
  EXPECT_EQ(run_cli("frobnicate").code, 2);
  EXPECT_EQ(run_cli("inspect").code, 2);                       // missing positional
  EXPECT_EQ(run_cli("inspect a.json --bogus").code, 2);        // unknown option
  Result r = run_cli("run m.json --input x.npy --semantics f16");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--semantics must be f32, f64 or exact"), std::string::npos) << r.out;
}

TEST(Cli, UserErrorsExitOneWithOneLine) {
  auto dir = temp_dir();
  Result missing = run_cli("inspect " + (dir / "nope.json").string());
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(std::count(missing.out.begin(), missing.out.end(), '\n'), 1) << missing.out;
  write_text(dir / "bad.json", "{\"format\": \"torchlean.ir.v2\", \"input_id\": 0}");
  Result bad = run_cli("dot " + (dir / "bad.json").string());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("format"), std::string::npos) << bad.out;
}

TEST(Cli, InspectReportsCheckerVerdict) {
  auto dir = temp_dir();
  write_text(dir / "ok.json", kReluGraph);
  Result ok = run_cli("inspect " + (dir / "ok.json").string());
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("checker: OK"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("%1 = relu(0) : (3)"), std::string::npos) << ok.out;
  // A 3x3 max pool on a 1x2x2 image is rejected by the shape checker (TorchLean's contract).
  write_text(dir / "pool.json", R"({"format": "torchlean.ir.v1", "input_id": 0, "output_id": 1, "nodes": [
    {"id": 0, "kind": "input", "parents": [], "shape": [1, 2, 2]},
    {"id": 1, "kind": "max_pool2d", "parents": [0], "shape": [1, 0, 0], "kH": 3, "kW": 3, "stride": 1}]})");
  Result rejected = run_cli("inspect " + (dir / "pool.json").string());
  EXPECT_EQ(rejected.code, 1);
  EXPECT_NE(rejected.out.find("checker: REJECTED: [max_pool2d]"), std::string::npos) << rejected.out;
}

TEST(Cli, DotWritesGraphviz) {
  auto dir = temp_dir();
  write_text(dir / "ok.json", kReluGraph);
  Result r = run_cli("dot " + (dir / "ok.json").string());
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("digraph", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("->"), std::string::npos);
}

TEST(Cli, RunEvaluatesInEveryDomain) {
  auto dir = temp_dir();
  write_text(dir / "ok.json", kReluGraph);
  torchlean::io::write_npy_file(dir / "x.npy", torchlean::Tensor<double>(torchlean::Shape{3}, {-2.5, 0.5, 3.0}));
  for (const char* sem : {"f32", "f64"}) {
    Result r = run_cli("run " + (dir / "ok.json").string() + " --input " + (dir / "x.npy").string() +
                       " --semantics " + sem + " --output " + (dir / "y.npy").string());
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("[2.5, 0, 0]"), std::string::npos) << r.out;
    auto y = torchlean::io::read_npy_file(dir / "y.npy");
    EXPECT_EQ(y.vec(), (std::vector<double>{2.5, 0.0, 0.0}));
  }
  Result exact = run_cli("run " + (dir / "ok.json").string() + " --input " + (dir / "x.npy").string() + " --semantics exact");
  EXPECT_EQ(exact.code, 0) << exact.out;
  EXPECT_NE(exact.out.find("[5/2, 0, 0]"), std::string::npos) << exact.out;
  // Wrong input shape: a user error naming both shapes.
  torchlean::io::write_npy_file(dir / "x4.npy", torchlean::Tensor<double>(torchlean::Shape{4}, {1, 2, 3, 4}));
  Result bad = run_cli("run " + (dir / "ok.json").string() + " --input " + (dir / "x4.npy").string());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("(3)"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("(4)"), std::string::npos) << bad.out;
}

// TorchLean's MLP state dict (2 -> 3 -> relu -> 1) through the CLI: weights from a state-dict JSON,
// evaluated exactly. The value itself is checked against Python fractions in tests/conformance.
TEST(Cli, RunWithTorchLeanStateDict) {
  auto dir = temp_dir();
  write_text(dir / "mlp.json", R"({"format": "torchlean.ir.v1", "input_id": 0, "output_id": 3, "nodes": [
    {"id": 0, "kind": "input", "parents": [], "shape": [2]},
    {"id": 1, "kind": "linear", "parents": [0], "shape": [3]},
    {"id": 2, "kind": "relu", "parents": [1], "shape": [3]},
    {"id": 3, "kind": "linear", "parents": [2], "shape": [1]}]})");
  torchlean::io::write_npy_file(dir / "x.npy", torchlean::Tensor<double>(torchlean::Shape{2}, {0.5, 0.8}));
  std::string weights = std::string(TORCHLEAN_SOURCE_DIR) + "/../shared/data/torchlean/Interop/PyTorch/MLP/mlp.json";
  Result r = run_cli("run " + (dir / "mlp.json").string() + " --weights " + weights + " --input " +
                     (dir / "x.npy").string() + " --semantics exact");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("exact: every value is an exact rational"), std::string::npos) << r.out;
  Result inspect = run_cli("inspect " + (dir / "mlp.json").string() + " --weights " + weights);
  EXPECT_EQ(inspect.code, 0) << inspect.out;
  EXPECT_NE(inspect.out.find("parameters: 13"), std::string::npos) << inspect.out;  // 2*3+3 + 3*1+1
}

TEST(Cli, DemoComparesTheThreeDomains) {
  auto dir = temp_dir();
  Result r = run_cli("demo --out " + (dir / "demo").string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("worst |f32 - exact|"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "demo" / "cnn_relu" / "model.json"));
  // The written model runs through the CLI.
  Result run = run_cli("run " + (dir / "demo/cnn_relu/model.json").string() + " --weights " +
                       (dir / "demo/cnn_relu/weights.safetensors").string() + " --input " +
                       (dir / "demo/cnn_relu/input.npy").string() + " --semantics exact");
  EXPECT_EQ(run.code, 0) << run.out;
}

// The compiled runtime through the CLI: same printed output as the reference, --check's verdict,
// --check failing (a fault injected into one kernel's output) exits 1, and usage errors exit 2.
TEST(Cli, RunCompiledWithCheck) {
  auto dir = temp_dir();
  write_text(dir / "ok.json", kReluGraph);
  torchlean::io::write_npy_file(dir / "x.npy", torchlean::Tensor<double>(torchlean::Shape{3}, {-2.5, 0.5, 3.0}));
  const std::string base = "run " + (dir / "ok.json").string() + " --input " + (dir / "x.npy").string();
  for (const char* sem : {"f32", "f64"})
    for (const char* mode : {"exact", "fast"}) {
      Result r = run_cli(base + " --semantics " + sem + " --mode " + mode + " --threads 2 --check");
      EXPECT_EQ(r.code, 0) << r.out;
      EXPECT_NE(r.out.find("[2.5, 0, 0]"), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("check " + std::string(mode) + ": OK"), std::string::npos) << r.out;
    }
  Result bad = run_cli(base + " --check --inject-fault 0");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("check exact: FAILED at instruction i0"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("%2 sub"), std::string::npos) << bad.out;  // relu and sub are one fused instruction
  Result out = run_cli(base + " --mode exact --output " + (dir / "y.npy").string());
  EXPECT_EQ(out.code, 0) << out.out;
  EXPECT_EQ(torchlean::io::read_npy_file(dir / "y.npy").vec(), (std::vector<double>{2.5, 0.0, 0.0}));
}

TEST(Cli, RunCompiledUsageErrors) {
  auto dir = temp_dir();
  write_text(dir / "ok.json", kReluGraph);
  torchlean::io::write_npy_file(dir / "x.npy", torchlean::Tensor<double>(torchlean::Shape{3}, {1, 2, 3}));
  const std::string base = "run " + (dir / "ok.json").string() + " --input " + (dir / "x.npy").string();
  Result exact = run_cli(base + " --semantics exact --mode fast");
  EXPECT_EQ(exact.code, 2) << exact.out;
  EXPECT_NE(exact.out.find("--semantics exact has no compiled runtime"), std::string::npos) << exact.out;
  Result mode = run_cli(base + " --mode quick");
  EXPECT_EQ(mode.code, 2);
  EXPECT_NE(mode.out.find("--mode must be exact or fast, got 'quick'"), std::string::npos) << mode.out;
  Result threads = run_cli(base + " --threads 0");
  EXPECT_EQ(threads.code, 2);
  EXPECT_NE(threads.out.find("--threads must be an integer from 1 to 1024, got '0'"), std::string::npos) << threads.out;
  EXPECT_EQ(run_cli(base + " --inject-fault 0").code, 2);
  EXPECT_EQ(run_cli("inspect " + (dir / "ok.json").string() + " --mode fast").code, 2);
}

TEST(Cli, InspectProgramPrintsInstructionsAndMemoryPlan) {
  auto dir = temp_dir();
  write_text(dir / "mlp.json", R"({"format": "torchlean.ir.v1", "input_id": 0, "output_id": 3, "nodes": [
    {"id": 0, "kind": "input", "parents": [], "shape": [2]},
    {"id": 1, "kind": "linear", "parents": [0], "shape": [3]},
    {"id": 2, "kind": "relu", "parents": [1], "shape": [3]},
    {"id": 3, "kind": "linear", "parents": [2], "shape": [1]}]})");
  Result exact = run_cli("inspect " + (dir / "mlp.json").string() + " --program");
  EXPECT_EQ(exact.code, 0) << exact.out;
  EXPECT_NE(exact.out.find("program f32 exact"), std::string::npos) << exact.out;
  EXPECT_NE(exact.out.find("i0 gemm.exact %1:linear"), std::string::npos) << exact.out;
  EXPECT_NE(exact.out.find("liveness lower bound"), std::string::npos) << exact.out;
  // Fast mode keeps the exact GEMM for a handful of rows (it is faster there) and uses OpenBLAS
  // from 16 rows on.
  Result few = run_cli("inspect " + (dir / "mlp.json").string() + " --program --mode fast --semantics f64");
  EXPECT_EQ(few.code, 0) << few.out;
  EXPECT_NE(few.out.find("program f64 fast"), std::string::npos) << few.out;
  EXPECT_NE(few.out.find("i0 gemm.exact"), std::string::npos) << few.out;
  write_text(dir / "mlp16.json", R"({"format": "torchlean.ir.v1", "input_id": 0, "output_id": 1, "nodes": [
    {"id": 0, "kind": "input", "parents": [], "shape": [16, 2]},
    {"id": 1, "kind": "linear", "parents": [0], "shape": [16, 3]}]})");
  Result fast = run_cli("inspect " + (dir / "mlp16.json").string() + " --program --mode fast --fast-variants all");
  EXPECT_EQ(fast.code, 0) << fast.out;
  EXPECT_NE(fast.out.find("i0 gemm.fast %1:linear"), std::string::npos) << fast.out;
  // By default fast mode keeps our AVX-512 exact-order GEMM, which beats the installed OpenBLAS.
  Result faster = run_cli("inspect " + (dir / "mlp16.json").string() + " --program --mode fast");
  EXPECT_EQ(faster.code, 0) << faster.out;
  const bool avx512 = torchlean::runtime::gemm_default_path() == torchlean::runtime::GemmPath::avx512;
  EXPECT_NE(faster.out.find(avx512 ? "i0 gemm.exact %1:linear" : "i0 gemm.fast %1:linear"), std::string::npos)
      << faster.out;
  EXPECT_EQ(run_cli("inspect " + (dir / "mlp16.json").string() + " --program --fast-variants all").code, 2);
  EXPECT_EQ(run_cli("inspect " + (dir / "mlp16.json").string() + " --program --mode fast --fast-variants some").code,
            2);
  write_text(dir / "chain.json", kReluGraph);
  Result fused = run_cli("inspect " + (dir / "chain.json").string() + " --program");
  EXPECT_NE(fused.out.find("fused.exact %1:relu,%2:sub"), std::string::npos) << fused.out;
}

// `-o` is a single-dash option that only `plot` declares: it works anywhere on plot's command
// line, its value is required, and other commands still refuse it.
TEST(Cli, PlotTakesDashO) {
  auto dir = temp_dir();
  write_text(dir / "log.csv", "eps,certified_accuracy\n0,0.9\n0.1,0.5\n");
  const std::string svg = (dir / "curve.svg").string();
  std::filesystem::remove(svg);
  Result r = run_cli("plot " + (dir / "log.csv").string() + " -o " + svg);
  EXPECT_EQ(r.code, 0) << r.out;
  std::ifstream f(svg);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("certified_accuracy"), std::string::npos);
  std::filesystem::remove(svg);
  EXPECT_EQ(run_cli("plot -o " + svg + " " + (dir / "log.csv").string()).code, 0);
  EXPECT_TRUE(std::filesystem::exists(svg));
  r = run_cli("plot " + (dir / "log.csv").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("plot: -o OUT.svg is required"), std::string::npos) << r.out;
  r = run_cli("plot " + (dir / "log.csv").string() + " -o");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("plot: option '-o' needs a value OUT.svg"), std::string::npos) << r.out;
  r = run_cli("inspect m.json -o x.svg");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("inspect: expected 1 positional argument(s), got 3"), std::string::npos)
      << r.out;
}
