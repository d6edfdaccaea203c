// F32 elementary functions vs MPFR (24 bits, RNDN, binary32 exponent range, subnormalize): bit
// equality on 10^6 inputs per function spread over all binades, on special values, and on inputs
// that are known to be hard to round; the MPFR fallback must be rare.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mpfr_reference.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/scalar/elementary.hpp"

namespace torchlean {
namespace {

using testing::reference_f32;

constexpr uint32_t kCanonicalNaN = 0x7fc00000u;

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

// Uniform sign, uniform biased exponent over all finite binades (0 = zero/subnormals) and uniform
// mantissa: every binade gets the same share, unlike uniform reals.
std::vector<float> random_floats(uint64_t seed, size_t n) {
  SplitMix64 rng(seed);
  std::vector<float> out(n);
  for (float& x : out) {
    const uint64_t r = rng.next();
    const uint32_t sign = static_cast<uint32_t>(r >> 63);
    const uint32_t exponent = static_cast<uint32_t>((r >> 23) % 255);  // 0..254: finite
    const uint32_t mantissa = static_cast<uint32_t>(r) & 0x7fffffu;
    x = from_bits(sign << 31 | exponent << 23 | mantissa);
  }
  return out;
}

// Expected bits per the oracle; NaN compared as the canonical NaN.
uint32_t expected_bits(Elementary f, float x) {
  const float r = reference_f32(f, x);
  return std::isnan(r) ? kCanonicalNaN : bits(r);
}

class F32Elementary : public ::testing::TestWithParam<Elementary> {};

std::string param_name(const ::testing::TestParamInfo<Elementary>& info) {
  return std::string(elementary_name(info.param));
}

TEST_P(F32Elementary, MatchesMpfrOnAMillionRandomInputs) {
  const Elementary f = GetParam();
  const std::vector<float> xs = random_floats(0x5eed0000u + static_cast<uint64_t>(f), 1000000);
  const uint64_t fallbacks_before = f32_mpfr_fallback_count();
  int mismatches = 0;
  for (float x : xs) {
    const uint32_t got = elementary(f, F32::of(x)).bits();
    const uint32_t want = expected_bits(f, x);
    if (got != want && ++mismatches <= 5)
      ADD_FAILURE() << elementary_name(f) << "(" << std::hexfloat << x << ") = " << from_bits(got)
                    << ", MPFR says " << from_bits(want);
  }
  EXPECT_EQ(mismatches, 0);
  // The fast path's test interval has relative radius 2^-44 against binary32 rounding boundaries
  // spaced about 2^-24 apart, so roughly 2 in 10^6 inputs should need MPFR; allow 25x that.
  const uint64_t fallbacks = f32_mpfr_fallback_count() - fallbacks_before;
  EXPECT_LE(fallbacks, 50u) << elementary_name(f) << " fell back to MPFR " << fallbacks << " times";
}

// Dense sampling where the functions are not trivially constant, 0 or overflowing.
TEST_P(F32Elementary, MatchesMpfrOnInterestingRange) {
  const Elementary f = GetParam();
  SplitMix64 rng(42 + static_cast<uint64_t>(f));
  int mismatches = 0;
  for (int i = 0; i < 200000; ++i) {
    // |x| in [2^-8, 2^7): exponent field 119..133.
    const uint64_t r = rng.next();
    const uint32_t b = static_cast<uint32_t>(r >> 63) << 31 | static_cast<uint32_t>(119 + (r >> 32) % 15) << 23 |
                       (static_cast<uint32_t>(r) & 0x7fffffu);
    const float x = from_bits(b);
    if (elementary(f, F32::of(x)).bits() != expected_bits(f, x) && ++mismatches <= 5)
      ADD_FAILURE() << elementary_name(f) << "(" << std::hexfloat << x << ") differs from MPFR";
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(F32Elementary, MatchesMpfrOnSpecialValues) {
  const Elementary f = GetParam();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> xs = {
      0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
      from_bits(0x7f800001u),  // signalling NaN payload
      from_bits(0xffc12345u),  // negative NaN with payload
      std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
      from_bits(0x007fffffu),  // largest subnormal
      std::numeric_limits<float>::max(), 1.0f, -1.0f, 0.5f, 2.0f, 3.14159265f, 1.57079637f,
      // exp: overflow threshold (ln(FLT_MAX) ~ 88.7228391), subnormal and underflow thresholds.
      88.7228317f, 88.7228394f, 88.7228470f, -87.3365479f, -87.3365402f, -103.972076f, -103.972084f,
      -103.278931f, -104.0f, -110.0f, -120.0f, 100.0f, 200.0f,
      // log near 1 and near 0.
      from_bits(0x3f7fffffu), from_bits(0x3f800001u), 1e-30f, 1e30f,
      // sin/cos: large arguments need an exact range reduction.
      1e30f, -1e30f, 1e38f, 3.0e38f, 1e10f, 1e5f, 1e-10f, 1e-40f,
      // tanh/erf/sigmoid saturation.
      9.0f, 9.1f, 3.9f, 4.0f, 16.6f, 17.0f, -16.6f, -88.7f, -89.0f, -103.0f, 1e-20f, -1e-20f};
  for (uint32_t e = 0; e < 255; e += 7) xs.push_back(from_bits(e << 23 | 0x2aaaaau));  // one per few binades
  const size_t n = xs.size();
  for (size_t i = 0; i < n; ++i) xs.push_back(-xs[i]);
  for (float x : xs)
    EXPECT_EQ(elementary(f, F32::of(x)).bits(), expected_bits(f, x))
        << elementary_name(f) << "(" << std::hexfloat << x << ")";
}

// A few values are fixed by IEEE 754 / the spec alone, not by any oracle.
TEST(F32ElementarySpecial, ValuesFixedByTheSpec) {
  const float inf = std::numeric_limits<float>::infinity();
  const F32 nan = F32::of(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan.bits(), kCanonicalNaN);
  EXPECT_EQ(exp(F32::of(-inf)).bits(), 0u);
  EXPECT_EQ(exp(F32::of(inf)).bits(), 0x7f800000u);
  EXPECT_EQ(exp(F32::of(-0.0f)).bits(), bits(1.0f));
  EXPECT_EQ(exp(F32::of(1000.0f)).bits(), 0x7f800000u);
  EXPECT_EQ(exp(F32::of(-1000.0f)).bits(), 0u);  // underflow gives +0
  EXPECT_EQ(log(F32::of(0.0f)).bits(), 0xff800000u);
  EXPECT_EQ(log(F32::of(-0.0f)).bits(), 0xff800000u);
  EXPECT_EQ(log(F32::of(-1.0f)).bits(), kCanonicalNaN);
  EXPECT_EQ(log(F32::of(1.0f)).bits(), 0u);
  EXPECT_EQ(tanh(F32::of(-0.0f)).bits(), 0x80000000u);
  EXPECT_EQ(sin(F32::of(-0.0f)).bits(), 0x80000000u);
  EXPECT_EQ(erf(F32::of(-0.0f)).bits(), 0x80000000u);
  EXPECT_EQ(tanh(F32::of(-inf)).bits(), bits(-1.0f));
  EXPECT_EQ(erf(F32::of(inf)).bits(), bits(1.0f));
  EXPECT_EQ(sigmoid(F32::of(0.0f)).bits(), bits(0.5f));
  EXPECT_EQ(sigmoid(F32::of(-inf)).bits(), 0u);
  EXPECT_EQ(sigmoid(F32::of(inf)).bits(), bits(1.0f));
  EXPECT_EQ(sin(F32::of(inf)).bits(), kCanonicalNaN);
  EXPECT_EQ(cos(F32::of(-inf)).bits(), kCanonicalNaN);
  EXPECT_EQ(cos(F32::of(-0.0f)).bits(), bits(1.0f));
  for (Elementary f : kAllElementary) EXPECT_EQ(elementary(f, nan).bits(), kCanonicalNaN) << elementary_name(f);
  // Odd functions keep the sign of tiny results: tanh(-2^-149) rounds to -2^-149.
  EXPECT_EQ(tanh(F32::of(-std::numeric_limits<float>::denorm_min())).bits(), 0x80000001u);
}

// Inputs whose exact f(x) lies within about 2^-50 (relative) of a binary32 rounding midpoint,
// found by scanning binades with MPFR at 300 bits. binary64 cannot decide them, so they must go
// through the MPFR fallback and still round correctly.
TEST(F32ElementaryHard, FallbackFiresAndRoundsCorrectly) {
  struct Case {
    Elementary f;
    uint32_t x_bits;
  };
  const Case cases[] = {
      {Elementary::exp, 0xc16912cdu},      // -0x1.d2259ap+3, 2^-52.7 from a midpoint
      {Elementary::exp, 0x39c6be5bu},      // 0x1.8d7cb6p-12, 2^-51.0
      {Elementary::log, 0x41178febu},      // 0x1.2f1fd6p+3, 2^-55.4
      {Elementary::tanh, 0x3ac37de2u},     // 0x1.86fbc4p-10, 2^-50.7
      {Elementary::tanh, 0xbac37de2u},     // its negation (tanh is odd)
      {Elementary::sigmoid, 0x3d21bc81u},  // 0x1.437902p-5, 2^-54.0
      {Elementary::sigmoid, 0xba928601u},  // -0x1.250c02p-10, 2^-55.0
      {Elementary::sin, 0x3ef3830fu},      // 0x1.e7061ep-2, 2^-51.7
      {Elementary::cos, 0x3c107fe6u},      // 0x1.20ffccp-7, 2^-53.1
      {Elementary::erf, 0x3940ead6u},      // 0x1.81d5acp-13, 2^-56.6
  };
  for (const Case& c : cases) {
    const float x = from_bits(c.x_bits);
    const uint64_t before = f32_mpfr_fallback_count();
    const uint32_t got = elementary(c.f, F32::of(x)).bits();
    EXPECT_EQ(f32_mpfr_fallback_count(), before + 1) << elementary_name(c.f) << "(" << std::hexfloat << x << ")";
    EXPECT_EQ(got, expected_bits(c.f, x)) << elementary_name(c.f) << "(" << std::hexfloat << x << ")";
    EXPECT_EQ(elementary_mpfr(c.f, F32::of(x)).bits(), got);
  }
}

INSTANTIATE_TEST_SUITE_P(All, F32Elementary, ::testing::ValuesIn(kAllElementary), param_name);

}  // namespace
}  // namespace torchlean
