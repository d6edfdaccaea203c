// Losses as IR: each reduces (prediction, target) to a rank-0 node, mean over the batch as
// PyTorch's reduction='mean'.
#pragma once
#include <cstdint>
#include <string>

#include "torchlean/ir/builder.hpp"

namespace torchlean::nn {

enum class Loss {
  cross_entropy,    // logits (N, C) or (N, T, C), targets: class indices (N) or (N, T)
  mse,              // equal shapes: mean of squared differences (the IR's mse_loss)
  bce_with_logits,  // equal shapes, targets in [0, 1]: mean of max(x,0) - x*y + log(1+exp(-|x|))
};
Loss parse_loss(const std::string& name);  // "cross_entropy" | "mse" | "bce_with_logits"
std::string loss_name(Loss l);

// The loss node; UserError naming the loss and both shapes when they do not fit.
int64_t build_loss(ir::GraphBuilder& b, Loss loss, int64_t prediction, int64_t target);

}  // namespace torchlean::nn
