// The rule table, generated from the registry's X-list: an op without a BoundRule specialisation
// (rule_decls.hpp) is an incomplete type here and fails the build.
#include <array>

#include "torchlean/verify/rule_decls.hpp"

namespace torchlean::verify {

const OpRule& rule_for(ir::OpKind kind) {
  static const std::array<const OpRule*, ir::kOpCount> table = {{
#define TL_X(name, json, A, arity) &BoundRule<json>::rule,
      TORCHLEAN_OPS(TL_X)
#undef TL_X
  }};
  return *table[static_cast<size_t>(kind)];
}

}  // namespace torchlean::verify
