// The engines on networks whose bounds are derived by hand, TorchLean's LiRPA fixtures, and
// random networks (soundness by sampling with zero violations in both semantics; alpha-CROWN
// never looser than CROWN).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "soundness.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/cert/checker.hpp"
#include "torchlean/verify/certificate.hpp"
#include "torchlean/verify/engine.hpp"
#include "torchlean/verify/robustness.hpp"

namespace torchlean::testing {
namespace {

using ir::GraphBuilder;
using ir::OpKind;
using verify::Box;
using verify::Semantics;

Tensor<double> mat(Shape s, std::vector<double> v) {
  return Tensor<double>(std::move(s), std::move(v));
}

int64_t linear(GraphBuilder& b, int64_t x, Tensor<double> w, Tensor<double> bias) {
  const int64_t id = b.add(OpKind::linear, {x}, ir::NoAttrs{}, Shape{w.shape()[0]});
  b.set_payload(id, "weight", std::move(w));
  b.set_payload(id, "bias", std::move(bias));
  return id;
}

Box box_of(std::vector<double> lo, std::vector<double> hi) {
  Box b;
  b.lo = std::move(lo);
  b.hi = std::move(hi);
  return b;
}

// x in [-1, 2] x [-1, 1]; z = W1 x with W1 = [[1, 1], [1, -1]], h = relu(z), y = W2 h + b2 with
// W2 = [[1, 1], [1, -1]], b2 = [0, 1]. Margin of class 0 over class 1: y0 - y1 = 2 h2 - 1.
//   z1 = x1 + x2 and z2 = x1 - x2 both range over [-2, 3] (exact: the first layer is affine).
//   IBP:   y0 in [0, 6], y1 = h1 - h2 + 1 in [0 - 3 + 1, 3 - 0 + 1] = [-2, 4]: margin >= 0 - 4 =
//   -4. CROWN: h1's coefficient cancels (1 - 1); h2's is 2 > 0, so the lower line h2 >= a z2 with
//   the
//          adaptive a = 1 (u = 3 >= -l = 2): 2 (x1 - x2) - 1 >= 2 (-1 - 1) - 1 = -5.
//   alpha: 2 a z2 - 1 >= -4 a - 1 is best at a = 0: -1, the true minimum (h2 = 0 when z2 <= 0).
// CROWN is looser than IBP here: the adaptive slope is a heuristic, not an optimum.
std::pair<ir::Graph, ir::Payload> hand_network() {
  GraphBuilder b;
  const int64_t x = b.input(Shape{2});
  const int64_t z = linear(b, x, mat(Shape{2, 2}, {1, 1, 1, -1}), mat(Shape{2}, {0, 0}));
  const int64_t h = b.add(OpKind::relu, {z});
  b.mark_output(linear(b, h, mat(Shape{2, 2}, {1, 1, 1, -1}), mat(Shape{2}, {0, 1})));
  return std::move(b).finish();
}

TEST(HandDerived, IbpCrownAlphaMarginsOfTheTinyNetwork) {
  auto [g, p] = hand_network();
  const Box box = box_of({-1, -1}, {2, 1});
  const std::vector<double> margin = {1, -1};
  for (Semantics sem : {Semantics::real, Semantics::float32}) {
    const verify::BoundEngine eng(g, p, sem);
    const verify::NodeBounds ibp = eng.ibp(box);
    const Box& y = ibp.boxes[eng.output_id()];
    const verify::NodeBounds crown = eng.crown_bounds(box);
    const double c = eng.crown_lower(crown, margin, 1)[0];
    verify::AlphaSlopes slopes;
    const double a = eng.alpha_lower(crown, margin, 1, 10, slopes)[0];
    if (sem == Semantics::real) {
      // Every quantity is a small dyadic rational: IBP is exact; the back-substitution pays a
      // rounding radius for its products, so it lies at or just below the exact value.
      EXPECT_EQ(y.lo[0] - y.hi[1], -4.0);
      EXPECT_LE(c, -5.0);
      EXPECT_GE(c, -5.0 - 1e-12);
      EXPECT_LE(a, -1.0);
      EXPECT_GE(a, -1.0 - 1e-12);
    } else {
      // float32 adds each affine op's rounding bound (n = 3 roundings, S <= 9 at the output).
      EXPECT_LT(c, -5.0);
      EXPECT_GT(c, -5.0 - 1e-5);
      EXPECT_LT(a, -1.0);
      EXPECT_GT(a, -1.0 - 1e-5);
    }
    EXPECT_EQ(slopes.size(), 1u);
    EXPECT_EQ(slopes.begin()->second[1], 0.0);  // the optimised slope of h2
  }
}

// The margin certify reports for CROWN is the larger of the back-substituted bound and the
// interval margin, so CROWN is never looser than IBP. Centre (1/2, 0) with eps 3/2: x1 in [-1, 2],
// x2 in [-3/2, 3/2], so z1, z2 in [-5/2, 7/2]. IBP: y0 - y1 >= 0 - (7/2 + 1) = -9/2. CROWN with
// the adaptive slope 1 (7/2 >= 5/2): 2 z2 - 1 >= -6, looser; certify reports -9/2.
TEST(HandDerived, CertifyKeepsTheIntervalMarginWhenCrownLoses) {
  auto [g, p] = hand_network();
  const std::vector<double> x = {0.5, 0.0};
  for (Semantics sem : {Semantics::real, Semantics::float32}) {
    const verify::RobustnessVerifier v(g, p, sem);
    verify::RobustnessConfig cfg;
    cfg.eps = mpq_class(3, 2);
    cfg.method = verify::Method::ibp;
    const double ibp = v.certify(0, x, 0, cfg).margins.at(0).lower;
    cfg.method = verify::Method::crown;
    const verify::ExampleResult res = v.certify(0, x, 0, cfg);
    const double crown = res.margins.at(0).lower;
    EXPECT_GE(crown, ibp) << verify::semantics_name(sem);
    const cert::CheckReport rep = cert::check_certificate(
        cert::parse_certificate(verify::certificate_json(g, p, sem, cfg, {res}).dump(), "c.json"),
        g, p);
    EXPECT_TRUE(rep.accepted) << rep.reason;
    if (sem == Semantics::real) {
      EXPECT_EQ(ibp, -4.5);
      EXPECT_EQ(crown, -4.5);
    }
  }
}

// The clean prediction in real semantics: decided by the point enclosure when the logits are
// apart, by exact evaluation when they tie (then the first maximiser wins, as argmax).
TEST(HandDerived, RealPredictionTiesGoToTheFirstMaximiser) {
  GraphBuilder b;
  const int64_t x = b.input(Shape{2});
  // y = [x1 + x2, x1 + x2, x1 - x2]: classes 0 and 1 tie everywhere.
  b.mark_output(linear(b, x, mat(Shape{3, 2}, {1, 1, 1, 1, 1, -1}), mat(Shape{3}, {0, 0, 0})));
  auto [g, p] = std::move(b).finish();
  const verify::RobustnessVerifier v(g, p, Semantics::real);
  EXPECT_EQ(v.predict({0.25, 0.5}), 0);   // 3/4, 3/4, -1/4
  EXPECT_EQ(v.predict({0.5, -0.25}), 2);  // 1/4, 1/4, 3/4
}

// TorchLean's Verification/LiRPA/mlp_cert.json: W1[i][j] = 1 + i + j (4x3), b1[i] = i + 1,
// W2[i][j] = 2 + i + j (2x4), b2[i] = i, input [1, 2, 3] +- 1. Every weight and input is
// nonnegative, so IBP is exact and integral: the fixture's [230, 554] and [291, 699].
TEST(TorchLeanFixtures, MlpCertIbpAndCrownMatchExactly) {
  std::ifstream f(std::string(TORCHLEAN_SOURCE_DIR) +
                  "/../shared/data/torchlean/Verification/LiRPA/mlp_cert.json");
  ASSERT_TRUE(f.good());
  const nlohmann::json j = nlohmann::json::parse(f);
  GraphBuilder b;
  const int64_t x = b.input(Shape{3});
  Tensor<double> w1(Shape{4, 3}), b1(Shape{4}), w2(Shape{2, 4}), b2(Shape{2});
  for (int i = 0; i < 4; ++i) {
    b1[i] = i + 1;
    for (int k = 0; k < 3; ++k) w1[i * 3 + k] = 1 + i + k;
  }
  for (int i = 0; i < 2; ++i) {
    b2[i] = i;
    for (int k = 0; k < 4; ++k) w2[i * 4 + k] = 2 + i + k;
  }
  const int64_t h = b.add(OpKind::relu, {linear(b, x, w1, b1)});
  const int64_t y = linear(b, h, w2, b2);
  b.mark_output(y);
  auto [g, p] = std::move(b).finish();
  ASSERT_EQ(y, j["result"]["node_id"].get<int64_t>());
  const Box box = box_of(j["input_box"]["lo"].get<std::vector<double>>(),
                         j["input_box"]["hi"].get<std::vector<double>>());
  const verify::BoundEngine eng(g, p, Semantics::real);
  for (const verify::NodeBounds& nb : {eng.ibp(box), eng.crown_bounds(box)}) {
    EXPECT_EQ(nb.boxes[y].lo, j["result"]["lo"].get<std::vector<double>>());
    EXPECT_EQ(nb.boxes[y].hi, j["result"]["hi"].get<std::vector<double>>());
  }
}

// Verification/LiRPA/cnn_cert.json: conv 1->1, 3x3 kernel 1 + i + j, bias 0, on a 4x4 image of
// ones +- 0.1, relu, linear 4 -> 2 with W[i][j] = 2 + i + j, b = i. Every weight is positive and
// the box is positive, so the exact IBP range is the network's exact value at the box's lower
// and upper corners. Ours contains it and agrees with TorchLean's numbers to 1e-13 relative. The
// fixture's upper bounds are NOT sound for its own input box: the box's upper corner is the
// binary64 1.1 (> 11/10), where output 0 is exactly 378 * 1.1000000000000000888... =
// 415.80000000000003357..., above the recorded 415.8 (= 415.79999999999995...); likewise hi[1],
// and lo[1] = 438.40000000000003 lies above the exact minimum 438.40000000000001...
TEST(TorchLeanFixtures, CnnCertIbpContainsTheExactRangeWhereTorchLeansDoesNot) {
  std::ifstream f(std::string(TORCHLEAN_SOURCE_DIR) +
                  "/../shared/data/torchlean/Verification/LiRPA/cnn_cert.json");
  ASSERT_TRUE(f.good());
  const nlohmann::json j = nlohmann::json::parse(f);
  GraphBuilder b;
  const int64_t x = b.input(Shape{1, 4, 4});
  const int64_t c = b.add(OpKind::conv2d, {x}, ir::Conv2dAttrs{1, 1, 3, 3, 1, 0});
  Tensor<double> k(Shape{1, 1, 3, 3});
  for (int i = 0; i < 3; ++i)
    for (int m = 0; m < 3; ++m) k[i * 3 + m] = 1 + i + m;
  b.set_payload(c, "weight", k);
  b.set_payload(c, "bias", mat(Shape{1}, {0}));
  const int64_t r =
      b.add(OpKind::flatten, {b.add(OpKind::relu, {c})}, ir::FlattenAttrs{Shape{1, 2, 2}});
  Tensor<double> w(Shape{2, 4});
  for (int i = 0; i < 2; ++i)
    for (int m = 0; m < 4; ++m) w[i * 4 + m] = 2 + i + m;
  const int64_t y = linear(b, r, w, mat(Shape{2}, {0, 1}));
  b.mark_output(y);
  auto [g, p] = std::move(b).finish();
  const Box box = box_of(j["input_box"]["lo"].get<std::vector<double>>(),
                         j["input_box"]["hi"].get<std::vector<double>>());
  const verify::BoundEngine eng(g, p, Semantics::real);
  const verify::NodeBounds nb = eng.ibp(box);
  const Box& out = nb.boxes[y];
  const auto tlo = j["result"]["lo"].get<std::vector<double>>(),
             thi = j["result"]["hi"].get<std::vector<double>>();
  auto exact_at = [&](const std::vector<double>& corner) {
    std::vector<Exact> v;
    for (double e : corner) v.push_back(Exact::from_double(e));
    const Tensor<Exact> t(Shape{1, 4, 4}, std::move(v));
    return interp::evaluate_outputs<Exact>(g, ir::convert_payload<Exact>(p), std::span(&t, 1))[0];
  };
  const Tensor<Exact> ylo = exact_at(box.lo), yhi = exact_at(box.hi);
  int torchlean_misses = 0;
  for (int i = 0; i < 2; ++i) {
    EXPECT_LE(mpq_class(out.lo[i]), ylo[i].lo);
    EXPECT_GE(mpq_class(out.hi[i]), yhi[i].hi);
    torchlean_misses += (mpq_class(tlo[i]) > ylo[i].hi) + (mpq_class(thi[i]) < yhi[i].lo);
    EXPECT_LE(std::fabs(out.lo[i] - tlo[i]), 1e-13 * tlo[i]);
    EXPECT_LE(std::fabs(out.hi[i] - thi[i]), 1e-13 * thi[i]);
  }
  EXPECT_EQ(torchlean_misses, 3);  // lo[1], hi[0], hi[1]
}

// Random MLPs and a small CNN: soundness with zero violations in both semantics, and
// alpha-CROWN >= CROWN on the margin objective.
Tensor<double> rnd(Shape s, SplitMix64& rng, double scale) {
  Tensor<double> t(std::move(s));
  for (double& v : t.vec())
    v = static_cast<float>((static_cast<double>(rng.next() >> 11) * 0x1p-53 * 2 - 1) * scale);
  return t;
}

std::pair<ir::Graph, ir::Payload> random_mlp(uint64_t seed, OpKind act, int hidden) {
  SplitMix64 rng(seed);
  GraphBuilder b;
  int64_t x = b.input(Shape{4});
  int64_t width = 4;
  for (int l = 0; l < hidden; ++l) {
    x = linear(b, x, rnd(Shape{6, width}, rng, 1), rnd(Shape{6}, rng, 0.5));
    x = act == OpKind::leaky_relu ? b.add(act, {x}, ir::LeakyReluAttrs{0.125}) : b.add(act, {x});
    width = 6;
  }
  b.mark_output(linear(b, x, rnd(Shape{3, width}, rng, 1), rnd(Shape{3}, rng, 0.5)));
  return std::move(b).finish();
}

std::pair<ir::Graph, ir::Payload> random_cnn(uint64_t seed) {
  SplitMix64 rng(seed);
  GraphBuilder b;
  const int64_t x = b.input(Shape{1, 5, 5});
  const int64_t c = b.add(OpKind::conv2d, {x}, ir::Conv2dAttrs{1, 2, 3, 3, 1, 1});
  b.set_payload(c, "weight", rnd(Shape{2, 1, 3, 3}, rng, 1));
  b.set_payload(c, "bias", rnd(Shape{2}, rng, 0.5));
  const int64_t pool =
      b.add(OpKind::avg_pool2d, {b.add(OpKind::relu, {c})}, ir::Pool2dAttrs{2, 2, 2});
  const int64_t f = b.add(OpKind::flatten, {pool}, ir::FlattenAttrs{Shape{2, 2, 2}});
  b.mark_output(linear(b, f, rnd(Shape{3, 8}, rng, 1), rnd(Shape{3}, rng, 0.5)));
  return std::move(b).finish();
}

TEST(RandomNetworks, SoundInBothSemantics) {
  struct Net {
    std::string name;
    std::pair<ir::Graph, ir::Payload> model;
  };
  std::vector<Net> nets;
  for (uint64_t s = 1; s <= 3; ++s) {
    nets.push_back({"relu_mlp" + std::to_string(s), random_mlp(s, OpKind::relu, 2)});
    nets.push_back({"sigmoid_mlp" + std::to_string(s), random_mlp(s + 10, OpKind::sigmoid, 1)});
  }
  nets.push_back({"tanh_mlp", random_mlp(21, OpKind::tanh, 2)});
  nets.push_back({"cnn", random_cnn(31)});
  for (const Net& n : nets) {
    const int64_t in = n.model.first.node(n.model.first.input_ids[0]).shape.numel();
    for (Semantics sem : {Semantics::real, Semantics::float32}) {
      const SoundnessReport r = check_soundness(n.model.first, n.model.second, sem,
                                                random_box(in, in * 31 + 7, 0.6), 5, 30);
      EXPECT_GT(r.checks, 0);
      EXPECT_EQ(r.violations, 0) << n.name << " " << verify::semantics_name(sem) << ": " << r.first;
      EXPECT_EQ(r.undecided, 0) << n.name;
    }
  }
}

TEST(RandomNetworks, AlphaNeverLooserThanCrownOnTheMargin) {
  for (uint64_t s = 1; s <= 6; ++s) {
    auto [g, p] = s % 2 ? random_mlp(s, OpKind::relu, 2) : random_cnn(s);
    const int64_t in = g.node(g.input_ids[0]).shape.numel();
    for (Semantics sem : {Semantics::real, Semantics::float32}) {
      const verify::BoundEngine eng(g, p, sem);
      const verify::NodeBounds nb = eng.crown_bounds(random_box(in, s, 0.4));
      const std::vector<double> C = {1, -1, 0, 1, 0, -1};  // class 0 against 1 and 2
      const std::vector<double> crown = eng.crown_lower(nb, C, 2);
      verify::AlphaSlopes slopes;
      const std::vector<double> alpha = eng.alpha_lower(nb, C, 2, 8, slopes);
      for (int r = 0; r < 2; ++r) EXPECT_GE(alpha[r], crown[r]) << "seed " << s;
    }
  }
}

TEST(Engine, RejectsGraphsItCannotBound) {
  GraphBuilder b;
  const int64_t x = b.input(Shape{2});
  b.mark_output(b.add(OpKind::relu, {x}));
  b.mark_output(b.add(OpKind::tanh, {x}));
  auto [g, p] = std::move(b).finish();
  try {
    verify::BoundEngine eng(g, p, Semantics::real);
    FAIL() << "two outputs accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("exactly one input and one output"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(verify::parse_semantics("float64"), UserError);
  EXPECT_THROW(verify::parse_method("beta"), UserError);
}

}  // namespace
}  // namespace torchlean::testing
