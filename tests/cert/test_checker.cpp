// The checker on hand-built certificates for tiny_net (cert_test_util.hpp), with every bound
// derived by hand below, and the tamperings that must be rejected.
//
// Region: x = (1, 0.5), eps = 1/2, so x1 in [0.5, 1.5], x2 in [0, 1].
//   z1 = x1 + x2 in [0.5, 2.5] (active), z2 = x1 - x2 in [-0.5, 1.5] (unstable); exact, since the
//   first layer's IBP box is its exact range.
//   Clean logits at x: z = (1.5, 0.5), y = (2.5, 0.5): prediction 0.
// Label 0, class 1, margin m = y0 - y1 = 1 + h1 - h2.
//   IBP (one affine step over the relu boxes h1 in [0.5,2.5], h2 in [0,1.5]): 1 + 0.5 - 1.5 = 0.
//   CROWN: h1 = z1; h2 <= s z2 + t with s = 1.5/2 = 3/4, t = 0.5*1.5/2 = 3/8, so
//   m >= 1 + z1 - 3/4 z2 - 3/8 = 5/8 + 1/4 x1 + 7/4 x2 >= 5/8 + 1/8 = 3/4 (x1 = 0.5, x2 = 0).
// Label 1, class 0, margin m' = h2 - h1 - 1, lower line h2 >= a z2:
//   m' >= (a - 1) x1 - (a + 1) x2 - 1 >= 0.5 a - 3.5 (x1 = 1.5, x2 = 1): -3 for the adaptive
//   default a = 1 (u = 1.5 >= -l = 0.5), -3.5 for a = 0.
#include <gtest/gtest.h>

#include <cmath>

#include "cert_test_util.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::cert::test {
namespace {

using nlohmann::json;

json relu_layer(std::vector<double> lo, std::vector<double> hi, json alpha = json::object()) {
  json layer = {{"node", 2}, {"lower", lo}, {"upper", hi}};
  if (!alpha.empty()) layer["alpha"] = alpha;
  return {{"layers", json::array({layer})}};
}

ExampleSpec label0(double claim, std::string_view method = "crown") {
  ExampleSpec e;
  e.x = {1.0, 0.5};
  e.label = 0;
  e.prediction = 0;
  e.certified = claim > 0;
  e.margins = {{1, claim}};
  if (method != "ibp") e.relaxation = relu_layer({0.5, -0.5}, {2.5, 1.5});
  return e;
}

TEST(Checker, CrownMarginAcceptedAtTheExactBound) {
  auto [g, p] = tiny_net();
  CheckReport r = check_json(make_cert(g, p, "real", "crown", "1/2", {label0(0.75)}), g, p);
  EXPECT_TRUE(r.accepted) << r.reason;
  EXPECT_EQ(r.certified, 1);
  EXPECT_EQ(r.margins_checked, 1);
  EXPECT_EQ(r.layer_bounds_checked, 2);
}

TEST(Checker, MarginRaisedOneUlpAboveExactIsRejected) {
  auto [g, p] = tiny_net();
  CheckReport r = check_json(
      make_cert(g, p, "real", "crown", "1/2", {label0(std::nextafter(0.75, 1.0))}), g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_NE(r.reason.find("example 0 (index 0): class 1: claimed lower bound"), std::string::npos)
      << r.reason;
  EXPECT_NE(r.reason.find("exact crown bound is 0.75 (= 3/4)"), std::string::npos) << r.reason;
}

TEST(Checker, IbpMethodGivesTheIbpBoundOnly) {
  auto [g, p] = tiny_net();
  EXPECT_TRUE(
      check_json(make_cert(g, p, "real", "ibp", "1/2", {label0(0.0, "ibp")}), g, p).accepted);
  // 0 is not > 0: certified must be false.
  ExampleSpec e = label0(0.0, "ibp");
  e.certified = true;
  CheckReport r = check_json(make_cert(g, p, "real", "ibp", "1/2", {e}), g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_NE(r.reason.find("certified, but the margin against class 1 is 0"), std::string::npos)
      << r.reason;
  // 3/4 needs CROWN.
  r = check_json(make_cert(g, p, "real", "ibp", "1/2", {label0(0.75, "ibp")}), g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_NE(r.reason.find("exact ibp bound is 0"), std::string::npos) << r.reason;
}

TEST(Checker, AlphaSlopesArePerObjective) {
  auto [g, p] = tiny_net();
  ExampleSpec e;
  e.x = {1.0, 0.5};
  e.label = 1;
  e.prediction = 0;
  e.margins = {{0, -3.0}};
  e.relaxation = relu_layer({0.5, -0.5}, {2.5, 1.5});
  EXPECT_TRUE(check_json(make_cert(g, p, "real", "crown", "1/2", {e}), g, p).accepted);
  e.relaxation = relu_layer({0.5, -0.5}, {2.5, 1.5}, {{"0", {0.0, 1.0}}});
  EXPECT_TRUE(check_json(make_cert(g, p, "real", "alpha", "1/2", {e}), g, p).accepted);
  e.relaxation = relu_layer({0.5, -0.5}, {2.5, 1.5}, {{"0", {1.0, 0.0}}});
  CheckReport r = check_json(make_cert(g, p, "real", "alpha", "1/2", {e}), g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_NE(r.reason.find("exact alpha bound is -3.5"), std::string::npos) << r.reason;
  e.margins = {{0, -3.5}};
  EXPECT_TRUE(check_json(make_cert(g, p, "real", "alpha", "1/2", {e}), g, p).accepted);
}

TEST(Checker, AlphaOutsideUnitIntervalIsAReaderError) {
  auto [g, p] = tiny_net();
  ExampleSpec e = label0(0.75);
  e.relaxation = relu_layer({0.5, -0.5}, {2.5, 1.5}, {{"1", {0.5, 1.5}}});
  json j = make_cert(g, p, "real", "alpha", "1/2", {e});
  try {
    parse_certificate(j.dump(), "c.json");
    FAIL() << "accepted alpha 1.5";
  } catch (const UserError& err) {
    EXPECT_EQ(
        std::string(err.what()),
        "c.json: examples[0].relaxation.layers[0].alpha[\"1\"][1]: alpha 1.5 is outside [0,1]");
  }
}

TEST(Checker, IntermediateBoundTighterThanSoundIsRejected) {
  auto [g, p] = tiny_net();
  ExampleSpec e = label0(0.5);
  e.relaxation = relu_layer({0.5, -0.25}, {2.5, 1.5});  // z2 really reaches -0.5
  CheckReport r = check_json(make_cert(g, p, "real", "crown", "1/2", {e}), g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.reason,
            "example 0 (index 0): claimed lower bound -0.25 (= -1/4) of node 1[1] (input of relu "
            "node 2) is above the exact bound -0.5 (= -1/2)");
  e.relaxation = relu_layer({0.5, -0.5}, {2.5, 1.25});
  r = check_json(make_cert(g, p, "real", "crown", "1/2", {e}), g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_NE(r.reason.find("claimed upper bound 1.25"), std::string::npos) << r.reason;
}

TEST(Checker, LooserIntermediateBoundsChangeTheRelaxation) {
  // Claim z2 in [-1.5, 1.5] (sound, loose): s = 1/2, t = 3/4, so the margin bound is
  // 1 + z1 - z2/2 - 3/4 = 1/4 + x1/2 + 3/2 x2 >= 1/2.
  auto [g, p] = tiny_net();
  ExampleSpec e = label0(0.5);
  e.relaxation = relu_layer({0.5, -1.5}, {2.5, 1.5});
  EXPECT_TRUE(check_json(make_cert(g, p, "real", "crown", "1/2", {e}), g, p).accepted);
  e.margins = {{1, std::nextafter(0.5, 1.0)}};
  EXPECT_FALSE(check_json(make_cert(g, p, "real", "crown", "1/2", {e}), g, p).accepted);
}

TEST(Checker, FlippedLabelIsRejected) {
  auto [g, p] = tiny_net();
  json j = make_cert(g, p, "real", "crown", "1/2", {label0(0.75)});
  j["examples"][0]["label"] = 1;
  j["examples"][0]["margins"][0]["class"] = 0;
  CheckReport r = check_json(j, g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.reason.rfind("spec hash mismatch", 0), 0u) << r.reason;
  rehash_spec(j);  // a consistent but false certificate: label 1 is not robust at all
  r = check_json(j, g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_NE(r.reason.find("class 0: claimed lower bound 0.75"), std::string::npos) << r.reason;
}

TEST(Checker, WrongPredictionIsRejected) {
  auto [g, p] = tiny_net();
  ExampleSpec e = label0(0.75);
  e.prediction = 1;
  CheckReport r = check_json(make_cert(g, p, "real", "crown", "1/2", {e}), g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.reason,
            "example 0 (index 0): prediction 1 but the argmax at x in real semantics is 0");
}

TEST(Checker, ChangedWeightIsRejected) {
  auto [g, p] = tiny_net();
  json j = make_cert(g, p, "real", "crown", "1/2", {label0(0.75)});
  auto [g2, p2] = tiny_net(-1.0);  // z1 = x1 - x2
  CheckReport r = check_json(j, g2, p2);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.reason.rfind("model hash mismatch", 0), 0u) << r.reason;
  // With the hash recomputed the claims themselves fail: z1 now ranges over [-0.5, 1.5].
  j["model_sha256"] = ir::model_sha256_hex(g2, p2);
  r = check_json(j, g2, p2);
  EXPECT_FALSE(r.accepted);
  EXPECT_NE(r.reason.find("claimed lower bound 0.5 (= 1/2) of node 1[0]"), std::string::npos)
      << r.reason;
}

TEST(Checker, WrongSpecHashIsRejected) {
  auto [g, p] = tiny_net();
  json j = make_cert(g, p, "real", "crown", "1/2", {label0(0.75)});
  j["spec_sha256"] = std::string(64, '0');
  CheckReport r = check_json(j, g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.reason.rfind("spec hash mismatch: the certificate states 0000", 0), 0u) << r.reason;
  // The caller's own spec hash must match too.
  j = make_cert(g, p, "real", "crown", "1/2", {label0(0.75)});
  CheckOptions opt;
  opt.expected_spec_sha256 = std::string(64, 'a');
  r = check_certificate(parse_certificate(j.dump(), "c.json"), g, p, opt);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.reason.rfind("spec hash mismatch: expected aaaa", 0), 0u) << r.reason;
}

TEST(Checker, EpsChangeBreaksTheSpecHash) {
  auto [g, p] = tiny_net();
  json j = make_cert(g, p, "real", "crown", "1/2", {label0(0.75)});
  j["eps"] = "1/4";
  EXPECT_FALSE(check_json(j, g, p).accepted);
}

// float32 semantics. Every weight and input is a binary32 value. With u = 2^-24, eta = 2^-149,
// gamma3 = 3u/(1-3u): each layer is a 2-term dot product plus a bias (n = 3 roundings).
//   layer 1: S = 1.5 + 1 for both rows, e1 = gamma3 * 5/2 + 3 eta; boxes z1 in [0.5-e1, 2.5+e1],
//            z2 in [-0.5-e1, 1.5+e1].
//   relu relaxed over the claims z1 in [0.5-d, 2.5+d], z2 in [-0.5-d, 1.5+d], d = 2^-20 (sound:
//            e1 < d); the boxes used for the next S are the intersections (the IBP boxes).
//   layer 2: e_y0 = gamma3 (1 + 2.5 + e1) + 3 eta, e_y1 = gamma3 (1.5 + e1) + 3 eta.
//   margin: 1 - e_y0 - e_y1 + [h1 - h2 relaxed]: h2 <= s z2 + t with s = u2/(u2-l2),
//            t = -l2 u2/(u2-l2); then z1 - s z2 through layer 1 costs e1 + s e1, and
//            (1-s) x1 + (1+s) x2 is smallest at x = (0.5, 0):
//   bound = 1 - e_y0 - e_y1 - t + (1 - s)/2 - (1 + s) e1.
mpq_class f32_margin_bound() {
  const mpq_class u = mpq_class(1, 1 << 24), eta = mpq_class(1) / (mpq_class(mpz_class(1) << 149));
  const mpq_class g3 = 3 * u / (1 - 3 * u), d = mpq_class(1, 1 << 20);
  const mpq_class e1 = g3 * mpq_class(5, 2) + 3 * eta;
  const mpq_class ey0 = g3 * (mpq_class(7, 2) + e1) + 3 * eta,
                  ey1 = g3 * (mpq_class(3, 2) + e1) + 3 * eta;
  const mpq_class l2 = mpq_class(-1, 2) - d, u2 = mpq_class(3, 2) + d;
  const mpq_class s = u2 / (u2 - l2), t = -l2 * u2 / (u2 - l2);
  return 1 - ey0 - ey1 - t + (1 - s) / 2 - (1 + s) * e1;
}

ExampleSpec f32_example(double claim) {
  const double d = std::ldexp(1.0, -20);
  ExampleSpec e = label0(claim);
  e.relaxation = relu_layer({0.5 - d, -0.5 - d}, {2.5 + d, 1.5 + d});
  return e;
}

TEST(Checker, Float32MarginAtTheExactRoundingBound) {
  auto [g, p] = tiny_net();
  const mpq_class exact = f32_margin_bound();
  double below = exact.get_d();  // get_d truncates toward zero: <= exact for a positive value
  ASSERT_LE(mpq_class(below), exact);
  double above = std::nextafter(below, 1.0);
  ASSERT_GT(mpq_class(above), exact);
  EXPECT_TRUE(
      check_json(make_cert(g, p, "float32", "crown", "1/2", {f32_example(below)}), g, p).accepted);
  CheckReport r =
      check_json(make_cert(g, p, "float32", "crown", "1/2", {f32_example(above)}), g, p);
  EXPECT_FALSE(r.accepted);
  // The real-semantics bound 3/4 does not hold for the binary32 network.
  r = check_json(make_cert(g, p, "float32", "crown", "1/2", {f32_example(0.75)}), g, p);
  EXPECT_FALSE(r.accepted);
}

TEST(Checker, Float32RealBoundsAreNotSoundIntermediateClaims) {
  auto [g, p] = tiny_net();
  // The exact real range of z1 misses the rounding error of layer 1.
  CheckReport r = check_json(make_cert(g, p, "float32", "crown", "1/2", {label0(0.5)}), g, p);
  EXPECT_FALSE(r.accepted);
  EXPECT_NE(r.reason.find("claimed lower bound 0.5 (= 1/2) of node 1[0]"), std::string::npos)
      << r.reason;
}

}  // namespace
}  // namespace torchlean::cert::test
