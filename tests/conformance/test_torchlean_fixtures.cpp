// TorchLean's published fixtures evaluated by our reference evaluator. The MLP state dict
// (../shared/data/torchlean/Interop/PyTorch/MLP/mlp.json: layers.0 2->3, ReLU, layers.2 3->1)
// runs on a linear -> relu -> linear graph at x = [0.5, 0.8] in F32, F64 and Exact, against
// PyTorch's float32/float64 outputs and the exact rational computed with Python's fractions
// (both in the reference JSON, from scripts/torch_reference.py). The rounding error bounds are
// computed here in exact arithmetic, independently of the evaluator.
// (Verification/LiRPA/mlp_cert.json is for the certificate checker and is not used here.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference_data.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/io/state_dict.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::conformance {
namespace {

const nlohmann::json& mlp_reference() { return reference_json().at("fixtures").at("mlp"); }

ir::Graph mlp_graph() {
  ir::Graph g;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{2});
  const int64_t l0 = g.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{3});
  const int64_t r = g.add(ir::OpKind::relu, {l0}, ir::NoAttrs{}, Shape{3});
  const int64_t l2 = g.add(ir::OpKind::linear, {r}, ir::NoAttrs{}, Shape{1});
  g.input_ids = {x};
  g.output_ids = {l2};
  return g;
}

io::StateDict mlp_state_dict() {
  const std::string rel = mlp_reference().at("state_dict").get<std::string>();
  return io::read_state_dict_file(std::string(TORCHLEAN_SOURCE_DIR) + "/" + rel);
}

template <class S>
S evaluate_mlp(const ir::Payload& payload, const std::vector<double>& x) {
  std::vector<S> xs;
  for (double v : x) xs.push_back(S::from_double(v));
  std::vector<Tensor<S>> inputs{Tensor<S>(Shape{2}, std::move(xs))};
  auto out = interp::evaluate_outputs<S>(mlp_graph(), ir::convert_payload<S>(payload), inputs);
  EXPECT_EQ(out.at(0).shape(), Shape{1});
  return out.at(0)[0];
}

// The exact network value at rational input x, and the bound on the error of any evaluation in
// precision p (each dot product in any order, with or without fma): with h_j = relu(z_j),
// z_j = sum_i W1_ji x_i + b1_j,
//   |h~_j - h_j| <= E_j = gamma_3 (sum_i |W1_ji x_i| + |b1_j|)          (relu is 1-Lipschitz)
//   |y~ - y| <= gamma_4 (sum_j |W2_j| (|h_j| + E_j) + |b2|) + sum_j |W2_j| E_j.
struct ExactMlp {
  mpq_class value, bound;
};

ExactMlp exact_mlp(const ir::Payload& payload, const std::vector<mpq_class>& x, int precision_bits) {
  const auto& w1 = payload.at(1).at("weight");
  const auto& b1 = payload.at(1).at("bias");
  const auto& w2 = payload.at(3).at("weight");
  const auto& b2 = payload.at(3).at("bias");
  const mpq_class g3 = gamma(3, precision_bits), g4 = gamma(4, precision_bits);
  ExactMlp out;
  out.value = exact(b2[0]);
  mpq_class magnitude = abs(exact(b2[0])), propagated;
  for (int64_t j = 0; j < 3; ++j) {
    mpq_class z = exact(b1[j]), mag = abs(exact(b1[j]));
    for (int64_t i = 0; i < 2; ++i) {
      z += exact(w1[j * 2 + i]) * x[static_cast<size_t>(i)];
      mag += abs(exact(w1[j * 2 + i]) * x[static_cast<size_t>(i)]);
    }
    const mpq_class h = z > 0 ? z : mpq_class(0);
    const mpq_class e = g3 * mag;
    out.value += exact(w2[j]) * h;
    magnitude += abs(exact(w2[j])) * (h + e);
    propagated += abs(exact(w2[j])) * e;
  }
  out.bound = g4 * magnitude + propagated;
  return out;
}

mpq_class within(double a, const mpq_class& b) { return abs(exact(a) - b); }

class MlpFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    sd_ = mlp_state_dict();
    payload_ = io::payload_from_state_dict(mlp_graph(), sd_);
    for (const auto& v : mlp_reference().at("x")) x_.push_back(v.get<double>());
    ASSERT_EQ(x_.size(), 2u);
  }
  io::StateDict sd_;
  ir::Payload payload_;
  std::vector<double> x_;
};

TEST_F(MlpFixture, StateDictHasTheSequentialLayout) {
  ASSERT_EQ(sd_.params.size(), 4u);
  EXPECT_EQ(sd_.params[0].first, "layers.0.weight");
  EXPECT_EQ(sd_.params[0].second.shape(), (Shape{3, 2}));
  EXPECT_EQ(sd_.params[1].first, "layers.0.bias");
  EXPECT_EQ(sd_.params[2].first, "layers.2.weight");
  EXPECT_EQ(sd_.params[2].second.shape(), (Shape{1, 3}));
  EXPECT_EQ(sd_.params[3].first, "layers.2.bias");
  // Decimal fixture values are read as their nearest binary64 values.
  EXPECT_EQ(payload_.at(1).at("weight")[0], 0.028833430260419846);
  EXPECT_EQ(payload_.at(3).at("bias")[0], 0.9832008481025696);
}

TEST_F(MlpFixture, ExactEqualsPythonFractionsAndIsAPoint) {
  const Exact y = evaluate_mlp<Exact>(payload_, x_);
  ASSERT_TRUE(y.is_point()) << to_string(y);
  const mpq_class expected(mlp_reference().at("exact").at(0).get<std::string>());
  EXPECT_EQ(y.lo, expected) << to_string(y);
  // The test's own exact evaluation agrees too (so the bounds below are about this value).
  const ExactMlp ref = exact_mlp(payload_, {exact(x_[0]), exact(x_[1])}, 53);
  EXPECT_EQ(ref.value, expected);
}

TEST_F(MlpFixture, Float64IsWithinTheRoundingBoundOfExactAndPyTorch) {
  const double ours = evaluate_mlp<F64>(payload_, x_).v;
  const double torch = decode_value(mlp_reference().at("torch_f64").at(0));
  const ExactMlp ref = exact_mlp(payload_, {exact(x_[0]), exact(x_[1])}, 53);
  EXPECT_LE(within(ours, ref.value), ref.bound) << "ours " << ours;
  EXPECT_LE(within(torch, ref.value), ref.bound) << "torch " << torch;  // the data is sane
  EXPECT_LE(abs(exact(ours) - exact(torch)), 2 * ref.bound) << ours << " vs " << torch;
  // The bound is tight enough to mean something: a few ulps of a value near 1.
  EXPECT_LT(ref.bound, mpq_class(1L, 1L << 50));
}

TEST_F(MlpFixture, Float32IsWithinTheRoundingBoundOfPyTorchFloat32) {
  const float ours = evaluate_mlp<F32>(payload_, x_).v;
  const double torch = decode_value(mlp_reference().at("torch_f32").at(0));
  ASSERT_EQ(static_cast<double>(static_cast<float>(torch)), torch) << "torch_f32 is not binary32";
  // Both evaluate the binary32 network: parameters are binary32 already (the fixture's dtype),
  // the input rounds to binary32.
  const std::vector<mpq_class> x32{exact(static_cast<float>(x_[0])), exact(static_cast<float>(x_[1]))};
  const ExactMlp ref = exact_mlp(payload_, x32, 24);
  EXPECT_LE(within(ours, ref.value), ref.bound) << "ours " << ours;
  EXPECT_LE(within(torch, ref.value), ref.bound) << "torch " << torch;
  EXPECT_LE(abs(exact(ours) - exact(torch)), 2 * ref.bound) << ours << " vs " << torch;
}

}  // namespace
}  // namespace torchlean::conformance
