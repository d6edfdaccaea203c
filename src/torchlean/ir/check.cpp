// The structural checker (level 1) and the declared-vs-inferred shape checker (level 2).
#include <set>
#include <string>
#include <utility>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::ir {

namespace detail {
std::string attrs_type_name(size_t index) {
  // Each op names its attribute struct in the registry; the struct's name is found through any op
  // that uses it, so the list of names is never written twice.
  static constexpr std::pair<size_t, std::string_view> kNames[] = {
#define TL_X(name, json, A, arity) {detail::attrs_index<A>(), #A},
      TORCHLEAN_OPS(TL_X)
#undef TL_X
  };
  for (const auto& [i, type_name] : kNames)
    if (i == index) return std::string(type_name);
  return "Attrs alternative #" + std::to_string(index);
}
}  // namespace detail

namespace {

[[noreturn]] void fail(const Node& n, const std::string& msg) {
  throw UserError(detail::node_prefix(n) + msg);
}

std::string ids_str(const std::vector<int64_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

std::string shapes_str(const std::vector<Shape>& shapes) {
  std::string out;
  for (size_t k = 0; k < shapes.size(); ++k) out += (k ? ", " : "") + shapes[k].str();
  return out;
}

void check_node(const Node& n, int64_t index) {
  if (n.id != index)
    throw UserError("[" + std::string(op_name(n.kind)) + "] node at position " +
                    std::to_string(index) + " has id " + std::to_string(n.id) +
                    " (ids must equal positions)");
  for (int64_t p : n.parents) {
    if (p < 0 || p >= index)
      fail(n, "parent " + std::to_string(p) + " is not an earlier node (parents must have ids in [0," +
                  std::to_string(index) + "); a self or forward reference would make a cycle)");
  }
  int arity = op_info(n.kind).arity;
  size_t got = n.parents.size();
  if (arity >= 0 && got != static_cast<size_t>(arity))
    fail(n, "expected " + std::to_string(arity) + " parent" + (arity == 1 ? "" : "s") + ", got " +
                std::to_string(got));
  if (arity < 0 && got == 0) fail(n, "expected at least 1 parent, got 0");
  size_t want = op_info(n.kind).attrs_index;
  if (n.attrs.index() != want)
    fail(n, "attributes are " + detail::attrs_type_name(n.attrs.index()) + ", expected " +
                detail::attrs_type_name(want));
}

void check_io_ids(const Graph& g) {
  const int64_t count = static_cast<int64_t>(g.nodes.size());
  if (g.input_ids.empty()) throw UserError("[graph] input_ids is empty");
  if (g.output_ids.empty()) throw UserError("[graph] output_ids is empty");
  std::set<int64_t> inputs;
  for (int64_t id : g.input_ids) {
    if (id < 0 || id >= count)
      throw UserError("[graph] input id " + std::to_string(id) + " out of range (graph has " +
                      std::to_string(count) + " nodes); input_ids " + ids_str(g.input_ids));
    const Node& n = g.nodes[static_cast<size_t>(id)];
    if (n.kind != OpKind::input)
      throw UserError("[graph] input id " + std::to_string(id) + " names node " +
                      std::to_string(id) + " (" + std::string(op_name(n.kind)) +
                      "), not an input node");
    if (!inputs.insert(id).second)
      throw UserError("[graph] input id " + std::to_string(id) + " is listed twice in input_ids " +
                      ids_str(g.input_ids));
  }
  // An input node nobody binds would have no value when evaluated.
  for (const Node& n : g.nodes)
    if (n.kind == OpKind::input && !inputs.contains(n.id))
      fail(n, "input node is not listed in input_ids " + ids_str(g.input_ids));
  for (int64_t id : g.output_ids)
    if (id < 0 || id >= count)
      throw UserError("[graph] output id " + std::to_string(id) + " out of range (graph has " +
                      std::to_string(count) + " nodes); output_ids " + ids_str(g.output_ids));
}

}  // namespace

void check_structure(const Graph& g) {
  for (size_t i = 0; i < g.nodes.size(); ++i) check_node(g.nodes[i], static_cast<int64_t>(i));
  check_io_ids(g);
}

std::vector<Shape> check_graph(const Graph& g) {
  check_structure(g);
  std::vector<Shape> shapes;
  shapes.reserve(g.nodes.size());
  std::vector<Shape> parent_shapes;
  for (const Node& n : g.nodes) {
    parent_shapes.clear();
    for (int64_t p : n.parents) parent_shapes.push_back(shapes[static_cast<size_t>(p)]);
    Shape inferred = infer_shape(n, parent_shapes);
    if (inferred != n.shape)
      fail(n, "declared shape " + n.shape.str() + " but inferred " + inferred.str() +
                  " from parent shapes [" + shapes_str(parent_shapes) + "]");
    shapes.push_back(std::move(inferred));
  }
  return shapes;
}

bool is_v1_graph(const Graph& g) {
  if (g.input_ids.size() != 1 || g.output_ids.size() != 1) return false;
  for (const Node& n : g.nodes) {
    if (!is_v1_op(n.kind)) return false;
    if (n.kind == OpKind::matmul && n.parents.size() == 2) {
      // A graph that does not even have the parents is not judged v1 (the checker rejects it).
      const int64_t count = static_cast<int64_t>(g.nodes.size());
      for (int64_t p : n.parents)
        if (p < 0 || p >= count) return false;
      const int64_t ra = g.node(n.parents[0]).shape.rank(), rb = g.node(n.parents[1]).shape.rank();
      if (ra != rb || (ra != 2 && ra != 3)) return false;
    }
  }
  return true;
}

}  // namespace torchlean::ir
