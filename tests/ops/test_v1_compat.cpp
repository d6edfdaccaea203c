// The bit-compatibility contract between v1 payload ops and their extension-op rewrites (autodiff
// and importers rely on it): on random full-precision inputs, in F32 and F64,
//   reshape(conv2d_nchw(reshape(x), W, b))          == conv2d(x)            (N=1, groups 1)
//   reshape(max/avg_pool2d_nchw(reshape(x)))         == max/avg_pool2d_pad(x)
//   add(matmul(x, permute(W)), broadcast(b))         == linear(x)
// bit for bit, including the sign of zero.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean {
namespace {

using ir::OpKind;

// Uniform doubles in [-2, 2) with all 53 bits random, plus exact zeros of both signs.
Tensor<double> random_tensor(Shape shape, SplitMix64& rng) {
  Tensor<double> t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint64_t r = rng.next();
    if (r % 17 == 0)
      t[i] = (r & 32) ? -0.0 : 0.0;
    else
      t[i] = std::ldexp(static_cast<double>(r >> 11), -51) - 2.0;
  }
  return t;
}

struct Built {
  ir::Graph graph;
  ir::Payload payload;
};

Built finish(ir::GraphBuilder&& b, int64_t out) {
  b.mark_output(out);
  auto [g, p] = std::move(b).finish();
  return Built{std::move(g), std::move(p)};
}

template <class S>
Tensor<S> run(const Built& b, const Tensor<double>& x) {
  std::vector<S> v;
  for (double d : x.vec()) v.push_back(S::from_double(d));
  std::vector<Tensor<S>> in{Tensor<S>(x.shape(), std::move(v))};
  return interp::evaluate_outputs<S>(b.graph, ir::convert_payload<S>(b.payload), in).at(0);
}

template <class S>
void expect_same_bits(const Built& v1, const Built& ext, const Tensor<double>& x,
                      const std::string& what) {
  const Tensor<S> a = run<S>(v1, x), b = run<S>(ext, x);
  ASSERT_EQ(a.shape(), b.shape()) << what;
  int failures = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a[i].bits() != b[i].bits() && ++failures <= 3)
      ADD_FAILURE() << what << " element " << i << ": v1 " << to_string(a[i]) << ", extension "
                    << to_string(b[i]);
}

void expect_compatible(const Built& v1, const Built& ext, const Tensor<double>& x,
                       const std::string& what) {
  expect_same_bits<F32>(v1, ext, x, what + " (F32)");
  expect_same_bits<F64>(v1, ext, x, what + " (F64)");
}

TEST(V1Compat, Conv2dNchwIsConv2d) {
  SplitMix64 rng(11);
  struct Case {
    int64_t c, h, w, o, k_h, k_w, stride, pad;
  };
  for (const Case& cs :
       {Case{3, 7, 6, 4, 3, 3, 1, 1}, Case{2, 8, 9, 3, 2, 3, 2, 0}, Case{1, 5, 5, 2, 5, 1, 3, 2}}) {
    const Tensor<double> x = random_tensor(Shape{cs.c, cs.h, cs.w}, rng);
    const Tensor<double> w = random_tensor(Shape{cs.o, cs.c, cs.k_h, cs.k_w}, rng);
    const Tensor<double> b = random_tensor(Shape{cs.o}, rng);
    ir::GraphBuilder v1;
    int64_t in = v1.input(x.shape());
    int64_t y = v1.add(OpKind::conv2d, {in},
                       ir::Conv2dAttrs{cs.c, cs.o, cs.k_h, cs.k_w, cs.stride, cs.pad});
    v1.set_payload(y, "weight", w);
    v1.set_payload(y, "bias", b);
    const Shape out = v1.shape(y);
    ir::GraphBuilder ext;
    int64_t xin = ext.input(x.shape());
    int64_t x4 =
        ext.add(OpKind::reshape, {xin}, ir::ReshapeAttrs{x.shape(), Shape{1, cs.c, cs.h, cs.w}});
    int64_t wc = ext.constant(w), bc = ext.constant(b);
    int64_t y4 =
        ext.add(OpKind::conv2d_nchw, {x4, wc, bc},
                ir::Conv2dNchwAttrs{cs.stride, cs.stride, cs.pad, cs.pad, cs.pad, cs.pad, 1, 1, 1});
    int64_t y3 = ext.add(OpKind::reshape, {y4}, ir::ReshapeAttrs{ext.shape(y4), out});
    expect_compatible(finish(std::move(v1), y), finish(std::move(ext), y3), x, "conv " + out.str());
  }
}

TEST(V1Compat, PoolsNchwArePools) {
  SplitMix64 rng(12);
  struct Case {
    int64_t k_h, k_w, stride, pad;
  };
  for (const Case& cs : {Case{2, 2, 2, 0}, Case{3, 3, 1, 1}, Case{3, 2, 2, 1}}) {
    const Tensor<double> x = random_tensor(Shape{3, 7, 8}, rng);
    for (bool is_max : {true, false}) {
      ir::GraphBuilder v1;
      int64_t in = v1.input(x.shape());
      int64_t y = v1.add(is_max ? OpKind::max_pool2d_pad : OpKind::avg_pool2d_pad, {in},
                         ir::Pool2dPadAttrs{cs.k_h, cs.k_w, cs.stride, cs.pad});
      const Shape out = v1.shape(y);
      ir::GraphBuilder ext;
      int64_t xin = ext.input(x.shape());
      int64_t x4 = ext.add(OpKind::reshape, {xin}, ir::ReshapeAttrs{x.shape(), Shape{1, 3, 7, 8}});
      int64_t y4 = ext.add(is_max ? OpKind::max_pool2d_nchw : OpKind::avg_pool2d_nchw, {x4},
                           ir::PoolNchwAttrs{cs.k_h, cs.k_w, cs.stride, cs.stride, cs.pad, cs.pad,
                                             cs.pad, cs.pad, false, true});
      int64_t y3 = ext.add(OpKind::reshape, {y4}, ir::ReshapeAttrs{ext.shape(y4), out});
      expect_compatible(finish(std::move(v1), y), finish(std::move(ext), y3), x,
                        std::string(is_max ? "max" : "avg") + " pool " + out.str());
    }
  }
}

TEST(V1Compat, MatmulPermuteBroadcastIsLinear) {
  SplitMix64 rng(13);
  for (const Shape& xs : {Shape{5, 7}, Shape{2, 3, 7}, Shape{7}}) {
    const Tensor<double> x = random_tensor(xs, rng);
    const Tensor<double> w = random_tensor(Shape{4, 7}, rng);
    const Tensor<double> b = random_tensor(Shape{4}, rng);
    std::vector<int64_t> out_dims = xs.dims();
    out_dims.back() = 4;
    const Shape out(out_dims);
    ir::GraphBuilder v1;
    int64_t in = v1.input(xs);
    int64_t y = v1.add(OpKind::linear, {in}, ir::NoAttrs{}, out);
    v1.set_payload(y, "weight", w);
    v1.set_payload(y, "bias", b);
    ir::GraphBuilder ext;
    int64_t xin = ext.input(xs);
    // matmul needs rank >= 2: a vector input becomes one row.
    int64_t x2 =
        xs.rank() == 1 ? ext.add(OpKind::reshape, {xin}, ir::ReshapeAttrs{xs, Shape{1, 7}}) : xin;
    int64_t wt = ext.add(OpKind::permute, {ext.constant(w)}, ir::PermuteAttrs{{1, 0}});
    int64_t mm = ext.add(OpKind::matmul, {x2, wt});
    int64_t bb = ext.add(OpKind::broadcast, {ext.constant(b)}, ir::BroadcastAttrs{ext.shape(mm)});
    int64_t sum = ext.add(OpKind::add, {mm, bb});
    int64_t y2 =
        xs.rank() == 1 ? ext.add(OpKind::reshape, {sum}, ir::ReshapeAttrs{Shape{1, 4}, out}) : sum;
    expect_compatible(finish(std::move(v1), y), finish(std::move(ext), y2), x,
                      "linear " + xs.str());
  }
}

}  // namespace
}  // namespace torchlean
