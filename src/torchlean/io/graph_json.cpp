#include "torchlean/io/graph_json.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <variant>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/json_util.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::io {
namespace {

using detail::as_array;
using detail::as_bool;
using detail::as_natural;
using detail::as_natural_list;
using detail::as_object;
using detail::as_shape;
using detail::fail;
using detail::field;
using detail::field_opt;
using detail::Json;

constexpr std::string_view kTupleGetItem = "tuple_getitem";
constexpr std::string_view kMhaTuple = "multihead_attention";

std::string quoted(const std::string& s) { return detail::describe(Json(s)); }
std::string node_where(int64_t id) { return "node[" + std::to_string(id) + "]"; }

// One node of the file before tuple lowering (TorchLean's CapturedValueNode).
struct RawNode {
  int64_t id = 0;
  std::vector<int64_t> parents;
  std::string kind;
  bool is_tuple = false;
  Shape shape;                      // tensor-valued nodes
  std::vector<Shape> tuple_shapes;  // tuple-valued nodes
  const Json* obj = nullptr;
  std::string where;  // "node[3]"
};

class Reader {
 public:
  explicit Reader(std::string prefix) : p_(std::move(prefix)) {}

  GraphJson read(std::string_view text) {
    const Json root = detail::parse_json(text, p_);
    as_object(root, p_, "root");
    bool& ext = ext_;
    if (const Json* f = field_opt(root, "format")) {
      const std::string& s = detail::as_string(*f, p_, "root.format");
      if (s == kGraphJsonExtFormat) ext = true;
      else if (s != kGraphJsonFormat)
        fail(p_, "root.format", "unsupported format " + quoted(s) + " (expected \"torchlean.ir.v1\")");
    }
    std::vector<int64_t> inputs, outputs;
    if (ext) {
      inputs = as_natural_list(field(root, "input_ids", p_, "root"), p_, "root.input_ids");
      outputs = as_natural_list(field(root, "output_ids", p_, "root"), p_, "root.output_ids");
    } else {
      inputs = {as_natural(field(root, "input_id", p_, "root"), p_, "root.input_id")};
      if (const Json* o = field_opt(root, "output_id")) {
        outputs = {as_natural(*o, p_, "root.output_id")};
      } else if (const Json* os = field_opt(root, "output_ids")) {
        // Later TorchLean revisions spell the output as a list; accept it when it is the only one.
        outputs = as_natural_list(*os, p_, "root.output_ids");
      } else {
        fail(p_, "root", "missing field `output_id`");
      }
    }
    const Json& nodes = as_array(field(root, "nodes", p_, "root"), p_, "root.nodes");
    std::vector<RawNode> raws;
    raws.reserve(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) raws.push_back(parse_raw(nodes[i], static_cast<int64_t>(i)));
    lower(raws, inputs, outputs);
    return std::move(out_);
  }

 private:
  RawNode parse_raw(const Json& j, int64_t index) {
    const std::string at = "nodes[" + std::to_string(index) + "]";
    as_object(j, p_, at);
    RawNode raw;
    raw.obj = &j;
    raw.id = as_natural(field(j, "id", p_, at), p_, at + ".id");
    if (raw.id != index)
      fail(p_, at, "id " + std::to_string(raw.id) + " where " + std::to_string(index) +
                       " was expected (node ids must be 0, 1, 2, ... in file order; duplicate or "
                       "out-of-order id)");
    raw.where = node_where(raw.id);
    raw.parents = as_natural_list(field(j, "parents", p_, raw.where), p_, raw.where + ".parents");
    raw.kind = detail::as_string(field(j, "kind", p_, raw.where), p_, raw.where + ".kind");
    const Json* vk = field_opt(j, "value_kind");
    if (vk == nullptr || (vk->is_string() && *vk == "tensor")) {
      raw.shape = as_shape(field(j, "shape", p_, raw.where), p_, raw.where + ".shape");
    } else if (vk->is_string() && *vk == "tuple") {
      raw.is_tuple = true;
      const std::string tw = raw.where + ".tuple_shapes";
      const Json& ts = as_array(field(j, "tuple_shapes", p_, raw.where), p_, tw);
      for (size_t k = 0; k < ts.size(); ++k)
        raw.tuple_shapes.push_back(as_shape(ts[k], p_, tw + "[" + std::to_string(k) + "]"));
    } else if (vk->is_string()) {
      fail(p_, raw.where, "unsupported value_kind " + detail::describe(*vk) + " (expected \"tensor\" or \"tuple\")");
    } else {
      detail::type_error(p_, raw.where + ".value_kind", "a string", *vk);
    }
    return raw;
  }

  // v1 attributes are natural numbers (TorchLean's Nat); extension ops' integers are signed (slice
  // ends may be -1) and their shape rules say which values are valid.
  template <class T>
  void read_field(const RawNode& raw, const char* key, T& value, bool v1) {
    const Json& j = field(*raw.obj, key, p_, raw.where);
    const std::string at = raw.where + "." + key;
    if constexpr (std::is_same_v<T, int64_t>)
      value = v1 ? as_natural(j, p_, at) : as_integer(j, at);
    else if constexpr (std::is_same_v<T, Shape>) value = as_shape(j, p_, at);
    else if constexpr (std::is_same_v<T, double>)
      value = detail::as_finite_number(j, p_, at);
    else if constexpr (std::is_same_v<T, bool>)
      value = as_bool(j, p_, at);
    else if constexpr (std::is_same_v<T, std::string>)
      value = detail::as_string(j, p_, at);
    else if (v1)
      value = as_natural_list(j, p_, at);
    else
      value = as_integer_list(j, at);
  }

  int64_t as_integer(const Json& j, const std::string& at) {
    if (j.is_number_unsigned()) {
      if (j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(p_, at, "integer " + j.dump() + " is too large (limit 2^63-1)");
      return static_cast<int64_t>(j.get<uint64_t>());
    }
    if (j.is_number_integer()) return j.get<int64_t>();
    detail::type_error(p_, at, "an integer (without '.' or exponent)", j);
  }

  std::vector<int64_t> as_integer_list(const Json& j, const std::string& at) {
    as_array(j, p_, at);
    std::vector<int64_t> out;
    for (size_t i = 0; i < j.size(); ++i)
      out.push_back(as_integer(j[i], at + "[" + std::to_string(i) + "]"));
    return out;
  }

  int64_t push(ir::OpKind kind, std::vector<int64_t> parents, ir::Attrs attrs, Shape shape) {
    return out_.graph.add(kind, std::move(parents), std::move(attrs), std::move(shape));
  }

  // TorchLean's parseOpKind: the kind tag plus its flat attribute keys.
  int64_t add_tensor_node(const RawNode& raw, std::vector<int64_t> parents) {
    std::optional<ir::OpKind> kind = ir::op_kind_from_json(raw.kind);
    if (!kind) fail(p_, raw.where, "unsupported TorchLean IR op kind " + quoted(raw.kind));
    const bool v1 = ir::is_v1_op(*kind);
    if (!v1 && !ext_)
      fail(p_, raw.where,
           "op kind " + quoted(raw.kind) + " is an extension op, not part of " +
               std::string(kGraphJsonFormat) + " (it needs format \"" +
               std::string(kGraphJsonExtFormat) + "\")");
    if (*kind == ir::OpKind::matmul && !ext_) check_v1_matmul(raw, parents);
    ir::Attrs attrs = ir::default_attrs(*kind);
    std::visit(
        [&](auto& a) {
          a.for_each_field([&](const char* key, auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, Shape>) {
              // const's value_shape defaults to the node shape.
              if (*kind == ir::OpKind::constant && field_opt(*raw.obj, key) == nullptr) {
                value = raw.shape;
                return;
              }
            }
            read_field(raw, key, value, v1);
          });
        },
        attrs);
    int64_t id = push(*kind, std::move(parents), std::move(attrs), raw.shape);
    if (*kind == ir::OpKind::batch_norm2d_nchw_eval) {
      if (const Json* e = field_opt(*raw.obj, "eps")) {
        double eps = detail::as_finite_number(*e, p_, raw.where + ".eps");
        if (eps < 0) fail(p_, raw.where + ".eps", "eps " + e->dump() + " is negative");
        out_.inline_payload[id].insert_or_assign("eps", Tensor<double>(Shape{}, std::vector<double>{eps}));
      }
    }
    return id;
  }

  // TorchLean v1's matmul takes exactly (m,n) x (n,p) and (b,m,n) x (b,n,p); other forms are
  // extension forms.
  void check_v1_matmul(const RawNode& raw, const std::vector<int64_t>& parents) {
    if (parents.size() != 2) return;  // arity errors come from the checker
    int64_t ranks[2] = {-1, -1};
    for (size_t k = 0; k < 2; ++k)
      if (parents[k] >= 0 && parents[k] < static_cast<int64_t>(out_.graph.nodes.size()))
        ranks[k] = out_.graph.nodes[static_cast<size_t>(parents[k])].shape.rank();
    if (ranks[0] < 0 || ranks[1] < 0) return;  // forward parents: the checker names them
    if ((ranks[0] == 2 || ranks[0] == 3) && ranks[0] == ranks[1]) return;
    fail(p_, raw.where,
         "matmul of rank-" + std::to_string(ranks[0]) + " by rank-" + std::to_string(ranks[1]) +
             " operands is an extension form, not part of " + std::string(kGraphJsonFormat) +
             " (it needs format \"" + std::string(kGraphJsonExtFormat) + "\")");
  }

  // TorchLean's lowerValueGraph: tuple-valued nodes produce no IR node; `tuple_getitem` of a
  // supported producer expands into IR primitives. Without tuple nodes ids are kept verbatim, so
  // forward or missing parent ids reach ir::check_graph and get its message.
  void lower(const std::vector<RawNode>& raws, const std::vector<int64_t>& inputs,
             const std::vector<int64_t>& outputs) {
    bool has_tuples = false;
    for (const RawNode& r : raws) has_tuples = has_tuples || r.is_tuple;
    std::vector<std::optional<int64_t>> to_ir(raws.size());
    for (const RawNode& raw : raws) {
      if (raw.is_tuple) continue;
      if (raw.kind == kTupleGetItem) {
        to_ir[static_cast<size_t>(raw.id)] = lower_getitem(raw, raws, to_ir);
        continue;
      }
      std::vector<int64_t> parents = raw.parents;
      if (has_tuples) {
        for (int64_t& p : parents) {
          if (p >= raw.id)
            fail(p_, raw.where, "parent " + std::to_string(p) + " is not an earlier node");
          const std::optional<int64_t>& mapped = to_ir[static_cast<size_t>(p)];
          if (!mapped)
            fail(p_, raw.where, "parent " + node_where(p) + " (kind " + quoted(raws[p].kind) +
                                    ") is tuple-valued; only tuple_getitem can consume it");
          p = *mapped;
        }
      }
      to_ir[static_cast<size_t>(raw.id)] = add_tensor_node(raw, std::move(parents));
    }
    auto map_ids = [&](const std::vector<int64_t>& ids, const char* what) {
      if (!has_tuples) return ids;
      std::vector<int64_t> out;
      for (int64_t id : ids) {
        if (id >= static_cast<int64_t>(raws.size()))
          fail(p_, std::string("root.") + what, "node " + std::to_string(id) + " does not exist");
        const std::optional<int64_t>& mapped = to_ir[static_cast<size_t>(id)];
        if (!mapped)
          fail(p_, std::string("root.") + what, node_where(id) + " (kind " + quoted(raws[id].kind) +
                                                    ") is tuple-valued, not a tensor");
        out.push_back(*mapped);
      }
      return out;
    };
    out_.graph.input_ids = map_ids(inputs, "input_id");
    out_.graph.output_ids = map_ids(outputs, "output_id");
  }

  int64_t lower_getitem(const RawNode& raw, const std::vector<RawNode>& raws,
                        const std::vector<std::optional<int64_t>>& to_ir) {
    const std::string& at = raw.where;
    int64_t index = as_natural(field(*raw.obj, "index", p_, at), p_, at + ".index");
    if (raw.parents.size() != 1)
      fail(p_, at, "tuple_getitem expects one tuple parent, got " + std::to_string(raw.parents.size()));
    int64_t pid = raw.parents[0];
    if (pid >= raw.id) fail(p_, at, "tuple_getitem parent " + std::to_string(pid) + " is not an earlier node");
    const RawNode& parent = raws[static_cast<size_t>(pid)];
    if (!parent.is_tuple)
      fail(p_, at, "tuple_getitem of " + parent.where + " (kind " + quoted(parent.kind) +
                       "), which is tensor-valued; getitem on a tensor value is not lowered");
    if (index >= static_cast<int64_t>(parent.tuple_shapes.size()))
      fail(p_, at, "tuple index " + std::to_string(index) + " is out of bounds for the " +
                       std::to_string(parent.tuple_shapes.size()) + " components of " + parent.where);
    if (parent.tuple_shapes[static_cast<size_t>(index)] != raw.shape)
      fail(p_, at, "tuple component " + std::to_string(index) + " of " + parent.where + " has shape " +
                       parent.tuple_shapes[static_cast<size_t>(index)].str() +
                       ", but the projection declares " + raw.shape.str());
    if (parent.kind != kMhaTuple)
      fail(p_, at, "selected a tensor from tuple-producing " + parent.where + " (kind " +
                       quoted(parent.kind) + "), which has no tensor-lowering rule");
    return lower_mha(raw, parent, index, to_ir);
  }

  // Single-head, batch-first, eval-mode self-attention, decomposed exactly as TorchLean does:
  // q,k,v = linear(x); scores = q @ k^T; probs = softmax(scores * scale, axis 2); out = linear(probs @ v).
  // The projections' weights and the scale constant are payload of the new nodes.
  int64_t lower_mha(const RawNode& raw, const RawNode& mha, int64_t index,
                    const std::vector<std::optional<int64_t>>& to_ir) {
    const std::string& at = raw.where;
    const Json& o = *mha.obj;
    const std::string& mw = mha.where;
    if (index != 0)
      fail(p_, at, "`nn.MultiheadAttention` attention weights (component " + std::to_string(index) +
                       ") are not lowered to tensor IR");
    int64_t heads = as_natural(field(o, "num_heads", p_, mw), p_, mw + ".num_heads");
    int64_t embed = as_natural(field(o, "embed_dim", p_, mw), p_, mw + ".embed_dim");
    bool batch_first = as_bool(field(o, "batch_first", p_, mw), p_, mw + ".batch_first");
    bool dropout_zero = as_bool(field(o, "dropout_zero", p_, mw), p_, mw + ".dropout_zero");
    if (heads != 1)
      fail(p_, at, "`nn.MultiheadAttention` lowering supports only num_heads=1, got " + std::to_string(heads));
    if (!batch_first) fail(p_, at, "`nn.MultiheadAttention` lowering supports only batch_first=True");
    if (!dropout_zero)
      fail(p_, at, "`nn.MultiheadAttention` lowering requires dropout=0 (eval-mode, deterministic)");
    if (mha.parents.size() != 3)
      fail(p_, at, "expected query/key/value parents for `nn.MultiheadAttention` " + mw + ", got " +
                       std::to_string(mha.parents.size()));
    int64_t q = mha.parents[0];
    if (mha.parents[1] != q || mha.parents[2] != q)
      fail(p_, at, "`nn.MultiheadAttention` lowering supports self-attention only (query, key and "
                   "value must be the same node)");
    if (q >= mha.id) fail(p_, mw, "parent " + std::to_string(q) + " is not an earlier node");
    const std::optional<int64_t>& xid = to_ir[static_cast<size_t>(q)];
    if (!xid) fail(p_, at, "attention input " + node_where(q) + " is not tensor-valued");
    const Shape x_shape = out_.graph.nodes[static_cast<size_t>(*xid)].shape;
    if (x_shape.rank() != 3)
      fail(p_, at, "single-head attention lowering expects a batch-first rank-3 input (batch, seq, "
                   "embed), got " + x_shape.str());
    const int64_t b = x_shape[0], n = x_shape[1], d = x_shape[2];
    if (d != embed)
      fail(p_, at, "attention metadata embed_dim=" + std::to_string(embed) + " but the input's last dim is " +
                       std::to_string(d));
    if (raw.shape != x_shape)
      fail(p_, at, "attention output shape " + raw.shape.str() + " differs from its input shape " + x_shape.str());
    using ir::OpKind;
    const Shape scores_shape{b, n, n};
    int64_t qn = push(OpKind::linear, {*xid}, ir::NoAttrs{}, x_shape);
    int64_t kn = push(OpKind::linear, {*xid}, ir::NoAttrs{}, x_shape);
    int64_t vn = push(OpKind::linear, {*xid}, ir::NoAttrs{}, x_shape);
    int64_t kt = push(OpKind::transpose3d_last_two, {kn}, ir::NoAttrs{}, Shape{b, d, n});
    int64_t scores = push(OpKind::matmul, {qn, kt}, ir::NoAttrs{}, scores_shape);
    int64_t scale = push(OpKind::constant, {}, ir::ConstAttrs{scores_shape}, scores_shape);
    int64_t scaled = push(OpKind::mul_elem, {scores, scale}, ir::NoAttrs{}, scores_shape);
    int64_t probs = push(OpKind::softmax, {scaled}, ir::AxisAttrs{2}, scores_shape);
    int64_t ctx = push(OpKind::matmul, {probs, vn}, ir::NoAttrs{}, x_shape);
    return push(OpKind::linear, {ctx}, ir::NoAttrs{}, raw.shape);
  }

  std::string p_;
  bool ext_ = false;  // the file is torchlean_cpp.ir.v1x
  GraphJson out_;
};

std::string file_prefix(const std::filesystem::path& path) { return "graph_json: " + path.string(); }

// Writer side ------------------------------------------------------------------------------

Json natural(int64_t v, const std::string& where) {
  if (v < 0) throw UserError("graph_json: " + where + ": cannot write negative value " + std::to_string(v) +
                             " as a natural number");
  return Json(static_cast<uint64_t>(v));
}

Json naturals(const std::vector<int64_t>& vs, const std::string& where) {
  Json a = Json::array();
  for (int64_t v : vs) a.push_back(natural(v, where));
  return a;
}

// v1 attributes are written as natural numbers; extension ops' integers are signed.
Json field_json(int64_t v, const std::string& where, bool v1) {
  return v1 ? natural(v, where) : Json(v);
}
Json field_json(const Shape& s, const std::string& where, bool) {
  return naturals(s.dims(), where);
}
Json field_json(const std::vector<int64_t>& v, const std::string& where, bool v1) {
  return v1 ? naturals(v, where) : Json(v);
}
Json field_json(bool v, const std::string&, bool) { return Json(v); }
Json field_json(const std::string& v, const std::string&, bool) { return Json(v); }
Json field_json(double v, const std::string& where, bool) {
  if (!std::isfinite(v))
    throw UserError("graph_json: " + where + ": cannot write non-finite value " +
                    std::to_string(v));
  return Json(v);
}

Json node_json(const ir::Node& n, const ir::Payload& payload) {
  const std::string where = n.label();
  Json j = Json::object();
  j["id"] = natural(n.id, where + " id");
  j["kind"] = std::string(ir::op_name(n.kind));
  j["parents"] = naturals(n.parents, where + " parents");
  j["shape"] = naturals(n.shape.dims(), where + " shape");
  std::visit(
      [&](const auto& a) {
        a.for_each_field([&](const char* key, const auto& value) {
          j[key] = field_json(value, where + " " + key, ir::is_v1_op(n.kind));
        });
      },
      n.attrs);
  if (n.kind == ir::OpKind::batch_norm2d_nchw_eval) {
    auto slots = payload.find(n.id);
    if (slots != payload.end()) {
      auto eps = slots->second.find("eps");
      if (eps != slots->second.end()) {
        const Tensor<double>& t = eps->second;
        if (t.numel() != 1 || !std::isfinite(t[0]))
          throw UserError("graph_json: " + where + ": eps must be one finite number, got shape " +
                          t.shape().str());
        j["eps"] = t[0];
      }
    }
  }
  return j;
}

}  // namespace

GraphJson read_graph_json(std::string_view text) { return Reader("graph_json").read(text); }

GraphJson read_graph_json_file(const std::filesystem::path& path) {
  return Reader(file_prefix(path)).read(read_file_text(path, "graph_json"));
}

GraphJson load_graph_json(std::string_view text) {
  GraphJson g = read_graph_json(text);
  ir::check_graph(g.graph);
  return g;
}

GraphJson load_graph_json_file(const std::filesystem::path& path) {
  GraphJson g = read_graph_json_file(path);
  ir::check_graph(g.graph);
  return g;
}

std::string write_graph_json(const ir::Graph& g, const ir::Payload& payload) {
  Json root = Json::object();
  const bool v1 = ir::is_v1_graph(g);
  if (v1) {
    root["format"] = std::string(kGraphJsonFormat);
    root["input_id"] = natural(g.input_ids[0], "input_id");
    root["output_id"] = natural(g.output_ids[0], "output_id");
  } else {
    root["format"] = std::string(kGraphJsonExtFormat);
    root["input_ids"] = naturals(g.input_ids, "input_ids");
    root["output_ids"] = naturals(g.output_ids, "output_ids");
  }
  Json nodes = Json::array();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    // The reader requires ids 0, 1, 2, ...; refuse to write a file it would reject.
    if (g.nodes[i].id != static_cast<int64_t>(i))
      throw UserError("graph_json: node at position " + std::to_string(i) + " has id " +
                      std::to_string(g.nodes[i].id) + "; ids must equal positions");
    nodes.push_back(node_json(g.nodes[i], payload));
  }
  root["nodes"] = std::move(nodes);
  return detail::dump_json(root, "graph_json", 2) + "\n";
}

void write_graph_json_file(const std::filesystem::path& path, const ir::Graph& g, const ir::Payload& payload) {
  write_file_text(path, write_graph_json(g, payload), "graph_json");
}

}  // namespace torchlean::io
