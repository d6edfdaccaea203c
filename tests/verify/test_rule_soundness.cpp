// Soundness by sampling of every bound rule: a small graph per op (input -> op -> output, with
// constants where the op needs them), a random box, and zero violations of the IBP boxes, the
// CROWN boxes and the CROWN / alpha-CROWN objective bounds at corners and random points, in both
// semantics (ops with no float32 rule must say so with a UserError).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "soundness.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/ir/builder.hpp"

namespace torchlean::testing {
namespace {

using ir::GraphBuilder;
using ir::OpKind;
using verify::Semantics;

Tensor<double> rand_tensor(Shape s, uint64_t seed, double scale = 1) {
  SplitMix64 rng(seed);
  Tensor<double> t(std::move(s));
  for (double& v : t.vec())
    v = std::round((static_cast<double>(rng.next() >> 11) * 0x1p-53 * 2 - 1) * scale * 64) / 64;
  return t;
}

struct Case {
  std::string name;
  Shape in;
  std::function<int64_t(GraphBuilder&, int64_t)> build;
  double shift = 0;     // added to the box (positive domains)
  bool float32 = true;  // false: the op has no float32 rule (expects a UserError)
  double radius = 0.5;
};

int64_t lin(GraphBuilder& b, int64_t x, int64_t in, int64_t out, uint64_t seed) {
  const int64_t id = b.add(OpKind::linear, {x}, ir::NoAttrs{}, Shape{out});
  b.set_payload(id, "weight", rand_tensor(Shape{out, in}, seed));
  b.set_payload(id, "bias", rand_tensor(Shape{out}, seed + 1));
  return id;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  auto unary = [&c](const std::string& name, OpKind k, double shift = 0, bool f32 = true,
                    ir::Attrs a = ir::NoAttrs{}) {
    c.push_back({name, Shape{4}, [k, a](GraphBuilder& b, int64_t x) { return b.add(k, {x}, a); },
                 shift, f32});
  };
  c.push_back({"linear", Shape{3}, [](GraphBuilder& b, int64_t x) { return lin(b, x, 3, 2, 7); }});
  c.push_back({"linear_rank2", Shape{2, 3}, [](GraphBuilder& b, int64_t x) {
                 const int64_t id = b.add(OpKind::linear, {x}, ir::NoAttrs{}, Shape{2, 2});
                 b.set_payload(id, "weight", rand_tensor(Shape{2, 3}, 3));
                 b.set_payload(id, "bias", rand_tensor(Shape{2}, 4));
                 return id;
               }});
  c.push_back({"matmul_const_right", Shape{2, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::matmul, {x, b.constant(rand_tensor(Shape{3, 2}, 11))});
               }});
  c.push_back({"matmul_const_left", Shape{3, 2}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::matmul, {b.constant(rand_tensor(Shape{2, 3}, 12)), x});
               }});
  c.push_back({"matmul_two_variables", Shape{2, 2}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::matmul, {x, b.add(OpKind::relu, {x})});
               }});
  c.push_back({"conv2d", Shape{2, 3, 3}, [](GraphBuilder& b, int64_t x) {
                 const int64_t id = b.add(OpKind::conv2d, {x}, ir::Conv2dAttrs{2, 2, 2, 2, 1, 1});
                 b.set_payload(id, "weight", rand_tensor(Shape{2, 2, 2, 2}, 21));
                 b.set_payload(id, "bias", rand_tensor(Shape{2}, 22));
                 return id;
               }});
  c.push_back({"avg_pool2d", Shape{1, 4, 4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::avg_pool2d, {x}, ir::Pool2dAttrs{2, 2, 2});
               }});
  c.push_back({"avg_pool2d_pad", Shape{1, 3, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::avg_pool2d_pad, {x}, ir::Pool2dPadAttrs{3, 3, 2, 1});
               }});
  c.push_back({"max_pool2d", Shape{1, 4, 4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::max_pool2d, {x}, ir::Pool2dAttrs{2, 2, 2});
               }});
  c.push_back({"max_pool2d_pad", Shape{1, 3, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::max_pool2d_pad, {x}, ir::Pool2dPadAttrs{2, 2, 2, 1});
               }});
  c.push_back(
      {"batch_norm", Shape{1, 2, 2, 2}, [](GraphBuilder& b, int64_t x) {
         const int64_t id = b.add(OpKind::batch_norm2d_nchw_eval, {x}, ir::BatchNormAttrs{2});
         b.set_payload(id, "gamma", Tensor<double>(Shape{2}, std::vector<double>{1.5, -0.75}));
         b.set_payload(id, "beta", Tensor<double>(Shape{2}, std::vector<double>{0.25, 0.5}));
         b.set_payload(id, "mean", Tensor<double>(Shape{2}, std::vector<double>{0.1, -0.3}));
         b.set_payload(id, "var", Tensor<double>(Shape{2}, std::vector<double>{0.7, 2.0}));
         b.set_payload(id, "eps", Tensor<double>(Shape{}, std::vector<double>{1e-5}));
         return id;
       }});
  c.push_back({"add_two_variables", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::add, {x, b.add(OpKind::relu, {x})});
               }});
  c.push_back({"add_const", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::add, {b.constant(rand_tensor(Shape{4}, 5)), x});
               }});
  c.push_back({"sub_two_variables", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::sub, {b.add(OpKind::relu, {x}), x});
               }});
  c.push_back({"sub_const", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::sub, {b.constant(rand_tensor(Shape{4}, 6)), x});
               }});
  c.push_back({"mul_const", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::mul_elem, {x, b.constant(rand_tensor(Shape{4}, 8, 3))});
               }});
  c.push_back({"mul_two_variables", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::mul_elem, {x, b.add(OpKind::tanh, {x})});
               }});
  c.push_back({"max_elem", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::max_elem, {x, b.add(OpKind::sin, {x})});
               }});
  c.push_back({"min_elem", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::min_elem, {x, b.constant(rand_tensor(Shape{4}, 9))});
               }});
  unary("relu", OpKind::relu);
  unary("abs", OpKind::abs);
  unary("tanh", OpKind::tanh);
  unary("sigmoid", OpKind::sigmoid);
  unary("exp", OpKind::exp);
  unary("log", OpKind::log, 3);
  unary("sqrt", OpKind::sqrt, 1);
  unary("inv", OpKind::inv, 3);
  unary("sin", OpKind::sin);
  unary("cos", OpKind::cos);
  c.push_back({"softmax", Shape{2, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::softmax, {x}, ir::AxisAttrs{1});
               }});
  c.push_back(
      {"layernorm", Shape{2, 3},
       [](GraphBuilder& b, int64_t x) { return b.add(OpKind::layernorm, {x}, ir::AxisAttrs{1}); },
       0, true, 0.25});
  c.push_back({"reshape", Shape{2, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::reshape, {x}, ir::ReshapeAttrs{Shape{2, 3}, Shape{3, 2}});
               }});
  c.push_back({"flatten", Shape{2, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::flatten, {x}, ir::FlattenAttrs{Shape{2, 3}});
               }});
  c.push_back({"permute", Shape{2, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::permute, {x}, ir::PermuteAttrs{{1, 0}});
               }});
  c.push_back({"concat", Shape{2, 2}, [](GraphBuilder& b, int64_t x) {
                 return b.add(
                     OpKind::concat,
                     {x, b.constant(rand_tensor(Shape{2, 2}, 31)), b.add(OpKind::relu, {x})},
                     ir::AxisAttrs{1});
               }});
  c.push_back({"swap_first_two", Shape{2, 3},
               [](GraphBuilder& b, int64_t x) { return b.add(OpKind::swap_first_two, {x}); }});
  c.push_back({"transpose3d_last_two", Shape{2, 2, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::transpose3d_last_two, {x});
               }});
  c.push_back(
      {"broadcast_to", Shape{3}, [](GraphBuilder& b, int64_t x) {
         return b.add(OpKind::broadcast_to, {x}, ir::BroadcastToAttrs{Shape{3}, Shape{2, 3}});
       }});
  c.push_back({"reduce_sum", Shape{2, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::reduce_sum, {x}, ir::AxisAttrs{1});
               }});
  c.push_back({"reduce_mean", Shape{2, 3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::reduce_mean, {x}, ir::AxisAttrs{0});
               }});
  c.push_back(
      {"sum", Shape{2, 3}, [](GraphBuilder& b, int64_t x) { return b.add(OpKind::sum, {x}); }});
  c.push_back({"mse_loss", Shape{3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::mse_loss, {x, b.constant(rand_tensor(Shape{3}, 41))});
               }});
  c.push_back(
      {"detach", Shape{3}, [](GraphBuilder& b, int64_t x) { return b.add(OpKind::detach, {x}); }});
  // Extension ops.
  unary("neg", OpKind::neg);
  unary("erf", OpKind::erf);
  unary("leaky_relu", OpKind::leaky_relu, 0, true, ir::LeakyReluAttrs{0.1});
  unary("gelu", OpKind::gelu, 0, false);
  unary("softplus", OpKind::softplus, 0, false);
  unary("silu", OpKind::silu, 0, false);
  unary("pow_const_2", OpKind::pow_const, 0, false, ir::PowAttrs{2});
  unary("pow_const_3", OpKind::pow_const, 0, false, ir::PowAttrs{3});
  unary("pow_const_half", OpKind::pow_const, 3, false, ir::PowAttrs{0.5});
  unary("clamp", OpKind::clamp, 0, false, ir::ClampAttrs{-1.5, 1.25, true, true});
  c.push_back({"div_const", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::div,
                              {x, b.constant(Tensor<double>(
                                      Shape{4}, std::vector<double>{3, -0.75, 1.5, 10}))});
               }});
  c.push_back({"div_two_variables", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::div, {x, b.add(OpKind::exp, {x})});
               }});
  c.push_back({"compare", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::compare, {x, b.constant(rand_tensor(Shape{4}, 51))},
                              ir::CompareAttrs{"lt"});
               }});
  c.push_back({"where", Shape{4}, [](GraphBuilder& b, int64_t x) {
                 const int64_t cond =
                     b.add(OpKind::compare, {x, b.constant(rand_tensor(Shape{4}, 52))},
                           ir::CompareAttrs{"ge"});
                 return b.add(OpKind::where, {cond, x, b.add(OpKind::relu, {x})});
               }});
  c.push_back({"broadcast", Shape{3}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::broadcast, {x}, ir::BroadcastAttrs{Shape{2, 3}});
               }});
  c.push_back({"slice", Shape{2, 5}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::slice, {x}, ir::SliceAttrs{{1, 4}, {-1, 0}, {-1, -2}});
               }});
  c.push_back({"pad", Shape{2, 2}, [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::pad, {x}, ir::PadAttrs{{1, 0}, {0, 2}, 0.75});
               }});
  c.push_back({"gather", Shape{3, 2}, [](GraphBuilder& b, int64_t x) {
                 return b.add(
                     OpKind::gather,
                     {x, b.constant(Tensor<double>(Shape{4}, std::vector<double>{2, 0, -1, 2}))},
                     ir::GatherAttrs{0});
               }});
  c.push_back(
      {"log_softmax", Shape{2, 3},
       [](GraphBuilder& b, int64_t x) { return b.add(OpKind::log_softmax, {x}, ir::AxisAttrs{1}); },
       0, false});
  c.push_back({"cross_entropy", Shape{2, 3},
               [](GraphBuilder& b, int64_t x) {
                 return b.add(OpKind::cross_entropy,
                              {x, b.constant(Tensor<double>(Shape{2}, std::vector<double>{2, 0}))});
               },
               0, false});
  c.push_back({"conv2d_nchw", Shape{1, 2, 4, 4}, [](GraphBuilder& b, int64_t x) {
                 ir::Conv2dNchwAttrs a;
                 a.stride_h = 2, a.stride_w = 1, a.pad_top = 1, a.pad_left = 0, a.pad_bottom = 0,
                 a.pad_right = 1;
                 a.dilation_h = 1, a.dilation_w = 2, a.groups = 2;
                 return b.add(OpKind::conv2d_nchw,
                              {x, b.constant(rand_tensor(Shape{4, 1, 2, 2}, 61)),
                               b.constant(rand_tensor(Shape{4}, 62))},
                              a);
               }});
  c.push_back({"max_pool2d_nchw", Shape{1, 1, 5, 5}, [](GraphBuilder& b, int64_t x) {
                 ir::PoolNchwAttrs a;
                 a.kH = 3, a.kW = 2, a.stride_h = 2, a.stride_w = 2, a.pad_top = 1, a.pad_left = 1,
                 a.pad_bottom = 1, a.pad_right = 0;
                 a.ceil_mode = true;
                 return b.add(OpKind::max_pool2d_nchw, {x}, a);
               }});
  for (bool include_pad : {false, true}) {
    c.push_back({include_pad ? "avg_pool2d_nchw_include_pad" : "avg_pool2d_nchw", Shape{1, 1, 5, 5},
                 [include_pad](GraphBuilder& b, int64_t x) {
                   ir::PoolNchwAttrs a;
                   a.kH = 3, a.kW = 3, a.stride_h = 2, a.stride_w = 2, a.pad_top = 1,
                   a.pad_left = 1, a.pad_bottom = 1, a.pad_right = 1;
                   a.ceil_mode = true, a.count_include_pad = include_pad;
                   return b.add(OpKind::avg_pool2d_nchw, {x}, a);
                 }});
  }
  return c;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class RuleSoundness : public ::testing::TestWithParam<Case> {};

TEST_P(RuleSoundness, ZeroViolationsBothSemantics) {
  const Case& tc = GetParam();
  for (Semantics sem : {Semantics::real, Semantics::float32}) {
    for (uint64_t seed : {1u, 2u}) {
      GraphBuilder b;
      const int64_t x = b.input(tc.in);
      b.mark_output(tc.build(b, x));
      auto [g, p] = std::move(b).finish();
      verify::Box box = random_box(tc.in.numel(), seed * 977 + tc.name.size(), tc.radius);
      for (int64_t i = 0; i < box.size(); ++i) box.lo[i] += tc.shift, box.hi[i] += tc.shift;
      if (sem == Semantics::float32 && !tc.float32) {
        EXPECT_THROW(check_soundness(g, p, sem, box, seed, 8), UserError);
        continue;
      }
      const SoundnessReport r = check_soundness(g, p, sem, box, seed, 40);
      EXPECT_GT(r.checks, 0);
      EXPECT_EQ(r.violations, 0) << tc.name << " " << verify::semantics_name(sem) << ": "
                                 << r.first;
      EXPECT_EQ(r.undecided, 0) << tc.name << " " << verify::semantics_name(sem);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, RuleSoundness, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace torchlean::testing
