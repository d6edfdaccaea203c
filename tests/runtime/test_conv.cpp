// Tests of conv2d via im2col + GEMM: bit-identical to the reference evaluator's conv2d (F32 and
// F64) over padding, stride, non-square kernels, the direct 1x1 path, k across the GEMM's k block,
// special values and 1 vs 2 threads; a padding tap meeting an infinite weight gives NaN as the
// spec says; the fast variant stays inside its declared bound and a perturbed output leaves it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "linalg_test_util.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/runtime/conv.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {
namespace {

using testing::random_vector;
using testing::show;

struct Geometry {
  int64_t c, h, w, oc, kh, kw, stride, padding;
};

// Padding, stride, non-square kernels, 1x1 direct and not, windows entirely in the padding, a
// 1x1 output, outC = 0, and inC*kH*kW = 288 > 256 (two GEMM k blocks).
const Geometry kGeometries[] = {
    {1, 5, 5, 1, 3, 3, 1, 0},   {3, 8, 7, 4, 3, 3, 1, 1},  {2, 9, 9, 3, 5, 5, 2, 2},
    {4, 6, 6, 5, 1, 1, 1, 0},   {3, 7, 5, 2, 1, 1, 2, 1},  {2, 4, 4, 3, 4, 4, 1, 0},
    {1, 3, 3, 2, 3, 2, 3, 2},   {1, 2, 2, 1, 2, 2, 1, 3},  {5, 12, 12, 7, 3, 3, 1, 1},
    {3, 10, 10, 0, 3, 3, 1, 1}, {32, 6, 6, 4, 3, 3, 1, 1}, {6, 11, 13, 9, 2, 3, 2, 1}};

template <class T>
struct ConvCase {
  Geometry g;
  int64_t oh, ow;
  std::vector<T> x, w, bias;

  ConvCase(std::mt19937_64& rng, const Geometry& geo, double special)
      : g(geo),
        oh(conv2d_out_extent(geo.h, geo.kh, geo.stride, geo.padding)),
        ow(conv2d_out_extent(geo.w, geo.kw, geo.stride, geo.padding)),
        x(random_vector<T>(rng, geo.c * geo.h * geo.w, special)),
        w(random_vector<T>(rng, geo.oc * geo.c * geo.kh * geo.kw, special)),
        bias(random_vector<T>(rng, geo.oc, special)) {}

  int64_t out_elems() const { return g.oc * oh * ow; }
  std::vector<T> workspace() const {
    return std::vector<T>(std::max<size_t>(
        conv2d_workspace_elems(g.c, g.h, g.w, g.kh, g.kw, g.stride, g.padding), 1));
  }
  std::vector<T> run_exact(ThreadPool* pool) const {
    std::vector<T> y(static_cast<size_t>(out_elems())), ws = workspace();
    conv2d_chw_exact(x.data(), g.c, g.h, g.w, w.data(), bias.data(), g.oc, g.kh, g.kw, g.stride,
                     g.padding, y.data(), ws.data(), pool);
    return y;
  }
  std::vector<T> run_fast(ThreadPool* pool) const {
    std::vector<T> y(static_cast<size_t>(out_elems())), ws = workspace();
    conv2d_chw_fast(x.data(), g.c, g.h, g.w, w.data(), bias.data(), g.oc, g.kh, g.kw, g.stride,
                    g.padding, y.data(), ws.data(), pool);
    return y;
  }
  std::vector<T> run_bound(ThreadPool* pool) const {
    std::vector<T> b(static_cast<size_t>(out_elems())), ws = workspace();
    conv2d_chw_fast_bound(x.data(), g.c, g.h, g.w, w.data(), bias.data(), g.oc, g.kh, g.kw,
                          g.stride, g.padding, b.data(), ws.data(), pool);
    return b;
  }

  // The reference evaluator's conv2d on the same values.
  Tensor<IeeeScalar<T>> reference() const {
    using S = IeeeScalar<T>;
    auto tensor = [](const Shape& s, const std::vector<T>& v) {
      std::vector<S> out;
      for (T e : v) out.push_back(S::of(e));
      return Tensor<S>(s, std::move(out));
    };
    ir::Graph graph;
    const Shape sx{g.c, g.h, g.w};
    const int64_t ix = graph.add(ir::OpKind::input, {}, ir::NoAttrs{}, sx);
    const int64_t iy =
        graph.add(ir::OpKind::conv2d, {ix},
                  ir::Conv2dAttrs{g.c, g.oc, g.kh, g.kw, g.stride, g.padding}, Shape{g.oc, oh, ow});
    graph.input_ids = {ix};
    graph.output_ids = {iy};
    ir::PayloadStore<S> payload;
    payload[iy].emplace("weight", tensor(Shape{g.oc, g.c, g.kh, g.kw}, w));
    payload[iy].emplace("bias", tensor(Shape{g.oc}, bias));
    const std::vector<Tensor<S>> inputs = {tensor(sx, x)};
    return interp::evaluate_outputs<S>(graph, payload, inputs)[0];
  }
};

std::string describe(const Geometry& g) {
  return "conv C=" + std::to_string(g.c) + " H=" + std::to_string(g.h) +
         " W=" + std::to_string(g.w) + " outC=" + std::to_string(g.oc) +
         " k=" + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
         " s=" + std::to_string(g.stride) + " p=" + std::to_string(g.padding);
}

template <class T>
void expect_matches_evaluator(double special) {
  std::mt19937_64 rng(31 + sizeof(T) + static_cast<uint64_t>(special * 1000));
  ThreadPool two(2);
  for (const Geometry& geo : kGeometries) {
    const ConvCase<T> c(rng, geo, special);
    const auto want = c.reference();
    ASSERT_EQ(want.numel(), c.out_elems()) << describe(geo);
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &two}) {
      const std::vector<T> got = c.run_exact(pool);
      int64_t bad = 0;
      for (int64_t e = 0; e < c.out_elems(); ++e) {
        if (testing::bits_of(got[static_cast<size_t>(e)]) != testing::bits_of(want[e].v) &&
            bad++ < 3)
          ADD_FAILURE() << describe(geo) << (pool ? " 2 threads" : " 1 thread") << " element " << e
                        << ": " << show(got[static_cast<size_t>(e)]) << ", reference "
                        << show(want[e].v);
      }
      EXPECT_EQ(bad, 0) << describe(geo);
    }
  }
}

TEST(Conv2dExact, MatchesTheEvaluatorFloat) { expect_matches_evaluator<float>(0.0); }
TEST(Conv2dExact, MatchesTheEvaluatorDouble) { expect_matches_evaluator<double>(0.0); }
TEST(Conv2dExact, MatchesTheEvaluatorWithSpecialsFloat) { expect_matches_evaluator<float>(0.03); }
TEST(Conv2dExact, MatchesTheEvaluatorWithSpecialsDouble) { expect_matches_evaluator<double>(0.03); }

// x = 1 everywhere, one weight tap (kh=0, kw=0) = +inf, the rest 0, padding 1. An output whose
// top-left tap is a padding cell computes fma(+0, inf, acc) = NaN (the tap is multiplied, not
// skipped); every other output is 1 * inf = +inf.
TEST(Conv2dExact, PaddingTapTimesInfiniteWeightIsNan) {
  const Geometry g{1, 4, 4, 1, 3, 3, 1, 1};
  std::mt19937_64 rng(1);
  ConvCase<float> c(rng, g, 0.0);
  std::fill(c.x.begin(), c.x.end(), 1.0f);
  std::fill(c.w.begin(), c.w.end(), 0.0f);
  c.w[0] = std::numeric_limits<float>::infinity();
  c.bias[0] = 0.5f;
  const std::vector<float> y = c.run_exact(nullptr);
  for (int64_t oh = 0; oh < c.oh; ++oh) {
    for (int64_t ow = 0; ow < c.ow; ++ow) {
      const float v = y[static_cast<size_t>(oh * c.ow + ow)];
      if (oh == 0 || ow == 0)
        EXPECT_TRUE(testing::is_canonical_nan(v)) << oh << "," << ow << ": " << show(v);
      else
        EXPECT_EQ(v, std::numeric_limits<float>::infinity()) << oh << "," << ow;
    }
  }
}

TEST(Conv2dExact, OutputExtentAndWorkspace) {
  EXPECT_EQ(conv2d_out_extent(5, 3, 1, 0), 3);
  EXPECT_EQ(conv2d_out_extent(9, 5, 2, 2), 5);  // (9 + 4 - 5) / 2 + 1
  EXPECT_EQ(conv2d_out_extent(2, 2, 1, 3), 7);  // (2 + 6 - 2) / 1 + 1
  EXPECT_EQ(conv2d_out_extent(2, 5, 1, 0), 0);  // the window does not fit
  EXPECT_EQ(conv2d_workspace_elems(3, 8, 7, 3, 3, 1, 1), size_t{3 * 9 * 8 * 7});
}

template <class T>
void expect_fast_within_bound() {
  std::mt19937_64 rng(77 + sizeof(T));
  ThreadPool two(2);
  for (const Geometry& geo : kGeometries) {
    const ConvCase<T> c(rng, geo, 0.0);
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &two}) {
      const std::vector<T> exact = c.run_exact(pool);
      const std::vector<T> fast = c.run_fast(pool);
      const std::vector<T> bound = c.run_bound(pool);
      for (size_t e = 0; e < exact.size(); ++e) {
        ASSERT_TRUE(std::isfinite(bound[e])) << describe(geo);
        EXPECT_TRUE(within_bound(fast[e], exact[e], bound[e]))
            << describe(geo) << " element " << e << ": fast " << show(fast[e]) << ", exact "
            << show(exact[e]) << ", bound " << show(bound[e]);
        // A value beyond the bound is rejected, so this check can fail.
        T bad = static_cast<T>(static_cast<double>(exact[e]) + 2.0 * static_cast<double>(bound[e]));
        while (std::fabs(static_cast<double>(bad) - static_cast<double>(exact[e])) <=
               static_cast<double>(bound[e]))
          bad = std::nextafter(bad, std::numeric_limits<T>::infinity());
        EXPECT_FALSE(within_bound(bad, exact[e], bound[e])) << describe(geo);
      }
    }
  }
}

TEST(Conv2dFast, WithinItsBoundFloat) { expect_fast_within_bound<float>(); }
TEST(Conv2dFast, WithinItsBoundDouble) { expect_fast_within_bound<double>(); }

}  // namespace
}  // namespace torchlean::runtime
