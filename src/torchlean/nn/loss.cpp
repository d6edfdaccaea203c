#include "torchlean/nn/loss.hpp"

#include "torchlean/core/error.hpp"

namespace torchlean::nn {

using ir::OpKind;

Loss parse_loss(const std::string& name) {
  if (name == "cross_entropy") return Loss::cross_entropy;
  if (name == "mse") return Loss::mse;
  if (name == "bce_with_logits") return Loss::bce_with_logits;
  throw UserError("loss: unknown loss '" + name + "' (cross_entropy, mse, bce_with_logits)");
}

std::string loss_name(Loss l) {
  switch (l) {
    case Loss::cross_entropy:
      return "cross_entropy";
    case Loss::mse:
      return "mse";
    case Loss::bce_with_logits:
      return "bce_with_logits";
  }
  return "?";
}

int64_t build_loss(ir::GraphBuilder& b, Loss loss, int64_t prediction, int64_t target) {
  const Shape p = b.shape(prediction), t = b.shape(target);
  const std::string what = loss_name(loss) + ": prediction " + p.str() + ", target " + t.str();
  switch (loss) {
    case Loss::cross_entropy: {
      TL_USER_CHECK(p.rank() >= 2 && t.rank() == p.rank() - 1 &&
                        std::equal(t.dims().begin(), t.dims().end(), p.dims().begin()),
                    what + ": expected logits (N..., C) and class indices (N...)");
      if (p.rank() == 2) return b.add(OpKind::cross_entropy, {prediction, target});
      // (N, T, C): the mean over all N*T positions, as PyTorch's mean over the flattened batch.
      const int64_t rows = t.numel();
      const Shape p2{rows, p[p.rank() - 1]}, t2{rows};
      const int64_t pr = b.add(OpKind::reshape, {prediction}, ir::ReshapeAttrs{p, p2});
      const int64_t tr = b.add(OpKind::reshape, {target}, ir::ReshapeAttrs{t, t2});
      return b.add(OpKind::cross_entropy, {pr, tr});
    }
    case Loss::mse:
      TL_USER_CHECK(p == t, what + ": shapes must be equal");
      return b.add(OpKind::mse_loss, {prediction, target});
    case Loss::bce_with_logits: {
      TL_USER_CHECK(p == t && p.numel() > 0, what + ": shapes must be equal and non-empty");
      const int64_t pos = b.add(OpKind::relu, {prediction});
      const int64_t xy = b.add(OpKind::mul_elem, {prediction, target});
      const int64_t tail =
          b.add(OpKind::softplus, {b.add(OpKind::neg, {b.add(OpKind::abs, {prediction})})});
      const int64_t per = b.add(OpKind::add, {b.add(OpKind::sub, {pos, xy}), tail});
      const int64_t n = b.constant(Tensor<double>(Shape{}, {static_cast<double>(p.numel())}));
      return b.add(OpKind::div, {b.add(OpKind::sum, {per}), n});
    }
  }
  throw InternalError("build_loss: unknown loss");
}

}  // namespace torchlean::nn
