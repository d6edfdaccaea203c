// TorchLean's own certificate fixtures (../shared/data/torchlean/Verification), checked against
// bounds recomputed exactly. Expected counts come from the fixture's own summary (360 examples,
// 349 nominally correct, 318 certified) and TorchLean's documented semantics; the LiRPA result
// boxes are re-derived by hand in the comments.
#include <gtest/gtest.h>

#include "torchlean/cert/torchlean_interop.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::cert {
namespace {

const std::string kData = TORCHLEAN_SOURCE_DIR "/../shared/data/torchlean/Verification/";

// The fixture's logit intervals were computed in plain round-to-nearest binary64 (TorchLean's
// exporter does not round outward), so most of them miss the exact range by a few ulps. The
// expected counts were computed independently with Python's fractions module over the same three
// files: 1686 of the 3600 (example, class) intervals enclose the exact range, no example has all
// ten sound, every "pred" is the exact argmax, and all 318 certified examples are robust by the
// exact margin min over the clipped box of (W[label]-W[j]) x + b[label]-b[j] > 0.
TEST(TorchLeanInterop, DigitsMarginCertificate) {
  MarginCertV01Report r = check_margin_cert_v0_1(
      kData + "Robustness/digits_linear_margin_cert.json",
      kData + "Robustness/digits_linear_weights.json", kData + "Robustness/digits_test.json");
  EXPECT_TRUE(r.weights_hash_ok);
  EXPECT_TRUE(r.dataset_hash_ok);
  EXPECT_EQ(r.examples, 360);
  EXPECT_EQ(r.certified_claimed, 318);
  EXPECT_EQ(r.flag_consistent, 360);
  EXPECT_EQ(r.pred_agree, 360);
  EXPECT_EQ(r.certified_confirmed, 318);
  EXPECT_EQ(r.intervals, 3600);
  EXPECT_EQ(r.intervals_sound, 1686);
  EXPECT_EQ(r.bounds_sound, 0);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_EQ(r.problems[0].rfind(
                "id 0: class 5 claimed [-5.780080342516885, -3.471410013931453] misses", 0),
            0u)
      << r.problems[0];
}

TEST(TorchLeanInterop, MarginCertificateErrors) {
  EXPECT_THROW(check_margin_cert_v0_1(kData + "LiRPA/mlp_cert.json",
                                      kData + "Robustness/digits_linear_weights.json",
                                      kData + "Robustness/digits_test.json"),
               UserError);
  EXPECT_THROW(check_lirpa_cert(kData + "Robustness/digits_test.json"), UserError);
  EXPECT_THROW(torchlean_workflow_graph("gru_gate_workflow_v1"), UserError);
}

// mlp: x in [0,2] x [1,3] x [2,4] (the box in the file). All weights are positive, so every
// bound is attained at a corner: h_i = sum_j (1+i+j) x_j + i + 1 is (9,13,17,21) at lo and
// (21,31,41,51) at hi; y0 = 2h0+3h1+4h2+5h3 in [230, 554], y1 = 3h0+4h1+5h2+6h3+1 in [291, 699],
// exactly the claim: sound.
TEST(TorchLeanInterop, LirpaMlpCertificateIsSound) {
  LirpaCertReport r = check_lirpa_cert(kData + "LiRPA/mlp_cert.json");
  EXPECT_EQ(r.graph, "mlp_graph_workflow_v1");
  EXPECT_EQ(r.node, 3);
  EXPECT_EQ(r.dim, 2);
  EXPECT_EQ(r.sound, 2);
  EXPECT_TRUE(r.problems.empty());
}

// cnn: x in [0.9, 1.1] (binary64 0.9 and 1.1 = 1.1 + 8.9e-17); each conv output is 27 x (the
// kernel sums to 27), y0 = 14 h and y1 = 18 h + 1. The exact upper bounds exceed the claimed
// 415.8 and 535.6 by about 3e-14 because 1.1 rounds up in binary64, and y1's lower bound
// 18 * 27 * 0.9d + 1 lies below the claimed 438.40000000000003; only y0's lower bound holds.
TEST(TorchLeanInterop, LirpaCnnCertificateMissesByUlps) {
  LirpaCertReport r = check_lirpa_cert(kData + "LiRPA/cnn_cert.json");
  EXPECT_EQ(r.graph, "cnn_graph_workflow_v1");
  EXPECT_EQ(r.dim, 2);
  EXPECT_EQ(r.sound, 0);
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.problems[0].rfind("result[0] claimed [340.2, 415.8] misses", 0), 0u) << r.problems[0];
}

}  // namespace
}  // namespace torchlean::cert
