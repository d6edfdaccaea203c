// The vectorised elementary functions (runtime/vmath.hpp) on every instruction-set path this
// machine supports (forced with the test hook):
// - exact variant: bit-identical to the scalar correctly rounded F32 functions on 10^6 inputs over
//   all binades, 2*10^5 in the range where the functions vary, and the special values;
// - the binary64 approximations behind it stay inside the error bound the correctness argument
//   needs (2^-47 relative), measured against MPFR at 160 bits;
// - fast variant: within its declared 1 ulp of the exact result, same special values;
// - the erf coefficient table is the correctly rounded Taylor coefficients (recomputed with MPFR);
// - binary64 variants against the scalar F64 functions (MPFR).
#include <gtest/gtest.h>
#include <mpfr.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/runtime/vmath.hpp"
#include "torchlean/runtime/vmath_erf_table.hpp"
#include "torchlean/scalar/elementary.hpp"

namespace torchlean::runtime {
namespace {

constexpr uint32_t kCanonicalNaN = 0x7fc00000u;
constexpr float kInfF = std::numeric_limits<float>::infinity();

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

// Uniform sign, biased exponent (0..254, so zero/subnormals and every finite binade) and mantissa.
std::vector<float> all_binades(uint64_t seed, size_t n) {
  SplitMix64 rng(seed);
  std::vector<float> out(n);
  for (float& x : out) {
    const uint64_t r = rng.next();
    x = from_bits(static_cast<uint32_t>(r >> 63) << 31 |
                  static_cast<uint32_t>((r >> 23) % 255) << 23 | (static_cast<uint32_t>(r) & 0x7fffffu));
  }
  return out;
}

// |x| in [2^-8, 2^7), where every function is neither constant nor saturated.
std::vector<float> interesting(uint64_t seed, size_t n) {
  SplitMix64 rng(seed);
  std::vector<float> out(n);
  for (float& x : out) {
    const uint64_t r = rng.next();
    x = from_bits(static_cast<uint32_t>(r >> 63) << 31 |
                  static_cast<uint32_t>(119 + (r >> 32) % 15) << 23 | (static_cast<uint32_t>(r) & 0x7fffffu));
  }
  return out;
}

std::vector<float> specials() {
  std::vector<float> v = {0.0f, -0.0f, kInfF, -kInfF, std::numeric_limits<float>::quiet_NaN(),
                          from_bits(0x7fa00001u), from_bits(0xffc12345u),  // NaNs with payloads
                          1.0f, -1.0f, 0.5f, -0.5f, 2.0f, 0x1p-149f, -0x1p-149f, 0x1p-126f,
                          0x1.fffffep-127f, std::numeric_limits<float>::max(),
                          -std::numeric_limits<float>::max(),
                          // exp: overflow / subnormal / underflow edges, scalar thresholds
                          88.72283f, 88.72284f, -87.33654f, -103.97208f, -103.97209f, 100.0f,
                          -110.0f, 100.00001f, -110.00001f,
                          // saturation thresholds of the vector code
                          9.1f, -9.1f, 9.0999994f, 17.4f, -17.4f, 17.399998f, 4.0f, -4.0f,
                          3.9999998f, 0.5f, 0.49999997f, 3.875f, 3.8750002f,
                          // sin/cos: near multiples of pi/2, the hardest reduction, the range edge
                          1.5707964f, 3.1415927f, 0x1.f9cbe2p+7f, 0x1.2d97c8p+2f, 0x1p24f,
                          0x1.fffffep23f, -0x1.fffffep23f, 1e30f, 3e38f,
                          // log: neighbours of 1, sqrt(2)
                          0x1.000002p0f, 0x1.fffffep-1f, 1.4142135f, 1.4142137f, 0.70710677f};
  for (int e = -149; e <= 127; e += 3) {
    v.push_back(std::ldexp(1.0f, e));
    v.push_back(-std::ldexp(1.3f, e < 127 ? e : 126));
  }
  return v;
}

std::vector<float> all_inputs(Elementary f) {
  std::vector<float> xs = all_binades(0xa11b1dull + static_cast<uint64_t>(f), 1000000);
  const std::vector<float> mid = interesting(0x1e7e57ull + static_cast<uint64_t>(f), 200000);
  const std::vector<float> sp = specials();
  xs.insert(xs.end(), mid.begin(), mid.end());
  xs.insert(xs.end(), sp.begin(), sp.end());
  return xs;
}

// The scalar correctly rounded results, computed once per function and shared by every path.
const std::vector<float>& scalar_results(Elementary f, const std::vector<float>& xs) {
  static std::map<Elementary, std::vector<float>> cache;
  auto it = cache.find(f);
  if (it == cache.end()) {
    std::vector<float> out(xs.size());
    for (size_t i = 0; i < xs.size(); ++i) out[i] = elementary(f, F32::of(xs[i])).v;
    it = cache.emplace(f, std::move(out)).first;
  }
  return it->second;
}

const std::vector<float>& inputs_of(Elementary f) {
  static std::map<Elementary, std::vector<float>> cache;
  auto it = cache.find(f);
  if (it == cache.end()) it = cache.emplace(f, all_inputs(f)).first;
  return it->second;
}

struct IsaGuard {
  explicit IsaGuard(Isa isa) { force_isa_for_testing(isa); }
  ~IsaGuard() { force_isa_for_testing(std::nullopt); }
};

using Param = std::tuple<Isa, Elementary>;

class VmathPath : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    if (!isa_supported(std::get<0>(GetParam())))
      GTEST_SKIP() << isa_name(std::get<0>(GetParam())) << " is not supported here";
  }
};

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return std::string(isa_name(std::get<0>(info.param))) + "_" +
         std::string(elementary_name(std::get<1>(info.param)));
}

TEST_P(VmathPath, ExactIsBitIdenticalToScalar) {
  const auto [isa, f] = GetParam();
  const std::vector<float>& xs = inputs_of(f);
  const std::vector<float>& want = scalar_results(f, xs);
  std::vector<float> got(xs.size());
  IsaGuard guard(isa);
  vmath_exact(f, xs.data(), got.data(), static_cast<int64_t>(xs.size()));
  int mismatches = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (bits(got[i]) != bits(want[i]) && ++mismatches <= 5)
      ADD_FAILURE() << elementary_name(f) << "(" << std::hexfloat << xs[i] << ") = " << got[i]
                    << ", scalar says " << want[i];
  }
  EXPECT_EQ(mismatches, 0);
  for (float v : got) ASSERT_TRUE(!std::isnan(v) || bits(v) == kCanonicalNaN);
}

// Where the functions vary, the rounding test rarely fails: the relative radius 2^-42 against
// binary32 boundaries 2^-24..2^-23 apart predicts about 8 per million lanes.
TEST_P(VmathPath, FallbacksAreRare) {
  const auto [isa, f] = GetParam();
  const std::vector<float> xs = interesting(0xfa11ull + static_cast<uint64_t>(f), 200000);
  std::vector<float> got(xs.size());
  IsaGuard guard(isa);
  const uint64_t before = vmath_fallback_count();
  vmath_exact(f, xs.data(), got.data(), static_cast<int64_t>(xs.size()));
  EXPECT_LE(vmath_fallback_count() - before, 40u);
}

TEST_P(VmathPath, FastIsWithinOneUlpOfExact) {
  const auto [isa, f] = GetParam();
  const std::vector<float>& xs = inputs_of(f);
  const std::vector<float>& want = scalar_results(f, xs);
  std::vector<float> got(xs.size());
  IsaGuard guard(isa);
  vmath_fast(f, xs.data(), got.data(), static_cast<int64_t>(xs.size()));
  ASSERT_EQ(vmath_fast_ulps<float>(f), 1);
  int violations = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const float w = want[i], g = got[i];
    bool ok;
    if (!std::isfinite(w) || !std::isfinite(g))
      ok = bits(w) == bits(g);
    else
      ok = std::fabs(static_cast<double>(g) - static_cast<double>(w)) <= ulp_of(w);
    if (!ok && ++violations <= 5)
      ADD_FAILURE() << "fast " << elementary_name(f) << "(" << std::hexfloat << xs[i] << ") = " << g
                    << ", exact " << w;
  }
  EXPECT_EQ(violations, 0);
}

// Odd lengths (the tail goes through a padded register) and in-place use.
TEST_P(VmathPath, TailsAndInPlace) {
  const auto [isa, f] = GetParam();
  IsaGuard guard(isa);
  const std::vector<float> src = interesting(77 + static_cast<uint64_t>(f), 41);
  for (int64_t n = 0; n <= 41; ++n) {
    std::vector<float> buf(src.begin(), src.begin() + n);
    buf.push_back(123.0f);  // sentinel after the end
    vmath_exact(f, buf.data(), buf.data(), n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(bits(buf[static_cast<size_t>(i)]), elementary(f, F32::of(src[static_cast<size_t>(i)])).bits())
          << "n=" << n << " i=" << i;
    ASSERT_EQ(buf.back(), 123.0f);
  }
}

// f(x) in MPFR at 160 bits (sigmoid composed; its three roundings at 160 bits are negligible).
double mpfr_value(Elementary f, float x, mpfr_t out) {
  mpfr_t xm;
  mpfr_init2(xm, 160);
  mpfr_set_flt(xm, x, MPFR_RNDN);
  switch (f) {
    case Elementary::exp: mpfr_exp(out, xm, MPFR_RNDN); break;
    case Elementary::log: mpfr_log(out, xm, MPFR_RNDN); break;
    case Elementary::tanh: mpfr_tanh(out, xm, MPFR_RNDN); break;
    case Elementary::sin: mpfr_sin(out, xm, MPFR_RNDN); break;
    case Elementary::cos: mpfr_cos(out, xm, MPFR_RNDN); break;
    case Elementary::erf: mpfr_erf(out, xm, MPFR_RNDN); break;
    case Elementary::sigmoid:
      mpfr_neg(out, xm, MPFR_RNDN);
      mpfr_exp(out, out, MPFR_RNDN);
      mpfr_add_ui(out, out, 1, MPFR_RNDN);
      mpfr_ui_div(out, 1, out, MPFR_RNDN);
      break;
  }
  mpfr_clear(xm);
  return mpfr_get_d(out, MPFR_RNDN);
}

// max |y - f(x)| / |f(x)| over the lanes the approximation answers, in log2.
double worst_relative_error(Isa isa, Elementary f, bool fast, const std::vector<float>& xs) {
  std::vector<double> y(xs.size());
  vmath_approx_for_testing(isa, f, fast, xs.data(), y.data(), static_cast<int64_t>(xs.size()));
  mpfr_t exact, diff;
  mpfr_inits2(160, exact, diff, static_cast<mpfr_ptr>(nullptr));
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (std::isnan(y[i])) continue;
    mpfr_value(f, xs[i], exact);
    if (mpfr_zero_p(exact)) continue;
    mpfr_sub_d(diff, exact, y[i], MPFR_RNDN);
    mpfr_div(diff, diff, exact, MPFR_RNDN);
    worst = std::max(worst, std::fabs(mpfr_get_d(diff, MPFR_RNDN)));
  }
  mpfr_clears(exact, diff, static_cast<mpfr_ptr>(nullptr));
  return worst == 0 ? -1e9 : std::log2(worst);
}

TEST_P(VmathPath, ApproximationErrorIsInsideTheBound) {
  const auto [isa, f] = GetParam();
  std::vector<float> xs = interesting(0xb0d ^ static_cast<uint64_t>(f), 6000);
  const std::vector<float> wide = all_binades(0xb0e ^ static_cast<uint64_t>(f), 4000);
  xs.insert(xs.end(), wide.begin(), wide.end());
  // Dense near the places where the analysis is tight.
  for (float c : {0.34657359f, 0.5f, 1.0f, 1.4142135f, 0.70710677f, 0.78539819f, 3.9f, 9.0f})
    for (int k = -200; k <= 200; ++k) xs.push_back(c + static_cast<float>(k) * 0x1p-12f);
  const double exact_bits = worst_relative_error(isa, f, false, xs);
  const double fast_bits = worst_relative_error(isa, f, true, xs);
  RecordProperty("worst_log2_exact", std::to_string(exact_bits));
  RecordProperty("worst_log2_fast", std::to_string(fast_bits));
  EXPECT_LT(exact_bits, -47.0) << elementary_name(f) << " on " << isa_name(isa);
  EXPECT_LT(fast_bits, -28.0) << elementary_name(f) << " on " << isa_name(isa);
}

INSTANTIATE_TEST_SUITE_P(
    AllPaths, VmathPath,
    ::testing::Combine(::testing::Values(Isa::portable, Isa::avx2, Isa::avx512),
                       ::testing::ValuesIn(kAllElementary)),
    param_name);

TEST(Vmath, ValuesFixedByIeee) {
  const float x[] = {0.0f, -0.0f, -kInfF, kInfF};
  float y[4];
  vmath_exact(Elementary::exp, x, y, 4);
  EXPECT_EQ(bits(y[0]), bits(1.0f));
  EXPECT_EQ(bits(y[1]), bits(1.0f));
  EXPECT_EQ(bits(y[2]), bits(0.0f));
  EXPECT_EQ(bits(y[3]), bits(kInfF));
  vmath_exact(Elementary::tanh, x, y, 4);
  EXPECT_EQ(bits(y[1]), bits(-0.0f));
  EXPECT_EQ(bits(y[2]), bits(-1.0f));
  vmath_exact(Elementary::log, x, y, 4);
  EXPECT_EQ(bits(y[0]), bits(-kInfF));
  EXPECT_EQ(bits(y[1]), bits(-kInfF));
  EXPECT_EQ(bits(y[2]), kCanonicalNaN);
  EXPECT_EQ(bits(y[3]), bits(kInfF));
  vmath_exact(Elementary::sin, x, y, 4);
  EXPECT_EQ(bits(y[1]), bits(-0.0f));
  EXPECT_EQ(bits(y[3]), kCanonicalNaN);
  vmath_fast(Elementary::sigmoid, x, y, 4);
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_EQ(bits(y[2]), bits(0.0f));
  EXPECT_EQ(y[3], 1.0f);
}

TEST(Vmath, UlpOf) {
  EXPECT_EQ(ulp_of(1.0f), 0x1p-23);
  EXPECT_EQ(ulp_of(-1.5f), 0x1p-23);
  EXPECT_EQ(ulp_of(0.0f), 0x1p-149);
  EXPECT_EQ(ulp_of(0x1p-140f), 0x1p-149);
  EXPECT_EQ(ulp_of(std::numeric_limits<float>::max()), 0x1p104);
  EXPECT_EQ(ulp_of(1.0), 0x1p-52);
  EXPECT_EQ(ulp_of(0.0), 0x1p-1074);
  EXPECT_TRUE(std::isinf(ulp_of(kInfF)));
}

TEST(Vmath, ForcingAnUnsupportedPathIsAnError) {
  for (Isa isa : {Isa::avx2, Isa::avx512}) {
    if (!isa_supported(isa)) {
      EXPECT_THROW(force_isa_for_testing(isa), UserError);
    }
  }
  EXPECT_TRUE(isa_supported(Isa::portable));
}

// kErfTaylor[n][j] = erf^(n)(x_j) / n! correctly rounded, with x_j = 0.5625 + j/8 and
// erf^(n)(x) = (2/sqrt(pi)) (-1)^(n-1) H_{n-1}(x) e^{-x^2}: recomputed at 256 bits.
TEST(Vmath, ErfTableIsTheCorrectlyRoundedTaylorCoefficients) {
  mpfr_t x, h0, h1, h2, g, c, t;
  mpfr_inits2(256, x, h0, h1, h2, g, c, t, static_cast<mpfr_ptr>(nullptr));
  for (int j = 0; j < detail::kErfPieces; ++j) {
    mpfr_set_d(x, 0.5625 + j / 8.0, MPFR_RNDN);
    mpfr_erf(c, x, MPFR_RNDN);
    EXPECT_EQ(detail::kErfTaylor[0][j], mpfr_get_d(c, MPFR_RNDN)) << "n=0 j=" << j;
    // g = (2/sqrt(pi)) e^{-x^2}
    mpfr_sqr(g, x, MPFR_RNDN);
    mpfr_neg(g, g, MPFR_RNDN);
    mpfr_exp(g, g, MPFR_RNDN);
    mpfr_const_pi(t, MPFR_RNDN);
    mpfr_sqrt(t, t, MPFR_RNDN);
    mpfr_div(g, g, t, MPFR_RNDN);
    mpfr_mul_ui(g, g, 2, MPFR_RNDN);
    mpfr_set_ui(h0, 1, MPFR_RNDN);   // H_0
    mpfr_mul_ui(h1, x, 2, MPFR_RNDN);  // H_1
    for (int n = 1; n <= detail::kErfDegree; ++n) {
      // c = g (-1)^(n-1) H_{n-1} / n!, with H_{n-1} in h0.
      mpfr_mul(c, g, h0, MPFR_RNDN);
      if ((n - 1) % 2 == 1) mpfr_neg(c, c, MPFR_RNDN);
      mpfr_fac_ui(t, static_cast<unsigned long>(n), MPFR_RNDN);
      mpfr_div(c, c, t, MPFR_RNDN);
      EXPECT_EQ(detail::kErfTaylor[n][j], mpfr_get_d(c, MPFR_RNDN)) << "n=" << n << " j=" << j;
      // H_{m+1} = 2x H_m - 2m H_{m-1} with m = n.
      mpfr_mul(h2, x, h1, MPFR_RNDN);
      mpfr_mul_ui(h2, h2, 2, MPFR_RNDN);
      mpfr_mul_ui(t, h0, 2 * static_cast<unsigned long>(n), MPFR_RNDN);
      mpfr_sub(h2, h2, t, MPFR_RNDN);
      mpfr_swap(h0, h1);
      mpfr_swap(h1, h2);
    }
  }
  mpfr_clears(x, h0, h1, h2, g, c, t, static_cast<mpfr_ptr>(nullptr));
}

TEST(Vmath, Binary64MatchesTheScalarFunctionsAndFastIsInsideItsBound) {
  SplitMix64 rng(99);
  std::vector<double> xs = {0.0, -0.0, 1.0, -1.0, std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN(), 709.782712893384,
                            709.7827128933841, -745.1, 1e-310, -1e-300, 1e300};
  for (int i = 0; i < 1500; ++i) {
    const uint64_t r = rng.next();
    xs.push_back(std::ldexp(static_cast<double>(r >> 11) * 0x1p-53, static_cast<int>(r % 24) - 12) *
                 ((r >> 7) & 1 ? -1.0 : 1.0));
  }
  for (Elementary f : kAllElementary) {
    std::vector<double> exact(xs.size()), fast(xs.size());
    vmath_exact(f, xs.data(), exact.data(), static_cast<int64_t>(xs.size()));
    vmath_fast(f, xs.data(), fast.data(), static_cast<int64_t>(xs.size()));
    for (size_t i = 0; i < xs.size(); ++i) {
      const F64 want = elementary(f, F64::of(xs[i]));
      ASSERT_EQ(std::bit_cast<uint64_t>(exact[i]), want.bits()) << elementary_name(f) << "(" << xs[i] << ")";
      if (!std::isfinite(want.v) || !std::isfinite(fast[i]))
        ASSERT_EQ(std::bit_cast<uint64_t>(fast[i]), want.bits()) << elementary_name(f) << "(" << xs[i] << ")";
      else
        ASSERT_LE(std::fabs(fast[i] - want.v), vmath_fast_ulps<double>(f) * ulp_of(want.v))
            << elementary_name(f) << "(" << xs[i] << ")";
    }
  }
}

}  // namespace
}  // namespace torchlean::runtime
