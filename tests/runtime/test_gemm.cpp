// Tests of the exact-order GEMM (every ISA path this CPU runs, 1 and 2 threads) against an
// independent std::fma fold in the reference order and against the reference evaluator's matmul
// and linear; IEEE corner cases with values derived by hand; and gemm_fast against the bound it
// declares, which is also checked against the exact rational dot product (GMP).
#include <gmpxx.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include "linalg_test_util.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {
namespace {

using testing::random_vector;
using testing::same_bits;
using testing::show;

std::vector<GemmPath> supported_paths() {
  std::vector<GemmPath> out;
  for (GemmPath p : {GemmPath::portable, GemmPath::avx2, GemmPath::avx512})
    if (gemm_path_supported(p)) out.push_back(p);
  return out;
}

enum class Bias { none, per_column, per_row };

// A problem with its own storage. Leading dimensions exceed the logical widths by `pad`; the
// padding of C holds a sentinel that no kernel may overwrite.
template <class T>
struct Problem {
  int64_t m, n, k;
  bool bt;
  Bias bias_mode;
  int64_t lda, ldb, ldc;
  std::vector<T> a, b, bias;

  Problem(std::mt19937_64& rng, int64_t m_, int64_t n_, int64_t k_, bool bt_, Bias bias_mode_,
          int64_t pad, double special)
      : m(m_),
        n(n_),
        k(k_),
        bt(bt_),
        bias_mode(bias_mode_),
        lda(k_ + pad),
        ldb((bt_ ? k_ : n_) + pad),
        ldc(n_ + pad) {
    a = random_vector<T>(rng, std::max<int64_t>(m * lda, 1), special);
    b = random_vector<T>(rng, std::max<int64_t>((bt ? n : k) * ldb, 1), special);
    bias = random_vector<T>(rng, std::max<int64_t>(bias_mode == Bias::per_row ? m : n, 1), special);
  }
  bool has_bias() const { return bias_mode != Bias::none; }
  T at_a(int64_t i, int64_t q) const { return a[static_cast<size_t>(i * lda + q)]; }
  T at_b(int64_t q, int64_t j) const {
    return bt ? b[static_cast<size_t>(j * ldb + q)] : b[static_cast<size_t>(q * ldb + j)];
  }
  GemmProblem<T> view(T* c) const {
    return GemmProblem<T>{m,
                          n,
                          k,
                          a.data(),
                          lda,
                          b.data(),
                          ldb,
                          bt,
                          c,
                          ldc,
                          has_bias() ? bias.data() : nullptr,
                          bias_mode == Bias::per_row};
  }
  static T sentinel() { return T(-12345.0); }
  std::vector<T> fresh_c() const {
    return std::vector<T>(static_cast<size_t>(std::max<int64_t>(m * ldc, 1)), sentinel());
  }
};

// The reference order written independently: fold from +0 with std::fma over increasing k, then
// one addition of the bias, then NaN canonicalised.
template <class T>
T reference_element(const Problem<T>& p, int64_t i, int64_t j) {
  T acc = T(0);
  for (int64_t q = 0; q < p.k; ++q) acc = std::fma(p.at_a(i, q), p.at_b(q, j), acc);
  if (p.has_bias()) acc = acc + p.bias[static_cast<size_t>(p.bias_mode == Bias::per_row ? i : j)];
  return std::isnan(acc) ? std::numeric_limits<T>::quiet_NaN() : acc;
}

template <class T>
std::vector<T> reference_product(const Problem<T>& p) {
  std::vector<T> out(static_cast<size_t>(p.m * p.n));
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j)
      out[static_cast<size_t>(i * p.n + j)] = reference_element(p, i, j);
  return out;
}

// Bitwise equality with the reference (canonical NaN bits included), and an untouched C padding.
template <class T>
void expect_matches(const Problem<T>& p, const std::vector<T>& ref, const std::vector<T>& c,
                    const std::string& what) {
  int64_t bad = 0;
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.ldc; ++j) {
      const T got = c[static_cast<size_t>(i * p.ldc + j)];
      const T want = j < p.n ? ref[static_cast<size_t>(i * p.n + j)] : Problem<T>::sentinel();
      if (testing::bits_of(got) != testing::bits_of(want) && bad++ < 3)
        ADD_FAILURE() << what << " C[" << i << "," << j << "] = " << show(got) << ", want "
                      << show(want);
    }
  }
  EXPECT_EQ(bad, 0) << what;
}

struct Shape3 {
  int64_t m, n, k;
};

// Edge sizes, primes, both sides of the small-m switch (8), single rows with full and partial
// column blocks, k across the 256 block, m across the AVX-512 binary32 row block (480) and the
// portable one (64), n across the portable column block, narrow tiles (n <= 16), A read in place
// (<= 2 panels) with a partial last sliver, and packed A (more panels).
const Shape3 kShapes[] = {{0, 5, 3},    {5, 0, 3},     {4, 5, 0},     {1, 1, 1},     {1, 37, 300},
                          {1, 200, 50}, {2, 16, 16},   {3, 100, 17},  {5, 130, 40},  {7, 13, 97},
                          {8, 33, 31},  {9, 33, 31},   {13, 50, 257}, {31, 67, 600}, {500, 20, 40},
                          {70, 3, 5},   {40, 10, 300}, {10, 1030, 7}};

template <class T>
void run_exact_sweep(double special) {
  std::mt19937_64 rng(sizeof(T) * 1000 + static_cast<uint64_t>(special * 100));
  ThreadPool two(2);
  for (const Shape3& s : kShapes) {
    for (bool bt : {false, true}) {
      for (Bias bias : {Bias::none, Bias::per_column, Bias::per_row}) {
        const int64_t pad = (s.m + s.n) % 3;
        Problem<T> p(rng, s.m, s.n, s.k, bt, bias, pad, special);
        const std::vector<T> ref = reference_product(p);
        for (GemmPath path : supported_paths()) {
          for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &two}) {
            std::vector<T> c = p.fresh_c();
            gemm_exact(p.view(c.data()), pool, path);
            expect_matches(p, ref, c,
                           std::string(gemm_path_name(path)) + " m=" + std::to_string(s.m) +
                               " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) +
                               (bt ? " B^T" : "") +
                               (bias == Bias::per_row      ? " +row bias"
                                : bias == Bias::per_column ? " +bias"
                                                           : "") +
                               (pool ? " 2 threads" : " 1 thread"));
          }
        }
      }
    }
  }
}

TEST(GemmExact, MatchesTheReferenceFoldOnEveryPathFloat) { run_exact_sweep<float>(0.0); }
TEST(GemmExact, MatchesTheReferenceFoldOnEveryPathDouble) { run_exact_sweep<double>(0.0); }
TEST(GemmExact, MatchesTheReferenceFoldWithSpecialsFloat) { run_exact_sweep<float>(0.03); }
TEST(GemmExact, MatchesTheReferenceFoldWithSpecialsDouble) { run_exact_sweep<double>(0.03); }

// Large enough to be split into many tasks: 1, 2 and 3 threads give the same bits on every path.
TEST(GemmExact, ThreadCountDoesNotChangeBits) {
  std::mt19937_64 rng(3);
  for (bool bt : {false, true}) {
    Problem<float> p(rng, 130, 257, 300, bt, Bias::per_column, 1, 0.01);
    for (GemmPath path : supported_paths()) {
      std::vector<float> one = p.fresh_c();
      gemm_exact(p.view(one.data()), nullptr, path);
      for (int threads : {2, 3}) {
        ThreadPool pool(threads);
        std::vector<float> many = p.fresh_c();
        gemm_exact(p.view(many.data()), &pool, path);
        size_t differ = 0;
        for (size_t e = 0; e < one.size(); ++e)
          differ += testing::bits_of(one[e]) != testing::bits_of(many[e]);
        EXPECT_EQ(differ, 0u) << gemm_path_name(path) << ", " << threads << " threads";
      }
    }
  }
}

// The sweep above has power only if the data makes order visible: folding k backwards must give
// different bits for many elements.
TEST(GemmExact, TestDataIsOrderSensitive) {
  std::mt19937_64 rng(7);
  Problem<float> p(rng, 16, 16, 300, false, Bias::none, 0, 0.0);
  int64_t differ = 0;
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      float back = 0.0f;
      for (int64_t q = p.k; q-- > 0;) back = std::fma(p.at_a(i, q), p.at_b(q, j), back);
      differ += testing::bits_of(back) != testing::bits_of(reference_element(p, i, j));
    }
  }
  EXPECT_GT(differ, p.m * p.n / 4);
}

template <class T>
T run_single(const std::vector<T>& a_row, const std::vector<T>& b_col,
             const std::type_identity_t<T>* bias, GemmPath path, bool bt) {
  const int64_t k = static_cast<int64_t>(a_row.size());
  T c = T(7);
  GemmProblem<T> p{1, 1, k, a_row.data(), k, b_col.data(), bt ? k : 1, bt, &c, 1, bias};
  gemm_exact(p, nullptr, path);
  return c;
}

// 1 + 2^-24 + 2^-24 in that order is 1 (each addition ties to even); with the two small terms in
// the second k block, a kernel that summed blocks separately would return 1 + 2^-23.
TEST(GemmExact, KBlocksContinueTheSameFold) {
  for (GemmPath path : supported_paths()) {
    for (bool bt : {false, true}) {
      std::vector<float> a(600, 0.0f), b(600, 1.0f);
      a[0] = 1.0f;
      a[300] = std::ldexp(1.0f, -24);
      a[301] = std::ldexp(1.0f, -24);
      EXPECT_EQ(run_single(a, b, nullptr, path, bt), 1.0f) << gemm_path_name(path);
      // Reversed placement: the small terms first make 2^-23, then 1 + 2^-23 is exact.
      std::vector<float> a2(600, 0.0f);
      a2[0] = std::ldexp(1.0f, -24);
      a2[1] = std::ldexp(1.0f, -24);
      a2[300] = 1.0f;
      EXPECT_EQ(run_single(a2, b, nullptr, path, bt), 1.0f + std::ldexp(1.0f, -23))
          << gemm_path_name(path);
    }
  }
}

// The fold starts from +0: products that are all -0 give +0 (+0 + -0 = +0 in round to nearest);
// an empty fold plus a -0 bias is +0 as well.
TEST(GemmExact, SignedZerosFollowTheFoldFromPlusZero) {
  for (GemmPath path : supported_paths()) {
    std::vector<float> a(5, -0.0f), b(5, 3.0f);
    const float r = run_single(a, b, nullptr, path, false);
    EXPECT_EQ(testing::bits_of(r), testing::bits_of(0.0f)) << gemm_path_name(path);
    const float minus_zero = -0.0f;
    const float e =
        run_single(std::vector<float>{}, std::vector<float>{}, &minus_zero, path, false);
    EXPECT_EQ(testing::bits_of(e), testing::bits_of(0.0f)) << gemm_path_name(path);
    // The bias is added after the fold, once: (+0) + (-0) = +0 even with a k = 5 fold.
    const float f = run_single(a, b, &minus_zero, path, true);
    EXPECT_EQ(testing::bits_of(f), testing::bits_of(0.0f)) << gemm_path_name(path);
  }
}

TEST(GemmExact, NanResultsAreCanonical) {
  const float payload_nan = std::bit_cast<float>(uint32_t{0xffc01234});
  const float inf = std::numeric_limits<float>::infinity();
  for (GemmPath path : supported_paths()) {
    for (bool bt : {false, true}) {
      EXPECT_TRUE(testing::is_canonical_nan(run_single(
          std::vector<float>{1, payload_nan}, std::vector<float>{1, 1}, nullptr, path, bt)));
      // inf * 0 and inf + (-inf) are invalid operations.
      EXPECT_TRUE(testing::is_canonical_nan(
          run_single(std::vector<float>{inf}, std::vector<float>{0}, nullptr, path, bt)));
      EXPECT_TRUE(testing::is_canonical_nan(
          run_single(std::vector<float>{inf, inf}, std::vector<float>{1, -1}, nullptr, path, bt)));
      EXPECT_TRUE(testing::is_canonical_nan(
          run_single(std::vector<float>{}, std::vector<float>{}, &payload_nan, path, bt)));
    }
  }
}

TEST(GemmExact, UnsupportedPathIsAUserError) {
  for (GemmPath path : {GemmPath::avx2, GemmPath::avx512}) {
    if (gemm_path_supported(path)) continue;
    float c = 0;
    GemmProblem<float> p{0, 0, 0, nullptr, 0, nullptr, 0, false, &c, 0, nullptr};
    EXPECT_THROW(gemm_exact(p, nullptr, path), UserError);
  }
  EXPECT_TRUE(gemm_path_supported(GemmPath::portable));
  EXPECT_TRUE(gemm_path_supported(gemm_default_path()));
}

// --- against the project's reference evaluator -------------------------------------------------

template <class T>
using Scalar = IeeeScalar<T>;

template <class T>
Tensor<Scalar<T>> to_tensor(const Shape& s, const std::vector<T>& v) {
  std::vector<Scalar<T>> out;
  for (int64_t i = 0; i < s.numel(); ++i) out.push_back(Scalar<T>::of(v[static_cast<size_t>(i)]));
  return Tensor<Scalar<T>>(s, std::move(out));
}

template <class T>
void expect_tensor_bits(const Tensor<Scalar<T>>& want, const std::vector<T>& got,
                        const std::string& what) {
  ASSERT_EQ(static_cast<size_t>(want.numel()), got.size()) << what;
  int64_t bad = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    if (testing::bits_of(want[i].v) != testing::bits_of(got[static_cast<size_t>(i)]) && bad++ < 3)
      ADD_FAILURE() << what << " element " << i << ": " << show(got[static_cast<size_t>(i)])
                    << ", reference " << show(want[i].v);
  EXPECT_EQ(bad, 0) << what;
}

template <class T>
void check_matmul_against_evaluator(int64_t batch, int64_t m, int64_t k, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Shape sa = batch ? Shape{batch, m, k} : Shape{m, k};
  const Shape sb = batch ? Shape{batch, k, n} : Shape{k, n};
  const Shape sc = batch ? Shape{batch, m, n} : Shape{m, n};
  const int64_t nb = batch ? batch : 1;
  std::vector<T> a = random_vector<T>(rng, sa.numel(), 0.02);
  std::vector<T> b = random_vector<T>(rng, sb.numel(), 0.02);
  ir::Graph g;
  const int64_t ia = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, sa);
  const int64_t ib = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, sb);
  const int64_t ic = g.add(ir::OpKind::matmul, {ia, ib}, ir::NoAttrs{}, sc);
  g.input_ids = {ia, ib};
  g.output_ids = {ic};
  const std::vector<Tensor<Scalar<T>>> inputs = {to_tensor(sa, a), to_tensor(sb, b)};
  const auto want = interp::evaluate_outputs<Scalar<T>>(g, {}, inputs);
  ThreadPool two(2);
  for (GemmPath path : supported_paths()) {
    std::vector<T> c(static_cast<size_t>(sc.numel()));
    for (int64_t q = 0; q < nb; ++q) {
      GemmProblem<T> p{m,
                       n,
                       k,
                       a.data() + q * m * k,
                       k,
                       b.data() + q * k * n,
                       n,
                       false,
                       c.data() + q * m * n,
                       n,
                       nullptr};
      gemm_exact(p, &two, path);
    }
    expect_tensor_bits(
        want[0], c,
        std::string("matmul ") + sa.str() + " x " + sb.str() + " " + gemm_path_name(path));
  }
}

template <class T>
void check_linear_against_evaluator(const Shape& sx, int64_t out, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t in = sx[sx.rank() - 1];
  const int64_t rows = sx.numel() / std::max<int64_t>(in, 1);
  std::vector<T> x = random_vector<T>(rng, sx.numel(), 0.02);
  std::vector<T> w = random_vector<T>(rng, out * in, 0.02);
  std::vector<T> bias = random_vector<T>(rng, out, 0.02);
  std::vector<int64_t> dims = sx.dims();
  dims.back() = out;
  const Shape sy(dims);
  ir::Graph g;
  const int64_t ix = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, sx);
  const int64_t iy = g.add(ir::OpKind::linear, {ix}, ir::NoAttrs{}, sy);
  g.input_ids = {ix};
  g.output_ids = {iy};
  ir::PayloadStore<Scalar<T>> payload;
  payload[iy].emplace("weight", to_tensor(Shape{out, in}, w));
  payload[iy].emplace("bias", to_tensor(Shape{out}, bias));
  const std::vector<Tensor<Scalar<T>>> inputs = {to_tensor(sx, x)};
  const auto want = interp::evaluate_outputs<Scalar<T>>(g, payload, inputs);
  ThreadPool two(2);
  for (GemmPath path : supported_paths()) {
    std::vector<T> y(static_cast<size_t>(sy.numel()));
    GemmProblem<T> p{rows, out, in, x.data(), in, w.data(), in, true, y.data(), out, bias.data()};
    gemm_exact(p, &two, path);
    expect_tensor_bits(
        want[0], y,
        "linear " + sx.str() + " -> " + std::to_string(out) + " " + gemm_path_name(path));
  }
}

TEST(GemmExact, MatchesTheEvaluatorOnMatmul) {
  check_matmul_against_evaluator<float>(0, 1, 300, 45, 1);
  check_matmul_against_evaluator<float>(0, 37, 61, 29, 2);
  check_matmul_against_evaluator<float>(3, 10, 270, 17, 3);
  check_matmul_against_evaluator<double>(0, 23, 300, 31, 4);
  check_matmul_against_evaluator<double>(2, 5, 8, 40, 5);
}

TEST(GemmExact, MatchesTheEvaluatorOnLinear) {
  check_linear_against_evaluator<float>(Shape{784}, 10, 11);
  check_linear_against_evaluator<float>(Shape{3, 257}, 33, 12);
  check_linear_against_evaluator<float>(Shape{2, 7, 64}, 70, 13);
  check_linear_against_evaluator<double>(Shape{5, 130}, 19, 14);
  check_linear_against_evaluator<double>(Shape{40, 9}, 300, 15);
}

}  // namespace
}  // namespace torchlean::runtime
