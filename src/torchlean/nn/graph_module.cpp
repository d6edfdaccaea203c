#include "torchlean/nn/graph_module.hpp"

#include <unordered_map>

#include "torchlean/autodiff/grad.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::nn {

GraphLoader fixed_batch_loader(std::string name, ir::Graph graph, ir::Payload payload) {
  TL_USER_CHECK(graph.input_ids.size() == 1 && graph.node(graph.input_ids[0]).shape.rank() >= 1,
                name + ": a trainable model file needs exactly one input with a batch dim");
  const int64_t fixed = graph.node(graph.input_ids[0]).shape[0];
  return [name = std::move(name), graph = std::move(graph), payload = std::move(payload),
          fixed](int64_t batch) {
    TL_USER_CHECK(batch == fixed, name + ": the graph is built for batch " + std::to_string(fixed) +
                                      ", not " + std::to_string(batch) + " (use --batch " +
                                      std::to_string(fixed) + " --eval-batch " +
                                      std::to_string(fixed) + ")");
    return std::make_pair(graph, payload);
  };
}

GraphModule::GraphModule(std::string name, GraphLoader load)
    : name_(std::move(name)), load_(std::move(load)) {}

std::string GraphModule::describe() const { return "Graph(" + name_ + ")"; }

const GraphModule::Lifted& GraphModule::at_batch(int64_t batch) const {
  if (auto it = cache_.find(batch); it != cache_.end()) return it->second;
  auto [g, p] = load_(batch);
  TL_USER_CHECK(g.input_ids.size() == 1 && g.output_ids.size() == 1,
                name_ +
                    ": a trainable model file needs one input and one output (the logits), it "
                    "has " +
                    std::to_string(g.input_ids.size()) + " and " +
                    std::to_string(g.output_ids.size()));
  Lifted l;
  std::vector<autodiff::LiftedParameter> params;
  std::tie(l.graph, l.payload) = autodiff::lift_parameters(g, p, &params);
  for (const autodiff::LiftedParameter& lp : params) {
    const bool weight =
        lp.slot == "weight" || lp.slot == "bias" || lp.slot == "gamma" || lp.slot == "beta";
    const bool tensor = lp.slot == "value" && l.graph.node(lp.const_id).shape.rank() >= 1;
    if (weight || tensor) l.trainable[lp.const_id] = std::to_string(lp.node) + "." + lp.slot;
  }
  return cache_.emplace(batch, std::move(l)).first->second;
}

int64_t GraphModule::forward(Context& ctx, int64_t x) const {
  const Shape xs = ctx.shape(x);
  TL_USER_CHECK(xs.rank() >= 1, name_ + ": input shape " + xs.str() + " has no batch dim");
  const Lifted& l = at_batch(xs[0]);
  const Shape& in = l.graph.node(l.graph.input_ids[0]).shape;
  TL_USER_CHECK(in.rank() >= 1 && in[0] == xs[0] && in.numel() == xs.numel(),
                name_ + ": the graph's input " + in.str() + " does not fit the batch " + xs.str());
  std::unordered_map<int64_t, int64_t> id;  // file graph id -> id in ctx's graph
  for (const ir::Node& n : l.graph.nodes) {
    if (n.kind == ir::OpKind::input) {
      id[n.id] = in == xs ? x : ctx.op(ir::OpKind::reshape, {x}, ir::ReshapeAttrs{xs, in});
      continue;
    }
    const auto slots = l.payload.find(n.id);
    if (n.kind == ir::OpKind::constant) {
      TL_USER_CHECK(slots != l.payload.end() && slots->second.count("value"),
                    name_ + ": " + n.label() + " has no payload value");
      const Tensor<double>& v = slots->second.at("value");
      const auto t = l.trainable.find(n.id);
      id[n.id] = t != l.trainable.end() ? ctx.parameter(t->second, v) : ctx.b().constant(v);
      continue;
    }
    std::vector<int64_t> parents;
    for (int64_t p : n.parents) parents.push_back(id.at(p));
    const int64_t m = ctx.b().add(n.kind, std::move(parents), n.attrs, n.shape);
    if (slots != l.payload.end())
      for (const auto& [slot, t] : slots->second) ctx.b().set_payload(m, slot, t);
    id[n.id] = m;
  }
  return id.at(l.graph.output_ids[0]);
}

}  // namespace torchlean::nn
