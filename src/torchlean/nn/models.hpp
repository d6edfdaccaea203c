// Built-in architectures, by spec string: "mlp:784-256-256-10" (Flatten, then Linear + ReLU
// between the listed widths) and "lenet" (LeNet-5 style CNN for 1x28x28 images).
#pragma once
#include <string>

#include "torchlean/nn/layers.hpp"

namespace torchlean::nn {

// Reshapes each example to `shape` (batch dim kept): (N, 28, 28) -> (N, 1, 28, 28).
class Reshape : public Module {
 public:
  explicit Reshape(Shape example_shape) : shape_(std::move(example_shape)) {}
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override { return "Reshape" + shape_.str(); }

 private:
  Shape shape_;
};

// The model named by `spec` for examples of `example_shape` (without the batch dim). UserError
// for an unknown spec or widths that do not fit the data ("mlp: first width 700 but examples
// have 784 features").
ModulePtr build_model(const std::string& spec, const Shape& example_shape);

// LeNet-5 style: conv 1->6 k5 p2, ReLU, maxpool 2; conv 6->16 k5, ReLU, maxpool 2; flatten;
// 400->120, ReLU, 120->84, ReLU, 84->classes.
ModulePtr lenet(int64_t classes);

}  // namespace torchlean::nn
