// One BoundRule specialisation per op (by JSON name), defined in rules_<family>.cpp. The rule
// table (rule_table.cpp) needs one for every op of the registry: a new op fails to compile until
// it gets a rule here (or an explicit kNoRule definition).
#pragma once
#include "torchlean/verify/rules.hpp"

namespace torchlean::verify {

#define TL_DECLARE_RULE(json) \
  template <>                 \
  struct BoundRule<json> {    \
    static const OpRule rule; \
  };

TL_DECLARE_RULE("input")
TL_DECLARE_RULE("const")
TL_DECLARE_RULE("permute")
TL_DECLARE_RULE("detach")
TL_DECLARE_RULE("rand_uniform")
TL_DECLARE_RULE("bernoulli_mask")
TL_DECLARE_RULE("add")
TL_DECLARE_RULE("sub")
TL_DECLARE_RULE("mul_elem")
TL_DECLARE_RULE("abs")
TL_DECLARE_RULE("sqrt")
TL_DECLARE_RULE("inv")
TL_DECLARE_RULE("max_elem")
TL_DECLARE_RULE("min_elem")
TL_DECLARE_RULE("max_pool2d")
TL_DECLARE_RULE("max_pool2d_pad")
TL_DECLARE_RULE("avg_pool2d")
TL_DECLARE_RULE("avg_pool2d_pad")
TL_DECLARE_RULE("broadcast_to")
TL_DECLARE_RULE("reduce_sum")
TL_DECLARE_RULE("reduce_mean")
TL_DECLARE_RULE("sum")
TL_DECLARE_RULE("matmul")
TL_DECLARE_RULE("linear")
TL_DECLARE_RULE("conv2d")
TL_DECLARE_RULE("batch_norm2d_nchw_eval")
TL_DECLARE_RULE("relu")
TL_DECLARE_RULE("tanh")
TL_DECLARE_RULE("sigmoid")
TL_DECLARE_RULE("exp")
TL_DECLARE_RULE("log")
TL_DECLARE_RULE("sin")
TL_DECLARE_RULE("cos")
TL_DECLARE_RULE("softmax")
TL_DECLARE_RULE("layernorm")
TL_DECLARE_RULE("reshape")
TL_DECLARE_RULE("flatten")
TL_DECLARE_RULE("concat")
TL_DECLARE_RULE("swap_first_two")
TL_DECLARE_RULE("transpose3d_last_two")
TL_DECLARE_RULE("mse_loss")
TL_DECLARE_RULE("neg")
TL_DECLARE_RULE("div")
TL_DECLARE_RULE("pow_const")
TL_DECLARE_RULE("erf")
TL_DECLARE_RULE("gelu")
TL_DECLARE_RULE("leaky_relu")
TL_DECLARE_RULE("softplus")
TL_DECLARE_RULE("silu")
TL_DECLARE_RULE("clamp")
TL_DECLARE_RULE("compare")
TL_DECLARE_RULE("where")
TL_DECLARE_RULE("broadcast")
TL_DECLARE_RULE("slice")
TL_DECLARE_RULE("pad")
TL_DECLARE_RULE("gather")
TL_DECLARE_RULE("log_softmax")
TL_DECLARE_RULE("cross_entropy")
TL_DECLARE_RULE("conv2d_nchw")
TL_DECLARE_RULE("max_pool2d_nchw")
TL_DECLARE_RULE("avg_pool2d_nchw")
TL_DECLARE_RULE("max_pool2d_nchw_grad")
TL_DECLARE_RULE("avg_pool2d_nchw_grad")
TL_DECLARE_RULE("conv2d_nchw_grad_input")
TL_DECLARE_RULE("conv2d_nchw_grad_weight")
TL_DECLARE_RULE("gather_grad")
TL_DECLARE_RULE("slice_grad")

#undef TL_DECLARE_RULE

// The rule of an op with no sound bound rule (random draws of input-dependent masks, gradient-only
// ops).
inline constexpr OpRule kNoRule{nullptr, nullptr, false};

}  // namespace torchlean::verify
