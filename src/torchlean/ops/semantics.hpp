// Reference semantics of every op, generic over the scalar domain S (F32, F64, Exact).
// One function per op, `eval_<op>`, defined in the op family's file (ops/<family>.cpp) as plain
// loops in the documented order (DESIGN §3.3) and instantiated for every domain; an op missing
// from the registry's X-list or missing its definition fails the build.
#pragma once
#include <map>
#include <span>
#include <string>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::ops {

template <class S>
struct EvalArgs {
  const ir::Node& node;
  std::span<const Tensor<S>* const> parents;  // one per parent, in order
  // The node's payload slots ("weight", "bias", ...); empty for ops without parameters.
  const std::map<std::string, Tensor<S>>& payload;

  const Tensor<S>& arg(size_t i) const { return *parents[i]; }
  const Tensor<S>& slot(const std::string& name) const;
  template <class A>
  const A& attrs() const { return std::get<A>(node.attrs); }
};

#define TL_X(name, json, A, arity) \
  template <class S>               \
  Tensor<S> eval_##name(const EvalArgs<S>& args);
TORCHLEAN_OPS(TL_X)
#undef TL_X

// Dispatches on the node's kind.
template <class S>
Tensor<S> eval_node(const EvalArgs<S>& args);

}  // namespace torchlean::ops
