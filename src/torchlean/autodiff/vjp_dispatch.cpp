// The VJP dispatch table, generated from the registry: an op without a vjp_<name> rule does not
// link.
#include "torchlean/autodiff/vjp.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::autodiff::detail {

Adjoints vjp(const VjpContext& c) {
  switch (c.node.kind) {
#define TL_X(name, json, A, arity) \
  case ir::OpKind::name:           \
    return vjp_##name(c);
    TORCHLEAN_OPS(TL_X)
#undef TL_X
  }
  throw InternalError("[autodiff] " + c.node.label() + ": op kind outside the registry");
}

}  // namespace torchlean::autodiff::detail
