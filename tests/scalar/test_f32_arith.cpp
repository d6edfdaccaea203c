// F32/F64 arithmetic rules: canonical NaN, IEEE 754-2019 maximum/minimum with signed zeros and NaN,
// bit equality, and shortest round-trip printing.
#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean {
namespace {

constexpr uint32_t kCanonicalNaN = 0x7fc00000u;
F32 f(float x) { return F32::of(x); }
F32 from_bits(uint32_t b) { return F32{std::bit_cast<float>(b)}; }

TEST(F32Arith, EveryNaNResultIsCanonical) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ((f(inf) - f(inf)).bits(), kCanonicalNaN);
  EXPECT_EQ((f(0.0f) * f(inf)).bits(), kCanonicalNaN);
  EXPECT_EQ((f(0.0f) / f(0.0f)).bits(), kCanonicalNaN);
  EXPECT_EQ(sqrt(f(-1.0f)).bits(), kCanonicalNaN);
  EXPECT_EQ(fma(f(0.0f), f(inf), f(1.0f)).bits(), kCanonicalNaN);
  // A NaN operand with a sign bit and a payload still gives the canonical NaN.
  const F32 odd_nan = from_bits(0xffc0beefu);
  EXPECT_EQ((odd_nan + f(1.0f)).bits(), kCanonicalNaN);
  EXPECT_EQ((-odd_nan).bits(), kCanonicalNaN);
  EXPECT_EQ(abs(odd_nan).bits(), kCanonicalNaN);
  EXPECT_EQ(F32::of(std::bit_cast<float>(0xff800001u)).bits(), kCanonicalNaN);
  EXPECT_EQ(F64::of(-std::numeric_limits<double>::quiet_NaN()).bits(), 0x7ff8000000000000ull);
}

TEST(F32Arith, BitEqualityDistinguishesSignedZeros) {
  EXPECT_FALSE(f(0.0f) == f(-0.0f));
  EXPECT_TRUE(F32::of(std::numeric_limits<float>::quiet_NaN()) == F32::of(-std::numeric_limits<float>::quiet_NaN()));
}

TEST(F32Arith, MaximumMinimumFollowIeee2019) {
  const F32 pz = f(0.0f), nz = f(-0.0f), nan = f(std::numeric_limits<float>::quiet_NaN());
  // -0 < +0, in either argument order.
  EXPECT_EQ(maximum(pz, nz).bits(), 0x00000000u);
  EXPECT_EQ(maximum(nz, pz).bits(), 0x00000000u);
  EXPECT_EQ(minimum(pz, nz).bits(), 0x80000000u);
  EXPECT_EQ(minimum(nz, pz).bits(), 0x80000000u);
  EXPECT_EQ(maximum(nz, nz).bits(), 0x80000000u);
  // NaN propagates from either side, canonically.
  EXPECT_EQ(maximum(nan, f(1.0f)).bits(), kCanonicalNaN);
  EXPECT_EQ(maximum(f(1.0f), nan).bits(), kCanonicalNaN);
  EXPECT_EQ(minimum(from_bits(0xffc0beefu), f(1.0f)).bits(), kCanonicalNaN);
  EXPECT_EQ(minimum(f(-std::numeric_limits<float>::infinity()), nan).bits(), kCanonicalNaN);
  EXPECT_EQ(maximum(f(-3.0f), f(2.0f)).v, 2.0f);
  EXPECT_EQ(minimum(f(-3.0f), f(2.0f)).v, -3.0f);
  // relu(x) = maximum(x, +0): relu(-0) is +0.
  EXPECT_EQ(maximum(nz, pz).bits(), f(0.0f).bits());
}

TEST(F32Arith, FmaRoundsOnce) {
  // (1 + 2^-23)(1 - 2^-23) = 1 - 2^-46: fma(a, b, -1) keeps -2^-46, a*b - 1 loses it.
  const F32 a = f(1.0f + 0x1p-23f), b = f(1.0f - 0x1p-23f);
  EXPECT_EQ(fma(a, b, f(-1.0f)).v, -0x1p-46f);
  EXPECT_EQ((a * b - f(1.0f)).v, 0.0f);
}

TEST(F32Arith, ToStringRoundTripsShortest) {
  EXPECT_EQ(to_string(f(0.1f)), "0.1");
  EXPECT_EQ(to_string(f(-0.0f)), "-0");
  EXPECT_EQ(to_string(f(1e30f)), "1e+30");
  EXPECT_EQ(to_string(F64::of(0.1)), "0.1");
  EXPECT_EQ(to_string(F64::of(1.0 / 3.0)), "0.3333333333333333");
  EXPECT_EQ(to_string(f(std::numeric_limits<float>::infinity())), "inf");
  EXPECT_EQ(to_string(f(std::numeric_limits<float>::quiet_NaN())), "nan");
  SplitMix64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const F32 x = from_bits(static_cast<uint32_t>(rng.next()));
    if (std::isnan(x.v)) continue;
    const std::string s = to_string(x);
    float back = 0;
    std::from_chars(s.data(), s.data() + s.size(), back);
    EXPECT_EQ(std::bit_cast<uint32_t>(back), x.bits()) << s;
  }
}

}  // namespace
}  // namespace torchlean
