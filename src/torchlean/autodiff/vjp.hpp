// Internal interface between the gradient driver (grad.cpp) and the per-family VJP rules
// (vjp_<family>.cpp). A rule receives the node and the adjoint of its output and appends IR nodes
// computing the adjoint of each parent. Every node is shape-inferred by the one shape function on
// the way in (Emitter::add), so a wrong rule fails at construction, naming the op.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::autodiff::detail {

// Appends shape-checked nodes to a graph; constants go to a payload of their own. Scalar
// constants are shared (one node per value), and filled tensors are broadcasts of them.
class Emitter {
 public:
  Emitter(ir::Graph& g, ir::Payload& payload) : g_(g), payload_(payload) {}

  int64_t add(ir::OpKind kind, std::vector<int64_t> parents, ir::Attrs attrs = ir::NoAttrs{},
              std::optional<Shape> declared = std::nullopt);
  // By value: adding nodes may reallocate the node array.
  Shape shape(int64_t id) const { return g_.node(id).shape; }

  // A rank-0 constant.
  int64_t scalar(double v);
  // A constant tensor (payload "value").
  int64_t constant(const Shape& shape, std::vector<double> values);
  // `v` in every element of `shape` (a broadcast of a shared scalar constant).
  int64_t full(const Shape& shape, double v);
  int64_t zeros(const Shape& shape) { return full(shape, 0.0); }

  // Binary elementwise ops on equal shapes, and a few composites.
  int64_t binary(ir::OpKind kind, int64_t a, int64_t b) { return add(kind, {a, b}); }
  int64_t unary(ir::OpKind kind, int64_t a) { return add(kind, {a}); }
  // a * c (c broadcast from a scalar constant).
  int64_t scale(int64_t a, double c) { return binary(ir::OpKind::mul_elem, a, full(shape(a), c)); }
  int64_t reshape(int64_t a, const Shape& to);
  // NumPy-style (right-aligned) broadcast of `a` to `to`; `a` itself if the shapes are equal.
  int64_t broadcast(int64_t a, const Shape& to);
  // Sums `a` over `axes` (in any order) and reshapes the result to `to`: the adjoint of a
  // broadcast whose repeated axes are `axes`.
  int64_t sum_axes_to(int64_t a, std::vector<int64_t> axes, const Shape& to);
  // 1.0 where compare(a, b) holds, else 0.0 (cmp: lt, le, gt, ge, eq, ne).
  int64_t compare(int64_t a, int64_t b, const std::string& cmp);
  // compare(a, c) with c broadcast from a scalar constant.
  int64_t compare_const(int64_t a, double c, const std::string& cmp);
  // where(cond, a, zeros) and where(cond, zeros, a).
  int64_t keep_where(int64_t cond, int64_t a);
  int64_t keep_where_not(int64_t cond, int64_t a);
  // `v` (shape `full` without `axis`) repeated along `axis` to shape `full`.
  int64_t spread(int64_t v, const Shape& full, int64_t axis);
  // Swaps the last two axes (rank >= 2).
  int64_t transpose_last_two(int64_t a);

 private:
  ir::Graph& g_;
  ir::Payload& payload_;
  std::map<uint64_t, int64_t> scalars_;  // keyed by the value's bits
  std::map<std::pair<uint64_t, std::vector<int64_t>>, int64_t> fills_;
};

// What a VJP rule sees. `gy` is the adjoint of the node's output (same shape as the node).
struct VjpContext {
  Emitter& e;
  ir::Node node;  // a copy: emitting nodes may reallocate the graph's node array
  int64_t gy;
  // needed[i]: parent i's adjoint is wanted (it lies on a path from a wrt node to the loss).
  const std::vector<bool>& needed;

  int64_t parent(size_t i) const { return node.parents[i]; }
  Shape parent_shape(size_t i) const { return e.shape(node.parents[i]); }
  // The node's own output, for rules that reuse it (exp' = exp).
  int64_t out() const { return node.id; }
  template <class A>
  const A& attrs() const {
    return std::get<A>(node.attrs);
  }
  // Throws UserError if parent i is needed: its operand has no derivative (an index operand, or
  // a payload-parameterised op that lift_parameters must rewrite first).
  void not_differentiable(size_t i, const std::string& why) const;
};

// Adjoint of each parent, in parent order; kNone where nothing flows (not needed, or the
// derivative is zero everywhere it exists).
inline constexpr int64_t kNone = -1;
using Adjoints = std::vector<int64_t>;

#define TL_X(name, json, A, arity) Adjoints vjp_##name(const VjpContext& c);
TORCHLEAN_OPS(TL_X)
#undef TL_X

// Dispatches on the node's kind (the table is generated from the registry).
Adjoints vjp(const VjpContext& c);

}  // namespace torchlean::autodiff::detail
