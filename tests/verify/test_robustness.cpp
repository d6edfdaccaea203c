// Robustness certification: TorchLean's digits linear classifier (Verification/Robustness, eps =
// 0.02 with the region clipped to [0, 1], which is what TorchLean's logit boxes show), and
// certificates from every method and semantics accepted by the independent checker (cert/).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "torchlean/cert/checker.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/verify/certificate.hpp"
#include "torchlean/verify/robustness.hpp"

namespace torchlean::testing {
namespace {

using verify::Method;
using verify::Semantics;

nlohmann::json read_json(const std::string& rel) {
  std::ifstream f(std::string(TORCHLEAN_SOURCE_DIR) +
                  "/../shared/data/torchlean/Verification/Robustness/" + rel);
  EXPECT_TRUE(f.good()) << rel;
  return nlohmann::json::parse(f);
}

struct Digits {
  ir::Graph g;
  ir::Payload p;
  std::vector<std::vector<double>> x;
  std::vector<int64_t> y;
  nlohmann::json torchlean;
};

const Digits& digits() {
  static const Digits d = [] {
    Digits d;
    const nlohmann::json w = read_json("digits_linear_weights.json");
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
    std::tie(d.g, d.p) = std::move(b).finish();
    const nlohmann::json data = read_json("digits_test.json");
    for (const auto& e : data["examples"]) {
      d.x.push_back(e["x"].get<std::vector<double>>());
      d.y.push_back(e["y"].get<int64_t>());
    }
    d.torchlean = read_json("digits_linear_margin_cert.json");
    return d;
  }();
  return d;
}

verify::RobustnessConfig digits_config(Method m) {
  verify::RobustnessConfig cfg;
  cfg.method = m;
  cfg.eps = mpq_class(1, 50);
  cfg.clip = std::make_pair(mpq_class(0), mpq_class(1));
  return cfg;
}

// TorchLean: 349 of 360 clean-correct, 318 certified by comparing IBP logit boxes. Our IBP margin
// criterion is the same comparison, so it certifies the same examples; CROWN bounds the margin
// logit[label] - logit[j] as one linear function, exactly up to rounding for a linear model, so
// it is never looser than IBP and certifies at least as many. alpha-CROWN has no slopes to
// optimise here and equals CROWN.
TEST(Digits, CountsPerMethodAgainstTorchLean) {
  const Digits& d = digits();
  ASSERT_EQ(d.x.size(), 360u);
  const verify::RobustnessVerifier v(d.g, d.p, Semantics::real);
  int64_t clean = 0, cert_ibp = 0, cert_crown = 0, cert_alpha = 0;
  for (size_t i = 0; i < d.x.size(); ++i) {
    const auto ibp = v.certify(static_cast<int64_t>(i), d.x[i], d.y[i], digits_config(Method::ibp));
    const auto crown =
        v.certify(static_cast<int64_t>(i), d.x[i], d.y[i], digits_config(Method::crown));
    const auto alpha =
        v.certify(static_cast<int64_t>(i), d.x[i], d.y[i], digits_config(Method::alpha));
    const auto& tl = d.torchlean["examples"][i];
    EXPECT_EQ(ibp.prediction, tl["pred"].get<int64_t>()) << i;
    EXPECT_EQ(ibp.certified, tl["certified"].get<bool>()) << i;
    clean += ibp.prediction == d.y[i];
    cert_ibp += ibp.certified;
    cert_crown += crown.certified;
    cert_alpha += alpha.certified;
    for (size_t j = 0; j < ibp.margins.size(); ++j) {
      EXPECT_GE(crown.margins[j].lower, ibp.margins[j].lower) << i;
      EXPECT_GE(alpha.margins[j].lower, crown.margins[j].lower) << i;
    }
  }
  EXPECT_EQ(clean, 349);
  EXPECT_EQ(cert_ibp, 318);
  EXPECT_GE(cert_crown, cert_ibp);
  EXPECT_EQ(cert_alpha, cert_crown);
  std::cout << "digits eps=0.02 real: clean " << clean << ", certified ibp " << cert_ibp
            << ", crown " << cert_crown << ", alpha " << cert_alpha << " (TorchLean 318/360)\n";
}

// float32 semantics adds the binary32 rounding of the 65-term dot products: never more certified.
TEST(Digits, Float32NeverCertifiesMoreThanReal) {
  const Digits& d = digits();
  const verify::RobustnessVerifier real(d.g, d.p, Semantics::real),
      f32(d.g, d.p, Semantics::float32);
  for (size_t i = 0; i < 60; ++i) {
    const auto r =
        real.certify(static_cast<int64_t>(i), d.x[i], d.y[i], digits_config(Method::crown));
    const auto f =
        f32.certify(static_cast<int64_t>(i), d.x[i], d.y[i], digits_config(Method::crown));
    EXPECT_LE(f.certified, r.certified) << i;
    for (size_t j = 0; j < r.margins.size(); ++j)
      EXPECT_LT(f.margins[j].lower, r.margins[j].lower) << i;
  }
}

// A ReLU MLP (6-8-8-8-3): certificates of every method and semantics pass the exact checker.
std::pair<ir::Graph, ir::Payload> small_mlp() {
  SplitMix64 rng(99);
  auto rnd = [&rng](Shape s, double scale) {
    Tensor<double> t(std::move(s));
    for (double& v : t.vec())
      v = static_cast<float>((static_cast<double>(rng.next() >> 11) * 0x1p-53 * 2 - 1) * scale);
    return t;
  };
  ir::GraphBuilder b;
  int64_t x = b.input(Shape{6});
  int64_t width = 6;
  for (int l = 0; l < 3; ++l) {
    const int64_t id = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{8});
    b.set_payload(id, "weight", rnd(Shape{8, width}, 1));
    b.set_payload(id, "bias", rnd(Shape{8}, 0.3));
    x = b.add(ir::OpKind::relu, {id});
    width = 8;
  }
  const int64_t out = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{3});
  b.set_payload(out, "weight", rnd(Shape{3, 8}, 1));
  b.set_payload(out, "bias", rnd(Shape{3}, 0.3));
  b.mark_output(out);
  return std::move(b).finish();
}

TEST(Certificates, EveryMethodAndSemanticsIsAccepted) {
  auto [g, p] = small_mlp();
  SplitMix64 rng(5);
  for (Semantics sem : {Semantics::real, Semantics::float32}) {
    const verify::RobustnessVerifier v(g, p, sem);
    for (Method m : {Method::ibp, Method::crown, Method::alpha}) {
      verify::RobustnessConfig cfg;
      cfg.method = m;
      cfg.eps = mpq_class(1, 16);
      std::vector<verify::ExampleResult> results;
      int64_t certified = 0;
      for (int i = 0; i < 6; ++i) {
        std::vector<double> x(6);
        for (double& e : x) e = static_cast<float>(static_cast<double>(rng.next() >> 11) * 0x1p-53);
        const int64_t label = v.predict(x);
        results.push_back(v.certify(i, x, label, cfg));
        certified += results.back().certified;
      }
      // The claims exercise the relaxation: some claimed pre-activation boxes straddle 0.
      int64_t unstable = 0;
      for (const auto& r : results) {
        for (const auto& l : r.layers) {
          for (size_t e = 0; e < l.lower.size(); ++e) unstable += l.lower[e] < 0 && l.upper[e] > 0;
        }
      }
      if (m != Method::ibp) {
        EXPECT_GT(unstable, 0);
      }
      const std::string text = verify::certificate_json(g, p, sem, cfg, results).dump();
      const cert::CheckReport rep =
          cert::check_certificate(cert::parse_certificate(text, "cert.json"), g, p);
      EXPECT_TRUE(rep.accepted) << verify::semantics_name(sem) << " " << verify::method_name(m)
                                << ": " << rep.reason;
      EXPECT_EQ(rep.certified, certified);
    }
  }
}

}  // namespace
}  // namespace torchlean::testing
