#include <gtest/gtest.h>

#include "torchlean/core/error.hpp"
#include "torchlean/core/shape.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/core/tensor.hpp"

using namespace torchlean;

TEST(Shape, NumelStridesAndPrinting) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.strides(), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(s.str(), "(2,3,4)");
  EXPECT_EQ(Shape{}.numel(), 1);  // rank 0 is a scalar
  EXPECT_EQ(Shape{}.str(), "()");
  EXPECT_EQ((Shape{3, 0, 5}).numel(), 0);  // zero-size dims are legal
}

TEST(Shape, RejectsNegativeDimsAndOverflow) {
  EXPECT_THROW(Shape({2, -1}), UserError);
  Shape huge{int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_THROW(huge.numel(), UserError);
}

TEST(Tensor, RejectsWrongDataLength) {
  EXPECT_THROW(Tensor<double>(Shape{2, 2}, std::vector<double>{1, 2, 3}), UserError);
  Tensor<double> t(Shape{2, 2}, std::vector<double>{1, 2, 3, 4});
  EXPECT_EQ(t[3], 4);
}

TEST(Errors, BothKindsAreStdExceptions) {
  try {
    throw UserError("[relu] bad");
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "[relu] bad");
  }
  EXPECT_THROW(throw InternalError("x"), std::exception);
}

// Reference values of SplitMix64 with seed 1234567, from the published reference implementation
// (Vigna, splitmix64.c): the first outputs are 6457827717110365317, 3203168211198807973.
TEST(SplitMix64, MatchesPublishedSequence) {
  SplitMix64 rng(1234567);
  EXPECT_EQ(rng.next(), 6457827717110365317ull);
  EXPECT_EQ(rng.next(), 3203168211198807973ull);
}
