// Shape: an ordered list of dims, outermost first. Rank 0 is a scalar; zero-size dims are legal.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace torchlean {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::vector<int64_t> dims);

  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t operator[](int64_t axis) const { return dims_.at(static_cast<size_t>(axis)); }
  const std::vector<int64_t>& dims() const { return dims_; }
  // Number of elements (1 for a scalar). Throws UserError if it overflows int64.
  int64_t numel() const;
  // Row-major strides, in elements.
  std::vector<int64_t> strides() const;

  bool operator==(const Shape&) const = default;
  // "(2,3)" with "()" for a scalar, as in error messages.
  std::string str() const;

 private:
  std::vector<int64_t> dims_;
};

}  // namespace torchlean
