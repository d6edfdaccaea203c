// Reduction, normalisation, pooling and loss kernels (runtime/reduce.hpp) against the reference
// evaluator, bit for bit, on every instruction-set path, binary32 and binary64, on random shapes
// and axes with NaN, +-0, +-inf, subnormals and huge values; the fast sums inside their declared
// bounds (and also inside gamma_{n-1} sum|x| of the exact rational sum); perturbed results
// rejected by the same comparison.
#include <gtest/gtest.h>
#include <gmpxx.h>

#include <string>
#include <vector>

#include "kernel_test_util.hpp"
#include "torchlean/runtime/reduce.hpp"

namespace torchlean::runtime {
namespace {

using testing::for_each_isa;
using testing::reference_op;
using testing::Values;

// (outer, len, inner) of `shape` around `axis`.
struct Axis3 {
  int64_t outer = 1, len = 1, inner = 1;
};
Axis3 split(const Shape& s, int64_t axis) {
  Axis3 a;
  for (int64_t i = 0; i < axis; ++i) a.outer *= s[i];
  a.len = s[axis];
  for (int64_t i = axis + 1; i < s.rank(); ++i) a.inner *= s[i];
  return a;
}
Shape drop_axis(const Shape& s, int64_t axis) {
  std::vector<int64_t> d = s.dims();
  d.erase(d.begin() + axis);
  return Shape(d);
}

template <class T>
void sum_matches_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(11);
    for (int trial = 0; trial < 30; ++trial) {
      const Shape shape = gen.shape(3, trial % 5 == 0 ? 40 : 9);
      const std::vector<T> x = gen.vec(shape.numel());
      const std::vector<T> want = reference_op<T>(ir::OpKind::sum, ir::NoAttrs{}, {{shape, x}}, Shape{});
      const std::vector<T> got = {sum_exact(x.data(), shape.numel())};
      EXPECT_SAME_BITS(got, want, "sum " + shape.str());
    }
  });
}
TEST(Reduce, SumMatchesReferenceF32) { sum_matches_reference<float>(); }
TEST(Reduce, SumMatchesReferenceF64) { sum_matches_reference<double>(); }

template <class T>
void reduce_axis_matches_reference(ir::OpKind kind) {
  for_each_isa([kind](Isa) {
    Values<T> gen(22);
    for (int trial = 0; trial < 40; ++trial) {
      const Shape shape = gen.shape(4, trial % 4 == 0 ? 13 : 6);
      const int64_t axis = gen.below(shape.rank());
      const Axis3 a = split(shape, axis);
      const std::vector<T> x = gen.vec(shape.numel());
      const Shape out = drop_axis(shape, axis);
      const std::vector<T> want = reference_op<T>(kind, ir::AxisAttrs{axis}, {{shape, x}}, out);
      std::vector<T> got(static_cast<size_t>(out.numel()));
      if (kind == ir::OpKind::reduce_sum)
        reduce_sum_exact(x.data(), got.data(), a.outer, a.len, a.inner);
      else
        reduce_mean_exact(x.data(), got.data(), a.outer, a.len, a.inner);
      EXPECT_SAME_BITS(got, want, std::string(ir::op_name(kind)) + " " + shape.str() + " axis " + std::to_string(axis));
    }
  });
}
TEST(Reduce, ReduceSumMatchesReferenceF32) { reduce_axis_matches_reference<float>(ir::OpKind::reduce_sum); }
TEST(Reduce, ReduceSumMatchesReferenceF64) { reduce_axis_matches_reference<double>(ir::OpKind::reduce_sum); }
TEST(Reduce, ReduceMeanMatchesReferenceF32) { reduce_axis_matches_reference<float>(ir::OpKind::reduce_mean); }
TEST(Reduce, ReduceMeanMatchesReferenceF64) { reduce_axis_matches_reference<double>(ir::OpKind::reduce_mean); }

template <class T>
void mse_matches_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(33);
    for (int trial = 0; trial < 30; ++trial) {
      const Shape shape = gen.shape(3, 12);
      const std::vector<T> y = gen.vec(shape.numel()), t = gen.vec(shape.numel());
      const std::vector<T> want =
          reference_op<T>(ir::OpKind::mse_loss, ir::NoAttrs{}, {{shape, y}, {shape, t}}, Shape{});
      const std::vector<T> got = {mse_loss_exact(y.data(), t.data(), shape.numel())};
      EXPECT_SAME_BITS(got, want, "mse_loss " + shape.str());
    }
  });
}
TEST(Reduce, MseLossMatchesReferenceF32) { mse_matches_reference<float>(); }
TEST(Reduce, MseLossMatchesReferenceF64) { mse_matches_reference<double>(); }

// Softmax: rows with a single huge logit, all-equal rows, -inf rows and NaN/inf poison, plus
// inner > 256 (the chunked path). binary64 exp runs MPFR per element: smaller shapes.
template <class T>
void softmax_matches_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(44, 0.05);
    const int64_t dim = std::is_same_v<T, float> ? 9 : 5;
    for (int trial = 0; trial < 30; ++trial) {
      // Trial 0: inner > 256 (chunked columns); trial 1: rows of 32 or more (vector steps).
      const bool chunked = trial == 0 && std::is_same_v<T, float>;
      const bool long_rows = trial == 1 || trial == 2;
      const int64_t row = std::is_same_v<T, float> ? 70 + trial : 33;
      const Shape shape = chunked ? Shape{2, 3, 300} : long_rows ? Shape{trial + 2, row} : gen.shape(3, dim);
      const int64_t axis = chunked || long_rows ? 1 : gen.below(shape.rank());
      const Axis3 a = split(shape, axis);
      std::vector<T> x = gen.vec(shape.numel());
      if (trial % 7 == 3) std::fill(x.begin(), x.end(), T(2));
      if (trial % 7 == 4)
        for (size_t i = 0; i < x.size(); i += 3) x[i] = T(80);
      std::vector<T> want = reference_op<T>(ir::OpKind::softmax, ir::AxisAttrs{axis}, {{shape, x}}, shape);
      std::vector<T> got(x.size());
      softmax_exact(x.data(), got.data(), a.outer, a.len, a.inner);
      const std::string what = "softmax " + shape.str() + " axis " + std::to_string(axis);
      EXPECT_SAME_BITS(got, want, what);
      softmax_exact(x.data(), x.data(), a.outer, a.len, a.inner);  // in place
      EXPECT_SAME_BITS(x, want, what + " in place");
    }
  });
}
TEST(Reduce, SoftmaxMatchesReferenceF32) { softmax_matches_reference<float>(); }
TEST(Reduce, SoftmaxMatchesReferenceF64) { softmax_matches_reference<double>(); }

template <class T>
void layernorm_matches_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(55, 0.05);
    for (int trial = 0; trial < 40; ++trial) {
      const Shape shape = gen.shape(4, 7);
      const int64_t axis = gen.below(shape.rank());
      int64_t rows = 1, width = 1;
      for (int64_t i = 0; i < shape.rank(); ++i) (i < axis ? rows : width) *= shape[i];
      std::vector<T> x = gen.vec(shape.numel());
      if (trial % 5 == 1) std::fill(x.begin(), x.end(), T(-0.0));  // -0 results become +0
      if (trial % 5 == 2)
        for (T& v : x) v = T(3) + v * T(1e-7);  // tiny variance: the clamp and eps matter
      std::vector<T> want = reference_op<T>(ir::OpKind::layernorm, ir::AxisAttrs{axis}, {{shape, x}}, shape);
      std::vector<T> got(x.size());
      layernorm_exact(x.data(), got.data(), rows, width);
      const std::string what = "layernorm " + shape.str() + " axis " + std::to_string(axis);
      EXPECT_SAME_BITS(got, want, what);
      layernorm_exact(x.data(), x.data(), rows, width);
      EXPECT_SAME_BITS(x, want, what + " in place");
    }
  });
}
TEST(Reduce, LayernormMatchesReferenceF32) { layernorm_matches_reference<float>(); }
TEST(Reduce, LayernormMatchesReferenceF64) { layernorm_matches_reference<double>(); }

template <class T>
void batch_norm_matches_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(66, 0.1);
    for (int trial = 0; trial < 25; ++trial) {
      const int64_t n = 1 + gen.below(3), c = 1 + gen.below(4), h = 1 + gen.below(6), w = 1 + gen.below(40);
      const Shape shape{n, c, h, w};
      const std::vector<T> x = gen.vec(shape.numel());
      std::vector<T> gamma = gen.vec(c), beta = gen.vec(c), mean = gen.vec(c), var = gen.vec(c);
      T eps = trial % 4 == 0 ? T(0) : T(1e-5);
      if (trial % 4 == 0) var[0] = T(0);  // d = 0: division by zero, inf / NaN results
      auto as_double = [](const std::vector<T>& v) {
        std::vector<double> d(v.begin(), v.end());
        return d;
      };
      ir::Payload payload;
      const Shape cs{c};
      payload[-1].emplace("gamma", Tensor<double>(cs, as_double(gamma)));
      payload[-1].emplace("beta", Tensor<double>(cs, as_double(beta)));
      payload[-1].emplace("mean", Tensor<double>(cs, as_double(mean)));
      payload[-1].emplace("var", Tensor<double>(cs, as_double(var)));
      payload[-1].emplace("eps", Tensor<double>(Shape{}, std::vector<double>{static_cast<double>(eps)}));
      const std::vector<T> want = reference_op<T>(ir::OpKind::batch_norm2d_nchw_eval,
                                                  ir::BatchNormAttrs{c}, {{shape, x}}, shape, payload);
      std::vector<T> got(x.size());
      batch_norm_exact(x.data(), gamma.data(), beta.data(), mean.data(), var.data(), eps, got.data(), n, c, h * w);
      EXPECT_SAME_BITS(got, want, "batch_norm " + shape.str());
    }
  });
}
TEST(Reduce, BatchNormMatchesReferenceF32) { batch_norm_matches_reference<float>(); }
TEST(Reduce, BatchNormMatchesReferenceF64) { batch_norm_matches_reference<double>(); }

// The four pools: strides 1..3, padding up to beyond the window (windows entirely in padding),
// and output rows wider than the kernels' 256-column chunk.
template <class T>
void pools_match_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(77, 0.1);
    for (int trial = 0; trial < 48; ++trial) {
      PoolGeometry g;
      g.channels = 1 + gen.below(3);
      g.in_h = 1 + gen.below(7);
      g.in_w = trial == 5 ? 600 : 1 + gen.below(12);
      g.k_h = 1 + gen.below(std::min<int64_t>(g.in_h, 3));
      g.k_w = 1 + gen.below(std::min<int64_t>(g.in_w, 4));
      g.stride = 1 + gen.below(3);
      const bool padded = trial % 2 == 1;
      g.padding = padded ? gen.below(g.k_h + 2) : 0;
      g.out_h = (g.in_h + 2 * g.padding - g.k_h) / g.stride + 1;
      g.out_w = (g.in_w + 2 * g.padding - g.k_w) / g.stride + 1;
      const Shape in{g.channels, g.in_h, g.in_w}, out{g.channels, g.out_h, g.out_w};
      const std::vector<T> x = gen.vec(in.numel());
      const std::string geo = in.str() + " k " + std::to_string(g.k_h) + "x" + std::to_string(g.k_w) +
                              " s " + std::to_string(g.stride) + " p " + std::to_string(g.padding);
      for (bool is_max : {true, false}) {
        std::vector<T> want;
        if (padded) {
          const ir::Pool2dPadAttrs attrs{g.k_h, g.k_w, g.stride, g.padding};
          want = reference_op<T>(is_max ? ir::OpKind::max_pool2d_pad : ir::OpKind::avg_pool2d_pad,
                                 attrs, {{in, x}}, out);
        } else {
          const ir::Pool2dAttrs attrs{g.k_h, g.k_w, g.stride};
          want = reference_op<T>(is_max ? ir::OpKind::max_pool2d : ir::OpKind::avg_pool2d, attrs,
                                 {{in, x}}, out);
        }
        std::vector<T> got(static_cast<size_t>(out.numel()));
        if (is_max)
          max_pool2d_exact(x.data(), got.data(), g);
        else
          avg_pool2d_exact(x.data(), got.data(), g);
        EXPECT_SAME_BITS(got, want, std::string(is_max ? "max" : "avg") + "_pool " + geo);
      }
    }
  });
}
TEST(Reduce, PoolsMatchReferenceF32) { pools_match_reference<float>(); }
TEST(Reduce, PoolsMatchReferenceF64) { pools_match_reference<double>(); }

// ---- fast variants ----------------------------------------------------------------------------

// The exact rational sum, rounded to double (for the gamma check against the true value).
template <class T>
mpq_class exact_sum(const T* x, int64_t n) {
  mpq_class s = 0;
  for (int64_t i = 0; i < n; ++i) s += mpq_class(static_cast<double>(x[i]));
  return s;
}

template <class T>
void fast_sums_within_bounds() {
  for_each_isa([](Isa) {
    Values<T> gen(88, 0.0);
    int positive_bounds = 0, differing = 0;
    for (int trial = 0; trial < 60; ++trial) {
      const int64_t n = trial < 50 ? gen.below(3000) : 1 + gen.below(3);
      std::vector<T> x = gen.vec(n);
      // Heavy cancellation in some trials: the bound must hold where the result is tiny.
      if (trial % 3 == 0)
        for (int64_t i = 0; i + 1 < n; i += 2) x[static_cast<size_t>(i + 1)] = -x[static_cast<size_t>(i)] * T(1.0000001);
      const T exact = sum_exact(x.data(), n);
      const T fast = sum_fast(x.data(), n);
      const double bound = sum_fast_bound(x.data(), n);
      ASSERT_TRUE(within_fast_bound(fast, exact, bound)) << "n=" << n << " fast " << fast << " exact " << exact << " bound " << bound;
      positive_bounds += bound > 0;
      differing += testing::bits_of(fast) != testing::bits_of(exact);
      // Both are within half the bound (gamma_{n-1} sum|x|) of the exact rational sum.
      if (bound > 0) {
        const mpq_class s = exact_sum(x.data(), n);
        const mpq_class half(bound / 2);
        EXPECT_LE(abs(mpq_class(static_cast<double>(fast)) - s), half);
        EXPECT_LE(abs(mpq_class(static_cast<double>(exact)) - s), half);
      }
      // A result moved to just beyond the bound is rejected.
      if (bound > 0 && std::isfinite(exact)) {
        const T outside = static_cast<T>(static_cast<double>(exact) + 2 * bound);
        if (std::fabs(static_cast<double>(outside) - static_cast<double>(exact)) > bound) {
          EXPECT_FALSE(within_fast_bound(outside, exact, bound));
        }
      }
      // mean
      const int64_t outer = 1 + gen.below(3);
      const int64_t len = n / outer;
      std::vector<T> ye(static_cast<size_t>(outer)), yf(static_cast<size_t>(outer));
      std::vector<double> b(static_cast<size_t>(outer));
      reduce_mean_exact(x.data(), ye.data(), outer, len, 1);
      reduce_mean_fast(x.data(), yf.data(), outer, len, 1);
      reduce_mean_fast_bound(x.data(), b.data(), outer, len, 1);
      for (size_t o = 0; o < ye.size(); ++o) ASSERT_TRUE(within_fast_bound(yf[o], ye[o], b[o])) << "mean row " << o;
      reduce_sum_exact(x.data(), ye.data(), outer, len, 1);
      reduce_sum_fast(x.data(), yf.data(), outer, len, 1);
      reduce_sum_fast_bound(x.data(), b.data(), outer, len, 1);
      for (size_t o = 0; o < ye.size(); ++o) ASSERT_TRUE(within_fast_bound(yf[o], ye[o], b[o])) << "sum row " << o;
      // mse
      const std::vector<T> t = gen.vec(n);
      const T me = mse_loss_exact(x.data(), t.data(), n), mf = mse_loss_fast(x.data(), t.data(), n);
      ASSERT_TRUE(within_fast_bound(mf, me, mse_loss_fast_bound(x.data(), t.data(), n))) << "mse n=" << n;
    }
    EXPECT_GT(positive_bounds, 30);
    if (std::is_same_v<T, float>) {
      EXPECT_GT(differing, 0);  // the reordering is real
    }
  });
}
TEST(ReduceFast, WithinBoundsF32) { fast_sums_within_bounds<float>(); }
TEST(ReduceFast, WithinBoundsF64) { fast_sums_within_bounds<double>(); }

// NaN, infinities and sums near overflow: the fast kernels take the exact path, bound 0.
template <class T>
void fast_special_inputs_take_the_exact_path() {
  for_each_isa([](Isa) {
    using L = std::numeric_limits<T>;
    const std::vector<std::vector<T>> cases = {
        std::vector<T>(100, L::max() / T(64)),                        // partial sums overflow
        [] { std::vector<T> v(100, T(1)); v[50] = L::quiet_NaN(); return v; }(),
        [] { std::vector<T> v(100, T(1)); v[3] = L::infinity(); v[70] = -L::infinity(); return v; }(),
        [] { std::vector<T> v(100, T(1)); v[0] = L::max(); v[1] = L::max(); v[2] = -L::max(); return v; }(),
    };
    for (const std::vector<T>& x : cases) {
      const int64_t n = static_cast<int64_t>(x.size());
      EXPECT_EQ(sum_fast_bound(x.data(), n), 0.0);
      EXPECT_EQ(testing::bits_of(sum_fast(x.data(), n)), testing::bits_of(sum_exact(x.data(), n)));
      EXPECT_EQ(testing::bits_of(mse_loss_fast(x.data(), x.data() + 1, n - 1)),
                testing::bits_of(mse_loss_exact(x.data(), x.data() + 1, n - 1)));
    }
  });
}
TEST(ReduceFast, SpecialInputsTakeTheExactPathF32) { fast_special_inputs_take_the_exact_path<float>(); }
TEST(ReduceFast, SpecialInputsTakeTheExactPathF64) { fast_special_inputs_take_the_exact_path<double>(); }

TEST(ReduceFast, WithinBoundComparison) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(within_fast_bound(nan, nan, 0.0));
  EXPECT_TRUE(within_fast_bound(1.0f, 1.0f, 0.0));
  EXPECT_FALSE(within_fast_bound(-0.0f, 0.0f, 0.0));  // bound 0 means the same bits
  EXPECT_TRUE(within_fast_bound(-0.0f, 0.0f, 1e-30));
  EXPECT_FALSE(within_fast_bound(std::nextafter(1.0f, 2.0f), 1.0f, 0.0));
  EXPECT_TRUE(within_fast_bound(std::nextafter(1.0f, 2.0f), 1.0f, 0x1p-23));
  EXPECT_FALSE(within_fast_bound(std::nextafter(1.0f, 2.0f), 1.0f, 0x1p-24));
  EXPECT_FALSE(within_fast_bound(std::numeric_limits<float>::infinity(), 1.0f, 1e300));
  EXPECT_FALSE(within_fast_bound(nan, 1.0f, 1e300));
  // A difference that rounds down in binary64 is still rejected: 1e30 - 1e-30 > 1e30 exactly.
  EXPECT_FALSE(within_fast_bound(1e30, -1e-30, 1e30));
}

}  // namespace
}  // namespace torchlean::runtime
