// Certificates written by the verifier (verify::RobustnessVerifier + verify::certificate_json) for
// a small random ReLU MLP, replayed by the independent checker in both semantics and with every
// method; then the tamperings that must be rejected. (This test links both libraries; the
// torchlean_cert library itself never links verify.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "torchlean/cert/checker.hpp"
#include "torchlean/cert/spec_hash.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/ir/model_hash.hpp"
#include "torchlean/scalar/f32.hpp"
#include "torchlean/verify/certificate.hpp"
#include "torchlean/verify/robustness.hpp"

namespace torchlean::cert {
namespace {

using nlohmann::json;

constexpr int64_t kIn = 6, kClasses = 4;

// 6 -> 12 -> relu -> 10 -> relu -> 4 with binary32 weights (the same model in both semantics).
std::pair<ir::Graph, ir::Payload> mlp(double bias_shift = 0) {
  SplitMix64 rng(2026);
  auto uniform = [&] {
    return static_cast<double>(static_cast<float>((rng.next() >> 11) * 0x1p-53 * 2 - 1));
  };
  ir::GraphBuilder b;
  int64_t cur = b.input(Shape{kIn});
  int64_t in = kIn;
  const std::vector<int64_t> widths = {12, 10, kClasses};
  for (size_t l = 0; l < widths.size(); ++l) {
    const int64_t out = widths[l];
    std::vector<double> w(static_cast<size_t>(out * in)), bias(static_cast<size_t>(out));
    for (double& v : w) v = uniform();
    for (double& v : bias) v = uniform() / 4;
    if (l == 0) bias[0] += bias_shift;
    cur = b.add(ir::OpKind::linear, {cur}, ir::NoAttrs{}, Shape{out});
    b.set_payload(cur, "weight", Tensor<double>(Shape{out, in}, w));
    b.set_payload(cur, "bias", Tensor<double>(Shape{out}, bias));
    if (l + 1 < widths.size()) cur = b.add(ir::OpKind::relu, {cur});
    in = out;
  }
  b.mark_output(cur);
  return std::move(b).finish();
}

std::vector<std::vector<double>> inputs() {
  SplitMix64 rng(7);
  std::vector<std::vector<double>> xs(5);
  for (auto& x : xs)
    for (int64_t i = 0; i < kIn; ++i) x.push_back(static_cast<float>((rng.next() >> 11) * 0x1p-53));
  return xs;
}

json verifier_cert(const ir::Graph& g, const ir::Payload& p, verify::Semantics sem,
                   verify::Method m) {
  verify::RobustnessConfig cfg;
  cfg.method = m;
  cfg.eps = mpq_class(1, 40);
  cfg.clip = std::make_pair(mpq_class(0), mpq_class(1));
  cfg.alpha_iterations = 5;
  verify::RobustnessVerifier v(g, p, sem);
  std::vector<verify::ExampleResult> results;
  int64_t index = 0;
  for (const auto& x : inputs()) {
    const int64_t label = v.predict(x);
    results.push_back(v.certify(index++, x, label, cfg));
  }
  return json::parse(verify::certificate_json(g, p, sem, cfg, results).dump());
}

CheckReport check(const json& j, const ir::Graph& g, const ir::Payload& p) {
  return check_certificate(parse_certificate(j.dump(), "verify.json"), g, p);
}

void rehash_spec(json& j) {
  Certificate c = parse_certificate(j.dump(), "rehash");
  j["spec_sha256"] = spec_sha256_hex(c.spec());
}

struct Case {
  verify::Semantics sem;
  verify::Method method;
};

class VerifierCerts : public ::testing::TestWithParam<Case> {};

TEST_P(VerifierCerts, AcceptedThenEveryTamperingRejected) {
  auto [g, p] = mlp();
  const json cert = verifier_cert(g, p, GetParam().sem, GetParam().method);
  CheckReport r = check(cert, g, p);
  ASSERT_TRUE(r.accepted) << r.reason;
  EXPECT_EQ(r.examples, 5);
  EXPECT_EQ(r.margins_checked, 5 * (kClasses - 1));

  // A margin raised above the margin at x itself: no sound bound over the region reaches it.
  {
    json t = cert;
    json& e = t["examples"][0];
    const std::vector<double> x = e["x"].get<std::vector<double>>();
    ir::PayloadStore<F64> p64 = ir::convert_payload<F64>(p);
    std::vector<Tensor<F64>> in64 = {Tensor<F64>(Shape{kIn}, std::vector<F64>(x.begin(), x.end()))};
    Tensor<F64> y = interp::evaluate_outputs<F64>(g, p64, in64)[0];
    const int64_t label = e["label"].get<int64_t>(), cls = e["margins"][0]["class"].get<int64_t>();
    e["margins"][0]["lower"] = y[label].to_double() - y[cls].to_double() + 0.5;
    CheckReport tr = check(t, g, p);
    EXPECT_FALSE(tr.accepted);
    EXPECT_NE(tr.reason.find("example 0 (index 0): class " + std::to_string(cls) +
                             ": claimed lower bound"),
              std::string::npos)
        << tr.reason;
  }
  // A flipped label: the spec hash breaks; re-hashed, the claims no longer match the objectives.
  {
    json t = cert;
    json& e = t["examples"][1];
    e["label"] = (e["label"].get<int64_t>() + 1) % kClasses;
    EXPECT_EQ(check(t, g, p).reason.rfind("spec hash mismatch", 0), 0u);
    rehash_spec(t);
    EXPECT_FALSE(check(t, g, p).accepted);
  }
  // A changed weight: hash mismatch; with the hash recomputed, the first layer's neuron 0 moved
  // by +100 (its bias), so its claimed bounds (width far below 100) cannot hold.
  {
    auto [g2, p2] = mlp(100.0);
    EXPECT_EQ(check(cert, g2, p2).reason.rfind("model hash mismatch", 0), 0u);
    json t = cert;
    t["model_sha256"] = ir::model_sha256_hex(g2, p2);
    CheckReport tr = check(t, g2, p2);
    EXPECT_FALSE(tr.accepted);
    // Even with every prediction updated to the changed model's, neuron 0's claim fails.
    verify::RobustnessVerifier v2(g2, p2, GetParam().sem);
    for (json& e : t["examples"]) e["prediction"] = v2.predict(e["x"].get<std::vector<double>>());
    tr = check(t, g2, p2);
    EXPECT_FALSE(tr.accepted);
    if (GetParam().method != verify::Method::ibp) {
      EXPECT_NE(tr.reason.find("of node 1[0] (input of relu node 2)"), std::string::npos)
          << tr.reason;
    }
  }
  // A wrong spec hash.
  {
    json t = cert;
    std::string h = t["spec_sha256"].get<std::string>();
    h[0] = h[0] == '0' ? '1' : '0';
    t["spec_sha256"] = h;
    EXPECT_EQ(check(t, g, p).reason.rfind("spec hash mismatch", 0), 0u);
  }
  // Truncated JSON.
  {
    const std::string text = cert.dump();
    EXPECT_THROW(parse_certificate(text.substr(0, text.size() / 2), "t.json"), UserError);
  }
  if (GetParam().method == verify::Method::ibp) return;
  // An intermediate claim tighter than sound: neuron 0 of the first layer collapsed to a point
  // (its exact range has positive width: eps > 0 and nonzero weights).
  {
    json t = cert;
    json& layer = t["examples"][0]["relaxation"]["layers"][0];
    const double mid = (layer["lower"][0].get<double>() + layer["upper"][0].get<double>()) / 2;
    layer["lower"][0] = mid;
    layer["upper"][0] = mid;
    CheckReport tr = check(t, g, p);
    EXPECT_FALSE(tr.accepted);
    EXPECT_NE(tr.reason.find("of node 1[0] (input of relu node 2)"), std::string::npos)
        << tr.reason;
  }
  // An alpha outside [0, 1].
  if (GetParam().method == verify::Method::alpha) {
    json t = cert;
    json& alpha = t["examples"][0]["relaxation"]["layers"][0]["alpha"];
    ASSERT_FALSE(alpha.empty());
    alpha.begin().value()[0] = 1.5;
    EXPECT_THROW(parse_certificate(t.dump(), "t.json"), UserError);
  }
}

// (1,1,5,5) -> conv2d_nchw 2x(3x3), pad 1, bias -> relu -> avg_pool2d_nchw 2x2 stride 2, ceil mode,
// pad 1 on the right/bottom, count_include_pad off (so divisors 4, 2 and 1 occur) ->
// max_pool2d_nchw 2x2 stride 1 -> flatten -> linear 3.
std::pair<ir::Graph, ir::Payload> cnn() {
  SplitMix64 rng(99);
  auto uniform = [&] {
    return static_cast<double>(static_cast<float>((rng.next() >> 11) * 0x1p-53 * 2 - 1));
  };
  auto tensor = [&](Shape s) {
    std::vector<double> v(static_cast<size_t>(s.numel()));
    for (double& x : v) x = uniform();
    return Tensor<double>(std::move(s), std::move(v));
  };
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{1, 1, 5, 5});
  const int64_t w = b.constant(tensor(Shape{2, 1, 3, 3}));
  const int64_t bias = b.constant(tensor(Shape{2}));
  ir::Conv2dNchwAttrs ca;
  ca.pad_top = ca.pad_left = ca.pad_bottom = ca.pad_right = 1;
  const int64_t c = b.add(ir::OpKind::conv2d_nchw, {x, w, bias}, ca);
  const int64_t r = b.add(ir::OpKind::relu, {c});
  ir::PoolNchwAttrs pa;
  pa.kH = pa.kW = 2;
  pa.stride_h = pa.stride_w = 2;
  pa.pad_bottom = pa.pad_right = 1;
  pa.ceil_mode = true;
  const int64_t avg = b.add(ir::OpKind::avg_pool2d_nchw, {r}, pa);
  ir::PoolNchwAttrs ma;
  ma.kH = ma.kW = 2;
  const int64_t pool = b.add(ir::OpKind::max_pool2d_nchw, {avg}, ma);
  const int64_t f = b.add(ir::OpKind::flatten, {pool}, ir::FlattenAttrs{b.shape(pool)});
  const int64_t y = b.add(ir::OpKind::linear, {f}, ir::NoAttrs{}, Shape{3});
  b.set_payload(y, "weight", tensor(Shape{3, b.shape(f).numel()}));
  b.set_payload(y, "bias", tensor(Shape{3}));
  b.mark_output(y);
  return std::move(b).finish();
}

TEST_P(VerifierCerts, ConvolutionalNetworkAccepted) {
  auto [g, p] = cnn();
  verify::RobustnessConfig cfg;
  cfg.method = GetParam().method;
  cfg.eps = mpq_class(1, 50);
  cfg.alpha_iterations = 5;
  verify::RobustnessVerifier v(g, p, GetParam().sem);
  std::vector<verify::ExampleResult> results;
  SplitMix64 rng(5);
  for (int64_t i = 0; i < 3; ++i) {
    std::vector<double> x;
    for (int k = 0; k < 25; ++k) x.push_back(static_cast<float>((rng.next() >> 11) * 0x1p-53));
    results.push_back(v.certify(i, x, v.predict(x), cfg));
  }
  json cert = json::parse(verify::certificate_json(g, p, GetParam().sem, cfg, results).dump());
  CheckReport r = check(cert, g, p);
  EXPECT_TRUE(r.accepted) << r.reason;
  EXPECT_EQ(r.margins_checked, 3 * 2);
}

INSTANTIATE_TEST_SUITE_P(AllSemanticsAndMethods, VerifierCerts,
                         ::testing::Values(Case{verify::Semantics::real, verify::Method::ibp},
                                           Case{verify::Semantics::real, verify::Method::crown},
                                           Case{verify::Semantics::real, verify::Method::alpha},
                                           Case{verify::Semantics::float32, verify::Method::ibp},
                                           Case{verify::Semantics::float32, verify::Method::crown},
                                           Case{verify::Semantics::float32,
                                                verify::Method::alpha}));

}  // namespace
}  // namespace torchlean::cert
