#include "torchlean/interp/evaluator.hpp"

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::interp {

template <class S>
std::vector<Tensor<S>> evaluate(const ir::Graph& g, const ir::PayloadStore<S>& payload,
                                std::span<const Tensor<S>> inputs) {
  ir::check_graph(g);
  ir::check_payload(g, payload);
  TL_USER_CHECK(inputs.size() == g.input_ids.size(),
                "evaluate: graph has " + std::to_string(g.input_ids.size()) + " input(s), got " +
                    std::to_string(inputs.size()));
  std::vector<Tensor<S>> values(g.nodes.size());
  for (size_t i = 0; i < g.input_ids.size(); ++i) {
    const ir::Node& n = g.node(g.input_ids[i]);
    TL_USER_CHECK(inputs[i].shape() == n.shape, "evaluate: input " + std::to_string(i) + " (" +
                                                    n.label() + ") expects shape " + n.shape.str() +
                                                    ", got " + inputs[i].shape().str());
    values[static_cast<size_t>(n.id)] = inputs[i];
  }
  static const std::map<std::string, Tensor<S>> kNoPayload;
  std::vector<const Tensor<S>*> parents;
  for (const ir::Node& n : g.nodes) {
    if (n.kind == ir::OpKind::input) continue;
    parents.clear();
    for (int64_t p : n.parents) parents.push_back(&values[static_cast<size_t>(p)]);
    auto it = payload.find(n.id);
    ops::EvalArgs<S> args{n, parents, it == payload.end() ? kNoPayload : it->second};
    Tensor<S> out = ops::eval_node(args);
    TL_INTERNAL_CHECK(out.shape() == n.shape, "[" + std::string(ir::op_name(n.kind)) + "] " +
                                                  n.label() + ": semantics produced shape " +
                                                  out.shape().str() + ", declared " + n.shape.str());
    values[static_cast<size_t>(n.id)] = std::move(out);
  }
  return values;
}

template <class S>
std::vector<Tensor<S>> evaluate_outputs(const ir::Graph& g, const ir::PayloadStore<S>& payload,
                                        std::span<const Tensor<S>> inputs) {
  std::vector<Tensor<S>> all = evaluate(g, payload, inputs);
  std::vector<Tensor<S>> out;
  for (int64_t id : g.output_ids) out.push_back(all[static_cast<size_t>(id)]);  // copy: an id may repeat
  return out;
}

#define TL_INSTANTIATE(S)                                                                        \
  template std::vector<Tensor<S>> evaluate(const ir::Graph&, const ir::PayloadStore<S>&,        \
                                           std::span<const Tensor<S>>);                         \
  template std::vector<Tensor<S>> evaluate_outputs(const ir::Graph&, const ir::PayloadStore<S>&, \
                                                   std::span<const Tensor<S>>);
TL_INSTANTIATE(F32)
TL_INSTANTIATE(F64)
TL_INSTANTIATE(Exact)
#undef TL_INSTANTIATE

}  // namespace torchlean::interp
