// Dispatch from OpKind to eval_<op>, generated from the registry.
#include "torchlean/core/error.hpp"
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::ops {

template <class S>
const Tensor<S>& EvalArgs<S>::slot(const std::string& name) const {
  auto it = payload.find(name);
  if (it == payload.end())
    throw UserError("[" + std::string(ir::op_name(node.kind)) + "] " + node.label() +
                    ": missing payload slot '" + name + "'");
  return it->second;
}

template <class S>
Tensor<S> eval_node(const EvalArgs<S>& args) {
  switch (args.node.kind) {
#define TL_X(name, json, A, arity) \
  case ir::OpKind::name:           \
    return eval_##name<S>(args);
    TORCHLEAN_OPS(TL_X)
#undef TL_X
  }
  throw InternalError("eval_node: unknown op kind");
}

template struct EvalArgs<F32>;
template struct EvalArgs<F64>;
template struct EvalArgs<Exact>;
template Tensor<F32> eval_node(const EvalArgs<F32>&);
template Tensor<F64> eval_node(const EvalArgs<F64>&);
template Tensor<Exact> eval_node(const EvalArgs<Exact>&);

}  // namespace torchlean::ops
