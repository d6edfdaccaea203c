// The reverse-mode driver: marks the nodes on a path from a wrt node to the loss, then walks them
// from the loss down, asking each node's VJP rule (vjp_<family>.cpp) for its parents' adjoints
// and summing contributions to a node in the order they arrive (descending consumer id).
#include "torchlean/autodiff/grad.hpp"

#include <algorithm>

#include "torchlean/autodiff/vjp.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::autodiff {

using ir::OpKind;

GradGraph grad(const ir::Graph& g, const GradRequest& req) {
  ir::check_graph(g);
  const int64_t n = static_cast<int64_t>(g.nodes.size());
  TL_USER_CHECK(req.loss >= 0 && req.loss < n, "[autodiff] loss node " + std::to_string(req.loss) +
                                                   " does not exist (" + std::to_string(n) +
                                                   " nodes)");
  const ir::Node& loss = g.node(req.loss);
  TL_USER_CHECK(loss.shape.rank() == 0, "[autodiff] loss " + loss.label() +
                                            " must be a scalar (shape ()), has shape " +
                                            loss.shape.str());
  std::vector<bool> is_wrt(static_cast<size_t>(n), false);
  for (int64_t w : req.wrt) {
    TL_USER_CHECK(w >= 0 && w < n, "[autodiff] wrt node " + std::to_string(w) +
                                       " does not exist (" + std::to_string(n) + " nodes)");
    const ir::Node& wn = g.node(w);
    TL_USER_CHECK(wn.kind == OpKind::input || wn.kind == OpKind::constant,
                  "[autodiff] wrt " + wn.label() +
                      " is not an input or const node (differentiate with respect to leaves)");
    is_wrt[static_cast<size_t>(w)] = true;
  }

  // depends[i]: node i's value depends on a wrt node along edges that detach does not cut.
  std::vector<bool> depends(static_cast<size_t>(n), false);
  for (const ir::Node& node : g.nodes) {
    bool d = is_wrt[static_cast<size_t>(node.id)];
    if (node.kind != OpKind::detach)
      for (int64_t p : node.parents) d = d || depends[static_cast<size_t>(p)];
    depends[static_cast<size_t>(node.id)] = d;
  }
  // active[i]: depends, and the loss depends on node i through depending nodes.
  std::vector<bool> active(static_cast<size_t>(n), false);
  active[static_cast<size_t>(req.loss)] = depends[static_cast<size_t>(req.loss)];
  for (int64_t i = req.loss; i >= 0; --i) {
    const ir::Node& node = g.nodes[static_cast<size_t>(i)];
    if (!active[static_cast<size_t>(i)] || node.kind == OpKind::detach) continue;
    for (int64_t p : node.parents)
      if (depends[static_cast<size_t>(p)]) active[static_cast<size_t>(p)] = true;
  }

  GradGraph out;
  out.graph = g;
  detail::Emitter e(out.graph, out.payload);
  std::vector<int64_t> adjoint(static_cast<size_t>(n), detail::kNone);
  if (active[static_cast<size_t>(req.loss)]) adjoint[static_cast<size_t>(req.loss)] = e.scalar(1.0);
  for (int64_t i = req.loss; i >= 0; --i) {
    const int64_t gy = adjoint[static_cast<size_t>(i)];
    const ir::Node& node = g.nodes[static_cast<size_t>(i)];
    if (gy == detail::kNone || node.parents.empty()) continue;
    std::vector<bool> needed;
    for (int64_t p : node.parents) needed.push_back(active[static_cast<size_t>(p)]);
    if (std::none_of(needed.begin(), needed.end(), [](bool b) { return b; })) continue;
    const detail::VjpContext c{e, node, gy, needed};
    const detail::Adjoints adj = detail::vjp(c);
    TL_INTERNAL_CHECK(adj.size() == node.parents.size(),
                      "[autodiff] VJP of " + node.label() + " returned " +
                          std::to_string(adj.size()) + " adjoints");
    for (size_t k = 0; k < adj.size(); ++k) {
      if (adj[k] == detail::kNone || !needed[k]) continue;
      const int64_t p = node.parents[k];
      TL_INTERNAL_CHECK(e.shape(adj[k]) == g.node(p).shape,
                        "[autodiff] VJP of " + node.label() + " gave operand " + std::to_string(k) +
                            " an adjoint of shape " + e.shape(adj[k]).str() + ", expected " +
                            g.node(p).shape.str());
      int64_t& acc = adjoint[static_cast<size_t>(p)];
      acc = acc == detail::kNone ? adj[k] : e.binary(OpKind::add, acc, adj[k]);
    }
  }

  for (int64_t w : req.wrt) {
    int64_t gid = adjoint[static_cast<size_t>(w)];
    if (gid == detail::kNone) gid = e.zeros(g.node(w).shape);
    out.grad_ids.push_back(gid);
    out.graph.output_ids.push_back(gid);
  }
  return out;
}

ir::Payload merge_payload(const ir::Payload& forward, const GradGraph& gg) {
  ir::Payload merged = forward;
  for (const auto& [id, slots] : gg.payload) {
    TL_USER_CHECK(!merged.contains(id),
                  "[autodiff] merge_payload: node " + std::to_string(id) +
                      " has a payload in both the forward and backward store");
    merged.emplace(id, slots);
  }
  return merged;
}

}  // namespace torchlean::autodiff
