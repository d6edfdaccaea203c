// Tensor<S>: a shape and a row-major flat buffer of scalars of domain S.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/core/shape.hpp"

namespace torchlean {

template <class S>
class Tensor {
 public:
  Tensor() : data_(1) {}  // a scalar
  explicit Tensor(Shape shape) : shape_(std::move(shape)), data_(static_cast<size_t>(shape_.numel())) {}
  Tensor(Shape shape, S fill) : shape_(std::move(shape)), data_(static_cast<size_t>(shape_.numel()), fill) {}
  Tensor(Shape shape, std::vector<S> data) : shape_(std::move(shape)), data_(std::move(data)) {
    TL_USER_CHECK(static_cast<int64_t>(data_.size()) == shape_.numel(),
                  "tensor: " + std::to_string(data_.size()) + " values for shape " + shape_.str());
  }

  const Shape& shape() const { return shape_; }
  int64_t numel() const { return static_cast<int64_t>(data_.size()); }
  std::span<S> data() { return data_; }
  std::span<const S> data() const { return data_; }
  S& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  const S& operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }
  std::vector<S>& vec() { return data_; }
  const std::vector<S>& vec() const { return data_; }

 private:
  Shape shape_;
  std::vector<S> data_;
};

}  // namespace torchlean
