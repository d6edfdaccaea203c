// Internals of the ONNX importer shared by the reader (onnx_proto.cpp), the driver
// (onnx_import.cpp) and the op handlers (onnx_ops_*.cpp). Not installed API.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "onnx/onnx_pb.h"
#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/builder.hpp"

namespace torchlean::io::onnx_detail {

// Element kinds the importer tracks. Every float type is `real` (IR tensors are real); booleans
// are 0/1 reals at run time. Integer tensors are static (shapes, indices, axes) or, at run time,
// a real cast to an integer type that only Gather may index with; `truthy` is a real cast to BOOL
// (true where != 0) that only Where may use as its condition.
enum class Elem { real, integer, boolean, truthy };

// A tensor whose values are known at import time (initializer, Constant, folded shape arithmetic).
struct StaticTensor {
  Shape shape;
  Elem elem = Elem::real;
  std::vector<double> real;   // elem == real
  std::vector<int64_t> ints;  // elem == integer or boolean

  int64_t numel() const { return shape.numel(); }
  // Values as doubles (integers converted exactly or an error naming `what`).
  std::vector<double> as_reals(const std::string& what) const;
  Tensor<double> as_tensor(const std::string& what) const {
    return Tensor<double>(shape, as_reals(what));
  }
};

// Decodes an ONNX TensorProto (FLOAT, DOUBLE, FLOAT16, INT32, INT64, INT8, UINT8, BOOL; raw or
// typed storage). `what` names it in errors. Enforces kOnnxMaxElements and storage sizes.
StaticTensor decode_tensor(const onnx::TensorProto& t, const std::string& what);
// The ONNX data type's name ("FLOAT", "STRING", ...) for messages.
std::string dtype_name(int32_t data_type);
// Parses a ModelProto with a bounded recursion depth; UserError "<source>: ..." when malformed.
onnx::ModelProto parse_model(std::span<const uint8_t> bytes, std::string_view source);

// A value flowing between ONNX nodes: static (values known), dynamic (an IR node), or both (a
// static materialised as a `const` node on first dynamic use).
struct Value {
  Shape shape;
  Elem elem = Elem::real;
  std::optional<int64_t> node;
  std::optional<StaticTensor> stat;
};

class Importer;

// The attributes of one node; handlers read what they support and the driver rejects the rest.
class Attributes {
 public:
  explicit Attributes(const onnx::NodeProto& node);
  bool has(const std::string& name) const { return by_name_.contains(name); }
  int64_t get_int(const std::string& name, int64_t dflt);
  float get_float(const std::string& name, float dflt);
  std::string get_string(const std::string& name, const std::string& dflt);
  std::optional<std::vector<int64_t>> get_ints(const std::string& name);
  std::optional<std::vector<float>> get_floats(const std::string& name);
  const onnx::TensorProto* get_tensor(const std::string& name);
  // Names present but never read by the handler.
  std::vector<std::string> unread() const;

 private:
  const onnx::AttributeProto& expect(const std::string& name,
                                     onnx::AttributeProto::AttributeType type);
  std::map<std::string, const onnx::AttributeProto*> by_name_;
  std::set<std::string> read_;
};

// What a handler sees: the node, its attributes and inputs, and the importer to build with.
class NodeContext {
 public:
  NodeContext(Importer& im, const onnx::NodeProto& node) : im(im), node(node), attrs(node) {}
  Importer& im;
  const onnx::NodeProto& node;
  Attributes attrs;

  int64_t opset() const;
  int num_inputs() const { return node.input_size(); }
  // An optional input is absent when missing or named "".
  bool has_input(int i) const { return i < node.input_size() && !node.input(i).empty(); }
  const Value& input(int i) const;
  // The input as an IR node (materialising a static real; integer statics are an error, and so
  // are run-time integer or truthy values unless `any_elem`).
  int64_t input_node(int i, bool any_elem = false);
  // The input's static value; an error naming `what` when it is computed at run time.
  const StaticTensor& static_input(int i, const std::string& what) const;
  std::vector<int64_t> static_ints(int i, const std::string& what) const;
  // Binds output i. Outputs past the first must be unused or absent unless the handler binds them.
  void set_output(int i, Value v);
  void set_output_node(int i, int64_t id);
  // Requires `lo <= inputs <= hi` (counting trailing absent inputs as missing).
  void require_inputs(int lo, int hi) const;
  [[noreturn]] void fail(const std::string& msg) const;
};

using Handler = void (*)(NodeContext&);
struct HandlerEntry {
  std::string_view op_type;
  int64_t since_version;  // the handler applies from this opset until the next entry's
  Handler fn;
};
// Each family file appends its handlers.
void add_math_handlers(std::vector<HandlerEntry>& table);
void add_layout_handlers(std::vector<HandlerEntry>& table);
void add_conv_handlers(std::vector<HandlerEntry>& table);

// Builds the IR graph: graph values by ONNX name, and the graph-building helpers handlers share.
class Importer {
 public:
  Importer(std::string source, int64_t opset) : source(std::move(source)), opset(opset) {}

  std::string source;
  int64_t opset;
  ir::GraphBuilder b;
  std::map<std::string, Value> values;

  // Appends an IR node (shape inferred) and enforces kOnnxMaxElements on its shape.
  int64_t add(ir::OpKind kind, std::vector<int64_t> parents, ir::Attrs attrs = ir::NoAttrs{},
              std::optional<Shape> declared = std::nullopt);
  int64_t constant(Tensor<double> t);
  // The value as an IR node: dynamic values as they are, real/boolean statics as a `const` node
  // created once. Integer statics are an error naming `what`.
  int64_t node_of(Value& v, const std::string& what);
  const Shape& shape(int64_t id) const { return b.shape(id); }
  // Layout helpers that add nothing when the shape already matches.
  int64_t reshape(int64_t id, const Shape& to);
  int64_t broadcast(int64_t id, const Shape& to);
  int64_t permute(int64_t id, const std::vector<int64_t>& perm);
  // Reduces `axes` (sorted, distinct, in range) with reduce_sum / reduce_mean, keeping them as
  // size-1 dims when keepdims. Several axes are moved last and merged, then reduced once.
  int64_t reduce(ir::OpKind kind, int64_t id, std::vector<int64_t> axes, bool keepdims);
};

// NumPy/ONNX broadcast shape of a and b; nullopt when incompatible.
std::optional<Shape> broadcast_shape(const Shape& a, const Shape& b);
// Axis in [-rank, rank) normalised to [0, rank), or an error naming `what`.
int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& what);
std::string dims_str(const std::vector<int64_t>& v);
// Static tensor helpers for folding shape arithmetic.
StaticTensor static_ints(Shape shape, std::vector<int64_t> v);
// Throws unless a tensor of `shape` may be computed at import (kOnnxMaxFoldElements).
void require_foldable(const Shape& shape);
Value static_value(StaticTensor t);
Value dynamic_value(const Importer& im, int64_t id, Elem elem = Elem::real);

}  // namespace torchlean::io::onnx_detail
