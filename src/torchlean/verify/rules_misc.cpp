// Bound rules of the leaves and the random ops. input and const never reach a rule: the engine
// binds the input box and folds every node that does not depend on the input (const,
// rand_uniform, and any op applied to constants only) into an exact constant. A bernoulli_mask
// whose keep probability depends on the input is 0 or 1: its box is [0, 1].
#include "torchlean/verify/rule_util.hpp"

namespace torchlean::verify {

namespace {

Box leaf_ibp(const NodeCtx& ctx) {
  throw InternalError(ctx.prefix() + "leaves are bound by the engine, not by a rule");
}

}  // namespace

const OpRule BoundRule<"input">::rule{leaf_ibp, detail::use_box, true};
const OpRule BoundRule<"const">::rule{leaf_ibp, detail::use_box, true};
const OpRule BoundRule<"rand_uniform">::rule{leaf_ibp, detail::use_box, true};
const OpRule BoundRule<"bernoulli_mask">::rule{[](const NodeCtx& ctx) {
                                                 Box out(ctx.node.shape.numel());
                                                 std::fill(out.hi.begin(), out.hi.end(), 1.0);
                                                 return out;
                                               },
                                               detail::use_box, true};

}  // namespace torchlean::verify
