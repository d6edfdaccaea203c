// ONNX import against PyTorch: every vnncomp2022 network and three PyTorch-1.13-exported models
// (tests/io/data/onnx/, written by scripts/onnx_models.py) import, check, evaluate, and agree with
// the oracle's outputs; and import -> export -> import is the identity with bit-identical outputs.
//
// Inputs come from SplitMix64(seed) as in the script: x = (next() >> 40) * 2^-23 - 1.
//
// Tolerances. The oracle evaluates the same float64 arithmetic in another summation order (BLAS
// and oneDNN dot products, blocked or pairwise, vs our left folds). For a dot product of length
// n, two orders differ by at most about 2 n u sum|a_i b_i| with u = 2^-53; with n <= 2^12 here
// and a few layers whose absolute sums stay within 10^2 of the outputs' scale, that is below
// 10^-10 * scale. We allow |ours - ref| <= 1e-9 * max(1, |ref|_inf) in f64. Against PyTorch's
// float32 run (u = 2^-24, and erf/exp/tanh from a different libm) the same argument gives about
// 10^-5; we allow 1e-4 * max(1, |ref|_inf). The PyTorch modules run in float64 hold constants
// that the exported file stores in binary32 (LeakyReLU's alpha, GELU's sqrt 2, the epsilons),
// a relative perturbation of up to 2^-24 per constant: against them we allow 1e-6 * scale, and
// 1e-9 * scale against the file itself evaluated in float64 by the script. Measured maxima are
// printed.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "io_test_util.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::io {
namespace {

std::vector<Tensor<double>> splitmix_inputs(uint64_t seed, const ir::Graph& g) {
  SplitMix64 rng(seed);
  std::vector<Tensor<double>> out;
  for (int64_t id : g.input_ids) {
    Tensor<double> t(g.node(id).shape);
    for (double& x : t.vec()) x = static_cast<double>(rng.next() >> 40) * 0x1p-23 - 1.0;
    out.push_back(std::move(t));
  }
  return out;
}

template <class S>
std::vector<Tensor<S>> evaluate(const OnnxModel& m, const std::vector<Tensor<double>>& xs) {
  std::vector<Tensor<S>> in;
  for (const Tensor<double>& x : xs) {
    std::vector<S> v;
    for (double d : x.vec()) v.push_back(S::from_double(d));
    in.emplace_back(x.shape(), std::move(v));
  }
  return interp::evaluate_outputs<S>(m.graph, ir::convert_payload<S>(m.payload), in);
}

// Max |ours - ref| over all outputs, after checking element counts; scale = max(1, |ref|_inf).
template <class S>
double compare(const std::vector<Tensor<S>>& ours, const nlohmann::json& ref, double* scale) {
  EXPECT_EQ(ours.size(), ref.size());
  double worst = 0;
  *scale = 1;
  for (size_t o = 0; o < std::min(ours.size(), ref.size()); ++o) {
    EXPECT_EQ(static_cast<size_t>(ours[o].numel()), ref[o].size()) << "output " << o;
    if (static_cast<size_t>(ours[o].numel()) != ref[o].size()) continue;
    for (int64_t i = 0; i < ours[o].numel(); ++i) {
      const double r = ref[o][static_cast<size_t>(i)].get<double>();
      const double d = std::fabs(ours[o][i].to_double() - r);
      worst = std::isnan(d) ? INFINITY : std::max(worst, d);
      *scale = std::max(*scale, std::fabs(r));
    }
  }
  return worst;
}

nlohmann::json load_reference(const std::string& name) {
  return nlohmann::json::parse(
      read_file_text(test::source_dir() / "tests/io/data/onnx" / name, "reference"));
}

template <class S>
bool same_bits(const std::vector<Tensor<S>>& a, const std::vector<Tensor<S>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t o = 0; o < a.size(); ++o) {
    if (a[o].shape() != b[o].shape()) return false;
    for (int64_t i = 0; i < a[o].numel(); ++i)
      if (test::bits(a[o][i].to_double()) != test::bits(b[o][i].to_double())) return false;
  }
  return true;
}

// import -> export -> import: the same graph, payload values and F32 outputs, bit for bit.
void expect_round_trip(const OnnxModel& m, const std::vector<Tensor<double>>& xs) {
  const std::vector<uint8_t> bytes = export_onnx(m.graph, m.payload);
  OnnxModel back = import_onnx(bytes, {}, "round trip");
  EXPECT_TRUE(back.graph == m.graph) << "graph differs after export/import";
  ASSERT_EQ(back.payload.size(), m.payload.size());
  for (const auto& [id, slots] : m.payload)
    for (const auto& [slot, t] : slots) {
      ASSERT_TRUE(back.payload.count(id) && back.payload.at(id).count(slot)) << id << "." << slot;
      test::expect_same_bits(back.payload.at(id).at(slot), t);
    }
  EXPECT_TRUE(same_bits(evaluate<F32>(m, xs), evaluate<F32>(back, xs)))
      << "F32 outputs differ after round trip";
}

TEST(OnnxModels, Vnncomp2022AgreeWithTorchF64) {
  const nlohmann::json ref = load_reference("vnncomp_reference.json");
  // 45 ACAS Xu, 3 each of five benchmarks, 5 in the `test` folder.
  ASSERT_EQ(ref["models"].size(), 65u);
  double worst = 0;
  for (const auto& m : ref["models"]) {
    const std::string file = m["file"];
    SCOPED_TRACE(file);
    OnnxImportOptions opt;
    if (!m["batch"].is_null()) opt.batch = m["batch"].get<int64_t>();
    OnnxModel model = import_onnx_file(test::shared_data() / file, opt);
    for (const auto& s : m["samples"]) {
      const auto xs = splitmix_inputs(s["seed"].get<uint64_t>(), model.graph);
      double scale = 1;
      const double err = compare(evaluate<F64>(model, xs), s["outputs"], &scale);
      EXPECT_LE(err, 1e-9 * scale) << "seed " << s["seed"];
      worst = std::max(worst, err / scale);
    }
    if (file.find("acasxu") == std::string::npos || file.find("_1_1_") != std::string::npos)
      expect_round_trip(model, splitmix_inputs(3, model.graph));
  }
  std::printf("vnncomp2022: max |f64 - torch f64| / max(1, |ref|) = %.3g\n", worst);
}

TEST(OnnxModels, PytorchExportsAgreeWithTorch) {
  const nlohmann::json ref = load_reference("pytorch_reference.json");
  ASSERT_EQ(ref["models"].size(), 3u);
  for (const auto& m : ref["models"]) {
    const std::string file = m["file"];
    SCOPED_TRACE(file);
    OnnxModel model = import_onnx_file(test::source_dir() / file);
    const auto xs = splitmix_inputs(m["seed"].get<uint64_t>(), model.graph);
    double scale = 1;
    const auto y64 = evaluate<F64>(model, xs);
    const double e_file = compare(y64, m["outputs_file_f64"], &scale);
    EXPECT_LE(e_file, 1e-9 * scale);
    const double e64 = compare(y64, m["outputs_f64"], &scale);
    EXPECT_LE(e64, 1e-6 * scale);
    const double e32 = compare(evaluate<F32>(model, xs), m["outputs_f32"], &scale);
    EXPECT_LE(e32, 1e-4 * scale);
    std::printf(
        "%s: max |f64 - file in torch f64| = %.3g, |f64 - module in torch f64| = %.3g, "
        "|f32 - module in torch f32| = %.3g\n",
        file.c_str(), e_file, e64, e32);
    expect_round_trip(model, xs);
  }
}

}  // namespace
}  // namespace torchlean::io
