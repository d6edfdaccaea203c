// The small classification problem the trainer tests share: three classes in 4-D, class c centred
// on 2 e_c with N(0, 1/4) noise, and a 4-8-3 ReLU MLP that learns it in a few steps.
#pragma once
#include <memory>
#include <vector>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/nn/dataset.hpp"
#include "torchlean/nn/init.hpp"
#include "torchlean/nn/layers.hpp"

namespace torchlean::nn::testing {

inline Dataset blobs(int64_t n, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<float> x, y;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = static_cast<int64_t>(rng.next() % 3);
    for (int64_t d = 0; d < 4; ++d)
      x.push_back(static_cast<float>((d == c ? 2.0 : 0.0) + 0.5 * standard_normal(rng)));
    y.push_back(static_cast<float>(c));
  }
  return Dataset{Tensor<float>(Shape{n, 4}, x), Tensor<float>(Shape{n}, y)};
}

inline ModulePtr mlp() {
  return std::make_shared<Sequential>(std::vector<ModulePtr>{
      std::make_shared<Linear>(4, 8), std::make_shared<Activation>(ir::OpKind::relu),
      std::make_shared<Linear>(8, 3)});
}

}  // namespace torchlean::nn::testing
