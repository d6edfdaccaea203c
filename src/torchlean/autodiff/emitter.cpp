// Emitter: shape-checked node construction for the backward pass (see vjp.hpp).
#include <algorithm>
#include <bit>

#include "torchlean/autodiff/vjp.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::autodiff::detail {

using ir::OpKind;

int64_t Emitter::add(OpKind kind, std::vector<int64_t> parents, ir::Attrs attrs,
                     std::optional<Shape> declared) {
  ir::Node n;
  n.id = static_cast<int64_t>(g_.nodes.size());
  n.parents = std::move(parents);
  n.kind = kind;
  n.attrs = std::move(attrs);
  n.shape = declared.value_or(Shape{});
  std::vector<Shape> parent_shapes;
  parent_shapes.reserve(n.parents.size());
  for (int64_t p : n.parents) {
    TL_INTERNAL_CHECK(p >= 0 && p < n.id, "[autodiff] backward node " + n.label() +
                                              " refers to parent " + std::to_string(p));
    parent_shapes.push_back(g_.node(p).shape);
  }
  // A rule that builds an ill-shaped node is a bug in the rule, not in the user's graph.
  try {
    n.shape = ir::infer_shape(n, parent_shapes);
  } catch (const UserError& err) {
    throw InternalError(std::string("[autodiff] VJP emitted an invalid node: ") + err.what());
  }
  g_.nodes.push_back(std::move(n));
  return g_.nodes.back().id;
}

int64_t Emitter::scalar(double v) {
  const uint64_t key = std::bit_cast<uint64_t>(v);
  auto it = scalars_.find(key);
  if (it != scalars_.end()) return it->second;
  const int64_t id = constant(Shape{}, {v});
  scalars_.emplace(key, id);
  return id;
}

int64_t Emitter::constant(const Shape& shape, std::vector<double> values) {
  const int64_t id = add(OpKind::constant, {}, ir::ConstAttrs{shape});
  payload_[id].insert_or_assign("value", Tensor<double>(shape, std::move(values)));
  return id;
}

int64_t Emitter::full(const Shape& shape, double v) {
  if (shape.rank() == 0) return scalar(v);
  auto key = std::make_pair(std::bit_cast<uint64_t>(v), shape.dims());
  auto it = fills_.find(key);
  if (it != fills_.end()) return it->second;
  const int64_t id = broadcast(scalar(v), shape);
  fills_.emplace(std::move(key), id);
  return id;
}

int64_t Emitter::reshape(int64_t a, const Shape& to) {
  if (shape(a) == to) return a;
  return add(OpKind::reshape, {a}, ir::ReshapeAttrs{shape(a), to});
}

int64_t Emitter::broadcast(int64_t a, const Shape& to) {
  if (shape(a) == to) return a;
  return add(OpKind::broadcast, {a}, ir::BroadcastAttrs{to});
}

int64_t Emitter::sum_axes_to(int64_t a, std::vector<int64_t> axes, const Shape& to) {
  std::sort(axes.begin(), axes.end(), std::greater<>());
  for (int64_t axis : axes) a = add(OpKind::reduce_sum, {a}, ir::AxisAttrs{axis});
  return reshape(a, to);
}

int64_t Emitter::compare(int64_t a, int64_t b, const std::string& cmp) {
  return add(OpKind::compare, {a, b}, ir::CompareAttrs{cmp});
}

int64_t Emitter::compare_const(int64_t a, double c, const std::string& cmp) {
  return compare(a, full(shape(a), c), cmp);
}

int64_t Emitter::keep_where(int64_t cond, int64_t a) {
  return add(OpKind::where, {cond, a, zeros(shape(a))});
}

int64_t Emitter::keep_where_not(int64_t cond, int64_t a) {
  return add(OpKind::where, {cond, zeros(shape(a)), a});
}

int64_t Emitter::spread(int64_t v, const Shape& full, int64_t axis) {
  std::vector<int64_t> kept = full.dims();
  kept[static_cast<size_t>(axis)] = 1;
  return broadcast(reshape(v, Shape(std::move(kept))), full);
}

int64_t Emitter::transpose_last_two(int64_t a) {
  const int64_t r = shape(a).rank();
  std::vector<int64_t> perm(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) perm[static_cast<size_t>(i)] = i;
  std::swap(perm[static_cast<size_t>(r - 1)], perm[static_cast<size_t>(r - 2)]);
  return add(OpKind::permute, {a}, ir::PermuteAttrs{std::move(perm)});
}

void VjpContext::not_differentiable(size_t i, const std::string& why) const {
  if (needed[i])
    throw UserError("[autodiff] " + node.label() + ": operand " + std::to_string(i) + " " + why);
}

}  // namespace torchlean::autodiff::detail
