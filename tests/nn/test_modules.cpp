// Modules: output shapes and parameter counts (against PyTorch's published counts for the same
// layers), the summary, parameter naming, errors, and the initialisation schemes' statistics.
#include <gtest/gtest.h>

#include <cmath>

#include "torchlean/core/error.hpp"
#include "torchlean/nn/models.hpp"
#include "torchlean/nn/train_step.hpp"

namespace torchlean::nn {
namespace {

struct Built {
  EvalGraph eg;
  ParamStore params;
  Shape out;
};

Built build(const Module& m, const Shape& x, uint64_t seed = 1) {
  Built b;
  b.eg = build_eval_graph(m, x, b.params, seed);
  b.out = b.eg.graph.node(b.eg.graph.output_ids[0]).shape;
  return b;
}

template <class M, class... A>
ModulePtr make(A... a) {
  return std::make_shared<M>(a...);
}

TEST(Modules, ShapesAndParameterCountsMatchPyTorch) {
  // Counts as sum(p.numel() for p in module.parameters()) in PyTorch for the same layer.
  struct Case {
    ModulePtr m;
    Shape x, out;
    int64_t params;
  };
  const std::vector<Case> cases = {
      {make<Linear>(784, 128), Shape{4, 784}, Shape{4, 128}, 100480},
      {make<Linear>(16, 8, false), Shape{2, 5, 16}, Shape{2, 5, 8}, 128},
      {make<Conv2d>(3, 6, 5, 1, 2), Shape{2, 3, 28, 28}, Shape{2, 6, 28, 28}, 456},
      {make<Conv2d>(6, 16, 3, 2, 0), Shape{1, 6, 9, 9}, Shape{1, 16, 4, 4}, 880},
      {make<BatchNorm2d>(6), Shape{2, 6, 4, 4}, Shape{2, 6, 4, 4}, 12},
      {make<LayerNorm>(16), Shape{3, 16}, Shape{3, 16}, 32},
      {make<Embedding>(10, 4), Shape{2, 3}, Shape{2, 3, 4}, 40},
      {make<Pool2d>(true, 2), Shape{1, 2, 6, 6}, Shape{1, 2, 3, 3}, 0},
      {make<Pool2d>(false, 3, 2, 1), Shape{1, 2, 7, 7}, Shape{1, 2, 4, 4}, 0},
      {make<Flatten>(), Shape{2, 3, 4}, Shape{2, 12}, 0},
      {make<Activation>(ir::OpKind::gelu), Shape{2, 3}, Shape{2, 3}, 0},
      {make<Activation>(ir::OpKind::softmax), Shape{2, 3}, Shape{2, 3}, 0},
      {make<Dropout>(0.5), Shape{2, 3}, Shape{2, 3}, 0},
      // nn.MultiheadAttention(16, 4): in_proj 3*16*16 + 48, out_proj 16*16 + 16.
      {make<MultiheadSelfAttention>(16, 4), Shape{2, 5, 16}, Shape{2, 5, 16}, 1088},
      // nn.TransformerEncoderLayer(16, 4, 32): attention 1088, linear1 544, linear2 528, norms 64.
      {make<TransformerEncoderLayer>(16, 4, 32), Shape{2, 5, 16}, Shape{2, 5, 16}, 2224},
      {make<Residual>(make<Linear>(8, 8)), Shape{3, 8}, Shape{3, 8}, 72},
      // LeNet-5 (padding 2): 156 + 2416 + 48120 + 10164 + 850.
      {lenet(10), Shape{2, 28, 28}, Shape{2, 10}, 61706},
      {build_model("mlp:784-256-256-10", Shape{28, 28}), Shape{8, 28, 28}, Shape{8, 10}, 269322},
  };
  for (const Case& c : cases) {
    const Built b = build(*c.m, c.x);
    EXPECT_EQ(b.out, c.out) << c.m->describe();
    EXPECT_EQ(b.params.trainable_count(), c.params) << c.m->describe();
  }
}

TEST(Modules, NamesFollowTheModuleTreeAndSummaryCounts) {
  const Built b = build(*lenet(10), Shape{1, 28, 28});
  std::vector<std::string> names;
  for (const auto& e : b.params.entries()) names.push_back(e.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"1.weight", "1.bias", "4.weight", "4.bias", "8.weight",
                                      "8.bias", "10.weight", "10.bias", "12.weight", "12.bias"}));
  const std::string s = format_summary(b.eg.summary, b.params);
  EXPECT_NE(s.find("1 Conv2d(1, 6, k=5, s=1, p=2)"), std::string::npos) << s;
  EXPECT_NE(s.find("trainable parameters: 61706, buffers: 0"), std::string::npos) << s;
  const Built bn = build(BatchNorm2d(3), Shape{1, 3, 2, 2});
  EXPECT_EQ(bn.params.at("running_var").value.vec(), (std::vector<double>{1, 1, 1}));
  EXPECT_FALSE(bn.params.at("running_mean").trainable);
}

TEST(Modules, ShapeErrorsNameTheLayer) {
  auto error_of = [](const Module& m, const Shape& x) -> std::string {
    try {
      build(m, x);
    } catch (const UserError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(error_of(Linear(4, 2), Shape{3, 5}),
            "Linear(4, 2): input shape (3,5) must be (batch..., 4)");
  EXPECT_EQ(error_of(Conv2d(3, 4, 3), Shape{1, 2, 5, 5}),
            "Conv2d(3, 4, k=3, s=1, p=0): input shape (1,2,5,5) must have 3 channels");
  EXPECT_EQ(error_of(*build_model("mlp:10-2", Shape{10}), Shape{1, 10}), "(no error)");
  EXPECT_THROW(build_model("mlp:700-10", Shape{28, 28}), UserError);
  EXPECT_THROW(build_model("mlp:784-x", Shape{28, 28}), UserError);
  EXPECT_THROW(build_model("resnet", Shape{28, 28}), UserError);
  EXPECT_THROW(MultiheadSelfAttention(10, 3), UserError);
}

TEST(Modules, StoredParametersAreReusedAndShapeChecked) {
  ParamStore params;
  const Linear l(3, 2);
  build_eval_graph(l, Shape{1, 3}, params, 5);
  const std::vector<double> w = params.at("weight").value.vec();
  build_eval_graph(l, Shape{7, 3}, params, 99);  // another batch and seed: same values
  EXPECT_EQ(params.at("weight").value.vec(), w);
  EXPECT_THROW(build_eval_graph(Linear(4, 2), Shape{1, 4}, params, 5), UserError);
}

TEST(Init, SeededAndBinary32Exact) {
  SplitMix64 a(3), b(3), c(4);
  const Init k{Init::kaiming_uniform, 0, std::sqrt(2.0)};
  const Tensor<double> ta = init_tensor(Shape{64, 32}, k, a), tb = init_tensor(Shape{64, 32}, k, b),
                       tc = init_tensor(Shape{64, 32}, k, c);
  EXPECT_EQ(ta.vec(), tb.vec());
  EXPECT_NE(ta.vec(), tc.vec());
  for (double v : ta.vec()) EXPECT_EQ(static_cast<double>(static_cast<float>(v)), v);
}

// Sample mean and variance against the distribution's: with n draws, the sample mean has
// standard deviation sigma/sqrt(n); the bounds are 6 of those (the test is deterministic: the
// seed fixes the draws, and the bounds only document how far they may be from the moments).
void expect_moments(const Tensor<double>& t, double var, double bound_abs) {
  const double n = static_cast<double>(t.numel());
  double sum = 0, sq = 0, mx = 0;
  for (double v : t.vec()) sum += v, sq += v * v, mx = std::max(mx, std::fabs(v));
  const double mean = sum / n, sample_var = sq / n - mean * mean;
  EXPECT_LT(std::fabs(mean), 6 * std::sqrt(var / n));
  EXPECT_NEAR(sample_var, var, 6 * var * std::sqrt(2.0 / n));
  if (bound_abs > 0) {
    EXPECT_LE(mx, bound_abs);
  }
}

TEST(Init, SchemesHaveTheirMoments) {
  SplitMix64 rng(2026);
  const Shape s{256, 128};  // fan_in 128, fan_out 256
  const double fi = 128, fo = 256;
  {
    // xavier_uniform: a = sqrt(6 / (fi + fo)), variance a^2 / 3 = 2 / (fi + fo).
    const double a = std::sqrt(6 / (fi + fo));
    expect_moments(init_tensor(s, Init{Init::xavier_uniform}, rng), 2 / (fi + fo), a * (1 + 1e-7));
  }
  expect_moments(init_tensor(s, Init{Init::xavier_normal}, rng), 2 / (fi + fo), 0);
  {
    // kaiming_uniform (ReLU gain sqrt 2): a = sqrt(6 / fi), variance 2 / fi.
    const double a = std::sqrt(6 / fi);
    expect_moments(init_tensor(s, Init{Init::kaiming_uniform, 0, std::sqrt(2.0)}, rng), 2 / fi,
                   a * (1 + 1e-7));
  }
  expect_moments(init_tensor(s, Init{Init::kaiming_normal, 0, std::sqrt(2.0)}, rng), 2 / fi, 0);
  // PyTorch's Linear default: U(-1/sqrt(fi), 1/sqrt(fi)).
  expect_moments(init_tensor(s, Init::torch_default(128), rng), 1 / (3 * fi),
                 (1 + 1e-7) / std::sqrt(fi));
  const auto [fan_in, fan_out] = fans(Shape{16, 6, 5, 5});
  EXPECT_EQ(fan_in, 150);
  EXPECT_EQ(fan_out, 400);
}

}  // namespace
}  // namespace torchlean::nn
