// The ONNX import driver: opset selection, initializers and graph inputs, the per-node dispatch
// through the handler table (one handler per op type and opset range), graph outputs; plus the
// graph-building helpers the handlers share.
#include <algorithm>
#include <numeric>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/io/onnx_import_detail.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::io {

namespace onnx_detail {

std::string dims_str(const std::vector<int64_t>& v) {
  std::string out = "(";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + ")";
}

std::optional<Shape> broadcast_shape(const Shape& a, const Shape& b) {
  const int64_t r = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(static_cast<size_t>(r));
  for (int64_t k = 0; k < r; ++k) {
    const int64_t da = k < r - a.rank() ? 1 : a[k - (r - a.rank())];
    const int64_t db = k < r - b.rank() ? 1 : b[k - (r - b.rank())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[static_cast<size_t>(k)] = da == 1 ? db : da;
  }
  return Shape(std::move(out));
}

int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank)
    throw UserError(what + " " + std::to_string(axis) + " is out of range for rank " +
                    std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

StaticTensor static_ints(Shape shape, std::vector<int64_t> v) {
  StaticTensor t;
  t.shape = std::move(shape);
  t.elem = Elem::integer;
  t.ints = std::move(v);
  return t;
}

void require_foldable(const Shape& shape) {
  if (shape.numel() > kOnnxMaxFoldElements)
    throw UserError("constant result " + shape.str() + " exceeds the limit of " +
                    std::to_string(kOnnxMaxFoldElements) + " elements computed at import");
}

Value static_value(StaticTensor t) {
  Value v;
  v.shape = t.shape;
  v.elem = t.elem;
  v.stat = std::move(t);
  return v;
}

Value dynamic_value(const Importer& im, int64_t id, Elem elem) {
  Value v;
  v.shape = im.shape(id);
  v.elem = elem;
  v.node = id;
  return v;
}

// ---- Importer ----

int64_t Importer::add(ir::OpKind kind, std::vector<int64_t> parents, ir::Attrs attrs,
                      std::optional<Shape> declared) {
  const int64_t id = b.add(kind, std::move(parents), std::move(attrs), std::move(declared));
  if (b.shape(id).numel() > kOnnxMaxElements)
    throw UserError("result shape " + b.shape(id).str() + " exceeds the limit of " +
                    std::to_string(kOnnxMaxElements) + " elements");
  return id;
}

int64_t Importer::constant(Tensor<double> t) { return b.constant(std::move(t)); }

int64_t Importer::node_of(Value& v, const std::string& what) {
  if (v.node) return *v.node;
  if (!v.stat) throw InternalError("onnx import: value without node or static data");
  if (v.elem == Elem::integer)
    throw UserError(what + " is an integer tensor " + v.shape.str() +
                    "; integer tensors are supported only as shapes, axes and indices");
  v.node = constant(v.stat->as_tensor(what));
  return *v.node;
}

int64_t Importer::reshape(int64_t id, const Shape& to) {
  if (shape(id) == to) return id;
  // ONNX Reshape-13 (our export opset) can state at most one zero dim (as -1).
  if (std::count(to.dims().begin(), to.dims().end(), int64_t{0}) > 1)
    throw UserError("reshape to " + to.str() + ": several zero-size dims are not supported");
  return add(ir::OpKind::reshape, {id}, ir::ReshapeAttrs{shape(id), to});
}

int64_t Importer::broadcast(int64_t id, const Shape& to) {
  if (shape(id) == to) return id;
  return add(ir::OpKind::broadcast, {id}, ir::BroadcastAttrs{to});
}

int64_t Importer::permute(int64_t id, const std::vector<int64_t>& perm) {
  std::vector<int64_t> identity(perm.size());
  std::iota(identity.begin(), identity.end(), 0);
  if (perm == identity) return id;
  return add(ir::OpKind::permute, {id}, ir::PermuteAttrs{perm});
}

int64_t Importer::reduce(ir::OpKind kind, int64_t id, std::vector<int64_t> axes, bool keepdims) {
  const Shape in = shape(id);
  if (axes.empty()) return id;
  int64_t out;
  if (axes.size() == 1) {
    out = add(kind, {id}, ir::AxisAttrs{axes[0]});
  } else {
    std::vector<int64_t> perm, kept;
    int64_t merged = 1;
    for (int64_t k = 0; k < in.rank(); ++k)
      if (!std::binary_search(axes.begin(), axes.end(), k)) {
        perm.push_back(k);
        kept.push_back(in[k]);
      }
    for (int64_t a : axes) {
      perm.push_back(a);
      merged *= in[a];
    }
    std::vector<int64_t> flat = kept;
    flat.push_back(merged);
    const int64_t x = reshape(permute(id, perm), Shape(flat));
    out = add(kind, {x}, ir::AxisAttrs{static_cast<int64_t>(kept.size())});
  }
  if (!keepdims) return out;
  std::vector<int64_t> dims = in.dims();
  for (int64_t a : axes) dims[static_cast<size_t>(a)] = 1;
  return reshape(out, Shape(std::move(dims)));
}

// ---- NodeContext ----

int64_t NodeContext::opset() const { return im.opset; }

const Value& NodeContext::input(int i) const {
  if (!has_input(i)) fail("missing input " + std::to_string(i));
  auto it = im.values.find(node.input(i));
  if (it == im.values.end())
    fail("input " + std::to_string(i) + " '" + node.input(i) +
         "' is not produced by an earlier node, an initializer or a graph input");
  return it->second;
}

int64_t NodeContext::input_node(int i, bool any_elem) {
  const Value& v = input(i);  // reports a missing input
  const std::string what = "input " + std::to_string(i) + " '" + node.input(i) + "'";
  if (!any_elem && !v.stat && (v.elem == Elem::integer || v.elem == Elem::truthy))
    fail(what + " is a run-time tensor cast to " +
         (v.elem == Elem::integer ? "an integer" : "BOOL") +
         " type; only Gather indices and Where conditions may use such a cast");
  return im.node_of(im.values.at(node.input(i)), what);
}

const StaticTensor& NodeContext::static_input(int i, const std::string& what) const {
  const Value& v = input(i);
  if (!v.stat)
    fail(what + " (input " + std::to_string(i) + " '" + node.input(i) +
         "') must be known at import time (an initializer, a Constant or static shape arithmetic)");
  return *v.stat;
}

std::vector<int64_t> NodeContext::static_ints(int i, const std::string& what) const {
  const StaticTensor& t = static_input(i, what);
  if (t.elem != Elem::integer) fail(what + " must be an integer tensor");
  if (t.shape.rank() > 1) fail(what + " must be a 1-D tensor, got shape " + t.shape.str());
  return t.ints;
}

void NodeContext::set_output(int i, Value v) {
  if (i >= node.output_size()) fail("the node declares no output " + std::to_string(i));
  const std::string& name = node.output(i);
  if (name.empty()) return;
  if (!im.values.emplace(name, std::move(v)).second) fail("output '" + name + "' is defined twice");
}

void NodeContext::set_output_node(int i, int64_t id) { set_output(i, dynamic_value(im, id)); }

void NodeContext::require_inputs(int lo, int hi) const {
  int n = node.input_size();
  while (n > 0 && node.input(n - 1).empty()) --n;
  if (n < lo || n > hi)
    fail("expected " +
         (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
         " inputs, got " + std::to_string(n));
}

void NodeContext::fail(const std::string& msg) const { throw UserError(msg); }

namespace {

const std::vector<HandlerEntry>& handler_table() {
  static const std::vector<HandlerEntry> table = [] {
    std::vector<HandlerEntry> t;
    add_math_handlers(t);
    add_layout_handlers(t);
    add_conv_handlers(t);
    return t;
  }();
  return table;
}

// The handler for op_type at `opset`: the entry with the largest since_version <= opset.
const HandlerEntry* find_handler(const std::string& op_type, int64_t opset, int64_t* first_since) {
  const HandlerEntry* best = nullptr;
  *first_since = 0;
  for (const HandlerEntry& e : handler_table()) {
    if (e.op_type != op_type) continue;
    if (*first_since == 0 || e.since_version < *first_since) *first_since = e.since_version;
    if (e.since_version <= opset && (best == nullptr || e.since_version > best->since_version))
      best = &e;
  }
  return best;
}

bool default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

Shape input_shape(const onnx::ValueInfoProto& vi, const OnnxImportOptions& options) {
  const std::string what = "graph input '" + vi.name() + "'";
  if (!vi.type().has_tensor_type()) throw UserError(what + " is not a tensor");
  const auto& tt = vi.type().tensor_type();
  const int32_t et = tt.elem_type();
  if (et != onnx::TensorProto::FLOAT && et != onnx::TensorProto::DOUBLE &&
      et != onnx::TensorProto::FLOAT16)
    throw UserError(what + " has element type " + dtype_name(et) +
                    "; only float inputs are supported");
  if (!tt.has_shape()) throw UserError(what + " has no shape; static shapes are required");
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (int k = 0; k < tt.shape().dim_size(); ++k) {
    const auto& d = tt.shape().dim(k);
    int64_t v;
    if (d.has_dim_value()) {
      v = d.dim_value();
      if (v < 0)
        throw UserError(what + " has negative dim " + std::to_string(v) + " at axis " +
                        std::to_string(k));
    } else {
      const std::string sym = d.has_dim_param() ? "'" + d.dim_param() + "'" : "(unnamed)";
      if (k != 0)
        throw UserError(what + " has symbolic dim " + sym + " at axis " + std::to_string(k) +
                        "; only a leading batch dim may be symbolic");
      if (!options.batch)
        throw UserError(what + " has symbolic batch dim " + sym +
                        " at axis 0; fix it with --batch N");
      v = *options.batch;
    }
    if (__builtin_mul_overflow(count, v, &count) || count > kOnnxMaxElements)
      throw UserError(what + " shape exceeds the limit of " + std::to_string(kOnnxMaxElements) +
                      " elements");
    dims.push_back(v);
  }
  return Shape(std::move(dims));
}

// Moves every `const` node to just before its first consumer (consts without consumers stay where
// they are). Handlers materialise constants lazily and in their own order; this canonical order
// depends only on the graph's structure, so import -> export -> import reproduces node ids.
void canonicalize_constants(ir::Graph& g, ir::Payload& p) {
  const size_t n = g.nodes.size();
  std::vector<bool> consumed(n, false), placed(n, false);
  for (const ir::Node& node : g.nodes)
    for (int64_t q : node.parents) consumed[static_cast<size_t>(q)] = true;
  std::vector<int64_t> order;
  auto place = [&](int64_t id) {
    if (!placed[static_cast<size_t>(id)]) {
      placed[static_cast<size_t>(id)] = true;
      order.push_back(id);
    }
  };
  for (const ir::Node& node : g.nodes) {
    if (node.kind == ir::OpKind::constant && consumed[static_cast<size_t>(node.id)]) continue;
    for (int64_t q : node.parents)
      if (g.nodes[static_cast<size_t>(q)].kind == ir::OpKind::constant) place(q);
    place(node.id);
  }
  std::vector<int64_t> new_id(n);
  for (size_t k = 0; k < n; ++k) new_id[static_cast<size_t>(order[k])] = static_cast<int64_t>(k);
  ir::Graph out;
  for (int64_t old : order) {
    ir::Node node = g.nodes[static_cast<size_t>(old)];
    node.id = new_id[static_cast<size_t>(old)];
    for (int64_t& q : node.parents) q = new_id[static_cast<size_t>(q)];
    out.nodes.push_back(std::move(node));
  }
  for (int64_t id : g.input_ids) out.input_ids.push_back(new_id[static_cast<size_t>(id)]);
  for (int64_t id : g.output_ids) out.output_ids.push_back(new_id[static_cast<size_t>(id)]);
  ir::Payload q;
  for (auto& [id, slots] : p) q[new_id[static_cast<size_t>(id)]] = std::move(slots);
  g = std::move(out);
  p = std::move(q);
}

std::string node_desc(const onnx::NodeProto& n, int index) {
  const std::string name = n.name().empty() ? "#" + std::to_string(index) : "'" + n.name() + "'";
  return "node " + name + " (" + n.op_type() + ")";
}

}  // namespace
}  // namespace onnx_detail

using namespace onnx_detail;

OnnxModel import_onnx(std::span<const uint8_t> bytes, const OnnxImportOptions& options,
                      std::string_view source) {
  const std::string src(source);
  if (options.batch && (*options.batch <= 0 || *options.batch > kOnnxMaxElements))
    throw UserError(src + ": batch must be in [1, " + std::to_string(kOnnxMaxElements) + "], got " +
                    std::to_string(*options.batch));
  const onnx::ModelProto model = parse_model(bytes, source);
  std::optional<int64_t> opset;
  for (const auto& os : model.opset_import())
    if (default_domain(os.domain())) opset = os.version();
  if (!opset) throw UserError(src + ": the model imports no default-domain (ai.onnx) opset");
  if (*opset < kOnnxMinOpset || *opset > kOnnxMaxOpset)
    throw UserError(src + ": opset " + std::to_string(*opset) + " is not supported (supported: " +
                    std::to_string(kOnnxMinOpset) + " to " + std::to_string(kOnnxMaxOpset) + ")");

  const onnx::GraphProto& g = model.graph();
  Importer im(src, *opset);
  OnnxModel out;
  out.opset = *opset;
  for (const onnx::TensorProto& t : g.initializer()) {
    StaticTensor st = decode_tensor(t, src + ": initializer '" + t.name() + "'");
    if (!im.values.emplace(t.name(), static_value(std::move(st))).second)
      throw UserError(src + ": initializer '" + t.name() + "' is defined twice");
  }
  for (const onnx::ValueInfoProto& vi : g.input()) {
    if (im.values.contains(vi.name())) {
      // IR < 4 lists initializers among the inputs; anything else is a duplicate.
      if (im.values.at(vi.name()).stat) continue;
      throw UserError(src + ": graph input '" + vi.name() + "' is listed twice");
    }
    Shape s;
    try {
      s = input_shape(vi, options);
    } catch (const UserError& e) {
      throw UserError(src + ": " + e.what());
    }
    const int64_t id = im.b.input(std::move(s));
    im.values.emplace(vi.name(), dynamic_value(im, id));
    out.input_names.push_back(vi.name());
  }
  if (out.input_names.empty()) throw UserError(src + ": the graph has no (non-initializer) inputs");

  // Outputs a handler left unbound (e.g. Dropout's mask): an error only if something uses them.
  std::map<std::string, std::string> unbound;
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    try {
      if (!default_domain(n.domain()))
        throw UserError("unsupported op domain '" + n.domain() + "'");
      for (const std::string& in : n.input())
        if (auto it = unbound.find(in); it != unbound.end())
          throw UserError("uses '" + in + "', " + it->second + ", which is not supported");
      int64_t first_since = 0;
      const HandlerEntry* h = find_handler(n.op_type(), *opset, &first_since);
      if (h == nullptr) {
        if (first_since > 0)
          throw UserError("supported from opset " + std::to_string(first_since) +
                          ", the model uses opset " + std::to_string(*opset));
        throw UserError("unsupported op type '" + n.op_type() + "'");
      }
      NodeContext ctx(im, n);
      h->fn(ctx);
      const std::vector<std::string> extra = ctx.attrs.unread();
      if (!extra.empty()) throw UserError("unsupported attribute '" + extra.front() + "'");
      for (int k = 0; k < n.output_size(); ++k)
        if (!n.output(k).empty() && !im.values.contains(n.output(k)))
          unbound.emplace(n.output(k), "output " + std::to_string(k) + " of " + node_desc(n, i));
    } catch (const UserError& e) {
      throw UserError(src + ": " + node_desc(n, i) + ": " + e.what());
    }
  }
  for (const onnx::ValueInfoProto& vi : g.output()) {
    auto it = im.values.find(vi.name());
    if (it == im.values.end()) {
      auto u = unbound.find(vi.name());
      throw UserError(src + ": graph output '" + vi.name() + "' " +
                      (u != unbound.end() ? "is " + u->second + ", which is not supported"
                                          : "is not produced by any node"));
    }
    try {
      im.b.mark_output(im.node_of(it->second, "graph output '" + vi.name() + "'"));
    } catch (const UserError& e) {
      throw UserError(src + ": " + e.what());
    }
    out.output_names.push_back(vi.name());
  }
  if (out.output_names.empty()) throw UserError(src + ": the graph has no outputs");
  try {
    std::tie(out.graph, out.payload) = std::move(im.b).finish();
    canonicalize_constants(out.graph, out.payload);
    ir::check_payload(out.graph, out.payload);
  } catch (const UserError& e) {
    throw UserError(src + ": " + e.what());
  }
  return out;
}

OnnxModel import_onnx_file(const std::filesystem::path& path, const OnnxImportOptions& options) {
  const std::string name = path.filename().string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kOnnxMaxBytes)
    throw UserError(name + ": " + std::to_string(size) + " bytes exceed the limit of " +
                    std::to_string(kOnnxMaxBytes));
  std::vector<uint8_t> bytes = read_file_bytes(path, "onnx");
  if (path.extension() == ".gz") bytes = gunzip(bytes, kOnnxMaxBytes, name);
  return import_onnx(bytes, options, name);
}

}  // namespace torchlean::io
