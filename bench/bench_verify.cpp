// Verification benchmarks (docs/performance.md, "Verification"): certified counts per method on
// TorchLean's digits linear classifier against TorchLean's 318/360; CROWN and alpha-CROWN on
// VNN-COMP 2022 mnist_fc 256x2 (time per property, margin bounds); the cost of float32 semantics
// against real (time and looseness). Prints markdown tables.
//
// The mnist_fc properties are read for their input box (the "(assert (<= X_i v))" and
// "(assert (>= X_i v))" lines) and their label (the "; Mnist property with label: L." comment)
// only: this is not a VNN-LIB reader, which is a separate component.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "torchlean/io/onnx.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/verify/robustness.hpp"

namespace {

using namespace torchlean;
using verify::Method;
using verify::Semantics;

const std::string kData = std::string(TORCHLEAN_SOURCE_DIR) + "/../shared/data/";

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  return nlohmann::json::parse(f);
}

void digits() {
  const std::string dir = kData + "torchlean/Verification/Robustness/";
  const nlohmann::json w = read_json(dir + "digits_linear_weights.json");
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{64});
  const int64_t l = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{10});
  Tensor<double> wt(Shape{10, 64}), bias(Shape{10});
  for (int o = 0; o < 10; ++o) {
    bias[o] = w["layers.0.bias"][o].get<double>();
    for (int k = 0; k < 64; ++k) wt[o * 64 + k] = w["layers.0.weight"][o][k].get<double>();
  }
  b.set_payload(l, "weight", wt);
  b.set_payload(l, "bias", bias);
  b.mark_output(l);
  auto [g, p] = std::move(b).finish();
  const nlohmann::json data = read_json(dir + "digits_test.json");
  std::cout << "\n### Digits linear classifier, eps = 0.02, clip [0, 1] (TorchLean: 349 clean, "
               "318/360 certified)\n\n"
            << "| semantics | method | clean | certified | ms / example |\n|---|---|---|---|---|\n";
  for (Semantics sem : {Semantics::real, Semantics::float32}) {
    const verify::RobustnessVerifier v(g, p, sem);
    for (Method m : {Method::ibp, Method::crown, Method::alpha}) {
      verify::RobustnessConfig cfg;
      cfg.method = m;
      cfg.eps = mpq_class(1, 50);
      cfg.clip = std::make_pair(mpq_class(0), mpq_class(1));
      int64_t clean = 0, cert = 0, n = 0;
      const double t0 = now();
      for (const auto& e : data["examples"]) {
        const auto r =
            v.certify(n++, e["x"].get<std::vector<double>>(), e["y"].get<int64_t>(), cfg);
        clean += r.prediction == r.label;
        cert += r.certified;
      }
      std::printf("| %s | %s | %lld | %lld/%lld | %.3f |\n", verify::semantics_name(sem).c_str(),
                  verify::method_name(m).c_str(), static_cast<long long>(clean),
                  static_cast<long long>(cert), static_cast<long long>(n),
                  1000 * (now() - t0) / static_cast<double>(n));
    }
  }
}

struct Property {
  std::vector<double> lo, hi;
  int64_t label = -1;
};

Property read_property(const std::string& gz_path) {
  const std::string cmd = "zcat '" + gz_path + "'";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  Property prop;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    long long i = 0, label = 0;
    double v = 0;
    if (std::sscanf(line, "; Mnist property with label: %lld", &label) == 1) prop.label = label;
    if (std::sscanf(line, "(assert (<= X_%lld %lf))", &i, &v) == 2) {
      if (prop.hi.size() <= static_cast<size_t>(i)) prop.hi.resize(i + 1), prop.lo.resize(i + 1);
      prop.hi[i] = v;
    }
    if (std::sscanf(line, "(assert (>= X_%lld %lf))", &i, &v) == 2) {
      if (prop.lo.size() <= static_cast<size_t>(i)) prop.hi.resize(i + 1), prop.lo.resize(i + 1);
      prop.lo[i] = v;
    }
  }
  pclose(pipe);
  return prop;
}

void mnist_fc() {
  const std::string dir = kData + "vnncomp2022/mnist_fc/";
  const io::OnnxModel m = io::import_onnx_file(dir + "onnx/mnist-net_256x2.onnx.gz", {.batch = 1});
  std::cout << "\n### VNN-COMP 2022 mnist_fc 256x2, eps = 0.03 properties (dev verdicts in "
               "dev_verdicts.csv)\n\n"
            << "| property | verdict | semantics | method | min margin lower | certified | ms |\n"
            << "|---|---|---|---|---|---|---|\n";
  std::ifstream verdicts(kData + "vnncomp2022/dev_verdicts.csv");
  std::string row;
  double time[2][2] = {{0, 0}, {0, 0}}, loose = 0;
  int64_t count = 0, cert[2][2] = {{0, 0}, {0, 0}};
  while (std::getline(verdicts, row)) {
    if (row.rfind("mnist_fc,onnx/mnist-net_256x2.onnx,", 0) != 0) continue;
    std::stringstream ss(row);
    std::string bench, onnx, vnnlib, verdict;
    std::getline(ss, bench, ',');
    std::getline(ss, onnx, ',');
    std::getline(ss, vnnlib, ',');
    std::getline(ss, verdict, ',');
    const Property prop = read_property(dir + vnnlib + ".gz");
    verify::Box box;
    box.lo = prop.lo;
    box.hi = prop.hi;
    double crown_margin[2] = {0, 0};
    for (int s = 0; s < 2; ++s) {
      const Semantics sem = s ? Semantics::float32 : Semantics::real;
      const verify::BoundEngine eng(m.graph, m.payload, sem);
      for (int k = 0; k < 2; ++k) {
        const double t0 = now();
        const verify::NodeBounds nb = eng.crown_bounds(box);
        std::vector<double> C(90, 0.0);
        for (int64_t j = 0, r = 0; j < 10; ++j)
          if (j != prop.label) C[r * 10 + prop.label] = 1, C[r * 10 + j] = -1, ++r;
        verify::AlphaSlopes slopes;
        const std::vector<double> lower =
            k ? eng.alpha_lower(nb, C, 9, 20, slopes) : eng.crown_lower(nb, C, 9);
        const double ms = 1000 * (now() - t0);
        double worst = INFINITY;
        for (double v : lower) worst = std::min(worst, v);
        if (k == 0) crown_margin[s] = worst;
        time[s][k] += ms;
        cert[s][k] += worst > 0;
        std::printf("| %s | %s | %s | %s | %.6g | %s | %.1f |\n", vnnlib.c_str(), verdict.c_str(),
                    verify::semantics_name(sem).c_str(), k ? "alpha" : "crown", worst,
                    worst > 0 ? "yes" : "no", ms);
      }
    }
    loose += crown_margin[0] - crown_margin[1];
    ++count;
  }
  std::printf(
      "\nmean per property: real crown %.1f ms, alpha %.1f ms; float32 crown %.1f ms, alpha %.1f "
      "ms. "
      "certified: real crown %lld, alpha %lld; float32 crown %lld, alpha %lld of %lld. "
      "float32 CROWN margin is lower than real by %.3g on average.\n",
      time[0][0] / count, time[0][1] / count, time[1][0] / count, time[1][1] / count,
      static_cast<long long>(cert[0][0]), static_cast<long long>(cert[0][1]),
      static_cast<long long>(cert[1][0]), static_cast<long long>(cert[1][1]),
      static_cast<long long>(count), loose / static_cast<double>(count));
}

}  // namespace

int main() {
  try {
    digits();
    mnist_fc();
  } catch (const std::exception& e) {
    std::cerr << "bench_verify: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
