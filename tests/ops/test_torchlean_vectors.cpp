// TorchLean's own published test vectors: the 2x3 by 3x2 matmul, 2x2 stride-2 max and average
// pooling of x[i][j] = 10i + j, and the eval-mode batchnorm graph, in every scalar domain.
#include <gtest/gtest.h>
#include <mpfr.h>

#include <cmath>
#include <vector>

#include "op_database.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::testing {
namespace {

using ir::OpKind;

template <class S>
void expect_values(const Tensor<S>& got, const Shape& shape, const std::vector<double>& want) {
  ASSERT_EQ(got.shape(), shape);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_TRUE(got[static_cast<int64_t>(i)] == S::from_double(want[i])) << "element " << i;
}

template <class S>
void expect_everywhere(const Sample& s, const Shape& shape, const std::vector<double>& want) {
  expect_values(run<S>(s.graph, s.payload, s.inputs), shape, want);
}

Sample matmul_sample() {
  std::vector<double> a, b;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) a.push_back(i + 2 * j + 1);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) b.push_back(3 * i + j + 1);
  return sample(
      "matmul",
      GraphSpec{
          OpKind::matmul, ir::NoAttrs{}, {tensor({2, 3}, a), tensor({3, 2}, b)}, Shape{2, 2}, {}});
}

Sample pool_sample(OpKind kind) {
  std::vector<double> x;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) x.push_back(10 * i + j);
  return sample(
      "pool",
      GraphSpec{kind, ir::Pool2dAttrs{2, 2, 2}, {tensor({1, 4, 4}, x)}, Shape{1, 2, 2}, {}});
}

TEST(TorchLeanVectors, Matmul) {
  Sample s = matmul_sample();
  const std::vector<double> want = {48, 57, 60, 72};
  expect_everywhere<F32>(s, Shape{2, 2}, want);
  expect_everywhere<F64>(s, Shape{2, 2}, want);
  expect_everywhere<Exact>(s, Shape{2, 2}, want);
}

TEST(TorchLeanVectors, MaxPool) {
  Sample s = pool_sample(OpKind::max_pool2d);
  const std::vector<double> want = {11, 13, 31, 33};
  expect_everywhere<F32>(s, Shape{1, 2, 2}, want);
  expect_everywhere<F64>(s, Shape{1, 2, 2}, want);
  expect_everywhere<Exact>(s, Shape{1, 2, 2}, want);
}

TEST(TorchLeanVectors, AvgPool) {
  Sample s = pool_sample(OpKind::avg_pool2d);
  const std::vector<double> want = {5.5, 7.5, 25.5, 27.5};
  expect_everywhere<F32>(s, Shape{1, 2, 2}, want);
  expect_everywhere<F64>(s, Shape{1, 2, 2}, want);
  expect_everywhere<Exact>(s, Shape{1, 2, 2}, want);
}

// ---- batchnorm ----

// x[n,c,h,w] = n*8 + c*4 + h*2 + w + 1, negated for c = 1; parameters as in TorchLean's graph.
struct BatchNormCase {
  std::vector<double> x;
  std::vector<double> gamma{1, 0.5}, beta{0, 0.1}, mean{2, -3}, var{4, 9};
  double eps = 1e-5;
  BatchNormCase() {
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < 2; ++c)
        for (int h = 0; h < 2; ++h)
          for (int w = 0; w < 2; ++w) {
            double v = n * 8 + c * 4 + h * 2 + w + 1;
            x.push_back(c == 1 ? -v : v);
          }
  }
  static int channel(size_t i) { return static_cast<int>(i / 4) % 2; }
  Sample graph() const {
    return sample("batchnorm", GraphSpec{OpKind::batch_norm2d_nchw_eval,
                                         ir::BatchNormAttrs{2},
                                         {tensor({2, 2, 2, 2}, x)},
                                         Shape{2, 2, 2, 2},
                                         {{"gamma", tensor({2}, gamma)},
                                          {"beta", tensor({2}, beta)},
                                          {"mean", tensor({2}, mean)},
                                          {"var", tensor({2}, var)},
                                          {"eps", scalar(eps)}}});
  }
};

// gamma*(x-mean)/sqrt(var+eps)+beta with the given (already domain-rounded) parameters, computed
// with 300-bit MPFR from the exact rationals of the binary64 inputs; relative error < 2^-290.
mpq_class batchnorm_mpfr(double x, double gamma, double beta, double mean, double var, double eps) {
  mpfr_t d, y;
  mpfr_init2(d, 300);
  mpfr_init2(y, 300);
  mpq_class ve = mpq_class(var) + mpq_class(eps);
  mpfr_set_q(d, ve.get_mpq_t(), MPFR_RNDN);
  mpfr_sqrt(d, d, MPFR_RNDN);
  mpq_class num = mpq_class(gamma) * (mpq_class(x) - mpq_class(mean));
  mpfr_set_q(y, num.get_mpq_t(), MPFR_RNDN);
  mpfr_div(y, y, d, MPFR_RNDN);
  mpq_class out;
  mpfr_get_q(out.get_mpq_t(), y);
  out += mpq_class(beta);
  mpfr_clear(d);
  mpfr_clear(y);
  return out;
}

// PyTorch 1.13's float64 result, from:
//   /usr/bin/python3 -c 'import torch; x=torch.zeros(2,2,2,2,dtype=torch.float64)
//   for n in range(2):
//    for c in range(2):
//     for h in range(2):
//      for w in range(2): v=n*8+c*4+h*2+w+1; x[n,c,h,w]=-v if c==1 else v
//   t=lambda l: torch.tensor(l,dtype=torch.float64)
//   y=torch.nn.functional.batch_norm(x,t([2.,-3.]),t([4.,9.]),t([1.,.5]),t([0.,.1]),training=False,eps=1e-5)
//   print([float(v).hex() for v in y.flatten().tolist()])'
const std::vector<double> kTorchBatchNorm = {-0x1.ffffd60e9a15ap-2, 0x0.0p+0,
                                             0x1.ffffd60e9a15ap-2,  0x1.ffffd60e9a15ap-1,
                                             -0x1.ddddc502f51bdp-3, -0x1.999986f56b081p-2,
                                             -0x1.222215b4adc12p-1, -0x1.777767eea5fe3p-1,
                                             0x1.bfffdb4cc6d2fp+1,  0x1.ffffd60e9a15ap+1,
                                             0x1.1fffe86836ac3p+2,  0x1.3fffe5c9204d8p+2,
                                             -0x1.911101883f97dp+0, -0x1.bbbbaaa53bb65p+0,
                                             -0x1.e66653c237d4ep+0, -0x1.08887e6f99f9bp+1};

// The magnitude that rounding errors of either evaluation scale with: |t| + |mean*g/d| + |x*g/d| +
// |beta| where t = g(x-mean)/d.
double error_scale(const BatchNormCase& bn, size_t i) {
  int c = BatchNormCase::channel(i);
  double d = std::sqrt(bn.var[c] + bn.eps);
  double alpha = std::fabs(bn.gamma[c]) / d;
  return std::fabs(bn.x[i] - bn.mean[c]) * alpha + std::fabs(bn.mean[c]) * alpha +
         std::fabs(bn.x[i]) * alpha + std::fabs(bn.beta[c]);
}

TEST(TorchLeanVectors, BatchNormF64MatchesPyTorch) {
  BatchNormCase bn;
  Sample s = bn.graph();
  Tensor<F64> got = run<F64>(s.graph, s.payload, s.inputs);
  ASSERT_EQ(got.numel(), 16);
  for (size_t i = 0; i < 16; ++i) {
    // Ours rounds d = sqrt(max(var,0)+eps) (2 roundings) then sub, div, mul, add (4); PyTorch's CPU
    // kernel rounds invstd = 1/sqrt(var+eps) (3), alpha = invstd*gamma (1), beta - mean*alpha (2)
    // and x*alpha + that (2). Each result is within about 8u of the real value relative to
    // error_scale, so the two differ by at most 16u * error_scale, u = 2^-53.
    const double tol = 16 * 0x1p-53 * error_scale(bn, i);
    EXPECT_LE(std::fabs(got[static_cast<int64_t>(i)].v - kTorchBatchNorm[i]), tol)
        << "element " << i;
  }
  // Exact zero: x - mean = 0 gives (0/d)*1 + 0 = +0, as PyTorch.
  EXPECT_EQ(got[1].bits(), F64::of(0.0).bits());
}

template <class S, class Narrow>
void check_against_mpfr(int precision) {
  BatchNormCase bn;
  Sample s = bn.graph();
  Tensor<S> got = run<S>(s.graph, s.payload, s.inputs);
  // The domain sees its own rounding of each parameter (binary32's 0.1 and 1e-5 differ from
  // binary64's), so the reference uses those values.
  auto r = [](double v) { return static_cast<double>(static_cast<Narrow>(v)); };
  for (size_t i = 0; i < 16; ++i) {
    int c = BatchNormCase::channel(i);
    mpq_class ref = batchnorm_mpfr(r(bn.x[i]), r(bn.gamma[c]), r(bn.beta[c]), r(bn.mean[c]),
                                   r(bn.var[c]), r(bn.eps));
    // Six roundings of relative size 2^-precision, each bounded by error_scale.
    const double tol = 8 * std::ldexp(1.0, -precision) * error_scale(bn, i);
    EXPECT_LE(std::fabs(got[static_cast<int64_t>(i)].to_double() - ref.get_d()), tol)
        << "element " << i << " at precision " << precision;
  }
}

TEST(TorchLeanVectors, BatchNormF64WithinRoundingOfMpfr) { check_against_mpfr<F64, double>(53); }
TEST(TorchLeanVectors, BatchNormF32WithinRoundingOfMpfr) { check_against_mpfr<F32, float>(24); }

TEST(TorchLeanVectors, BatchNormExactEnclosesMpfr) {
  BatchNormCase bn;
  Sample s = bn.graph();
  Tensor<Exact> got = run<Exact>(s.graph, s.payload, s.inputs);
  ASSERT_EQ(got.numel(), 16);
  for (size_t i = 0; i < 16; ++i) {
    int c = BatchNormCase::channel(i);
    mpq_class ref = batchnorm_mpfr(bn.x[i], bn.gamma[c], bn.beta[c], bn.mean[c], bn.var[c], bn.eps);
    // The MPFR value is within 2^-280 of the real one, which the enclosure must contain.
    mpq_class slack = mpq_class(1) / mpq_class(mpz_class(1) << 280);
    const Exact& y = got[static_cast<int64_t>(i)];
    EXPECT_TRUE(y.lo - slack <= ref && ref <= y.hi + slack)
        << "element " << i << ": [" << y.lo.get_d() << ", " << y.hi.get_d() << "] vs "
        << ref.get_d();
    EXPECT_LT(mpq_class(y.hi - y.lo).get_d(), 1e-13) << "element " << i << ": enclosure too wide";
  }
}

}  // namespace
}  // namespace torchlean::testing
