// F64 elementary functions vs MPFR (53 bits, RNDN, binary64 exponent range, subnormalize): bit
// equality on 10^4 inputs per function across all binades plus special values.
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

using testing::reference_f64;

constexpr uint64_t kCanonicalNaN = 0x7ff8000000000000ull;

uint64_t expected_bits(Elementary f, double x) {
  const double r = reference_f64(f, x);
  return std::isnan(r) ? kCanonicalNaN : std::bit_cast<uint64_t>(r);
}

class F64Elementary : public ::testing::TestWithParam<Elementary> {};

std::string param_name(const ::testing::TestParamInfo<Elementary>& info) {
  return std::string(elementary_name(info.param));
}

TEST_P(F64Elementary, MatchesMpfr) {
  const Elementary f = GetParam();
  SplitMix64 rng(0xf64 + static_cast<uint64_t>(f));
  std::vector<double> xs;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t r = rng.next();
    // Half across all finite binades, half with |x| in [2^-10, 2^10).
    const uint64_t exponent = i % 2 == 0 ? (r >> 52) % 2047 : 1013 + (r >> 52) % 20;
    xs.push_back(std::bit_cast<double>((r >> 63) << 63 | exponent << 52 | (r & 0xfffffffffffffull)));
  }
  const double inf = std::numeric_limits<double>::infinity();
  for (double x : {0.0, -0.0, inf, -inf, std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::min(),
                   std::numeric_limits<double>::max(), 1.0, -1.0, 709.782712893384, 709.7827128933841,
                   -745.1332191019411, -745.1332191019412, -708.3964185322641, 1e300, -1e300, 1e22, 40.0,
                   -40.0, 19.1, 6.0, -800.0})
    xs.push_back(x);
  int mismatches = 0;
  for (double x : xs) {
    const uint64_t got = elementary(f, F64::of(x)).bits();
    if (got != expected_bits(f, x) && ++mismatches <= 5)
      ADD_FAILURE() << elementary_name(f) << "(" << std::hexfloat << x << ") = " << std::bit_cast<double>(got)
                    << ", MPFR says " << reference_f64(f, x);
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(F64ElementarySpecial, SignsOfZeroAndNaN) {
  EXPECT_EQ(tanh(F64::of(-0.0)).bits(), 0x8000000000000000ull);
  EXPECT_EQ(sin(F64::of(-0.0)).bits(), 0x8000000000000000ull);
  EXPECT_EQ(erf(F64::of(-0.0)).bits(), 0x8000000000000000ull);
  EXPECT_EQ(log(F64::of(-2.0)).bits(), kCanonicalNaN);
  EXPECT_EQ(exp(F64::of(-1e4)).bits(), 0u);
  EXPECT_EQ(sigmoid(F64::of(-1e4)).bits(), 0u);
  EXPECT_EQ(sigmoid(F64::of(0.0)).v, 0.5);
}

INSTANTIATE_TEST_SUITE_P(All, F64Elementary, ::testing::ValuesIn(kAllElementary), param_name);

}  // namespace
}  // namespace torchlean
