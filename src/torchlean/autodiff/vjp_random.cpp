// VJPs of the random ops (ops/random.cpp). rand_uniform has no operands. bernoulli_mask is a
// step function of its keep probability: its derivative is 0 wherever it exists, so no gradient
// flows (the mask multiplies activations elsewhere, and that product carries the gradient).
#include "torchlean/autodiff/vjp.hpp"

namespace torchlean::autodiff::detail {

Adjoints vjp_rand_uniform(const VjpContext&) { return {}; }
Adjoints vjp_bernoulli_mask(const VjpContext&) { return {kNone}; }

}  // namespace torchlean::autodiff::detail
