#include "torchlean/core/shape.hpp"

#include "torchlean/core/error.hpp"

namespace torchlean {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {
  for (int64_t d : dims_) TL_USER_CHECK(d >= 0, "shape: negative dim in " + str());
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : dims_) {
    if (d == 0) return 0;
  }
  for (int64_t d : dims_) {
    TL_USER_CHECK(n <= INT64_MAX / d, "shape: element count of " + str() + " overflows");
    n *= d;
  }
  return n;
}

std::vector<int64_t> Shape::strides() const {
  std::vector<int64_t> s(dims_.size(), 1);
  for (size_t i = dims_.size(); i-- > 1;) s[i - 1] = s[i] * dims_[i];
  return s;
}

std::string Shape::str() const {
  std::string out = "(";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(dims_[i]);
  }
  return out + ")";
}

}  // namespace torchlean
