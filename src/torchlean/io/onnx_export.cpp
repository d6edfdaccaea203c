// ONNX export: each IR node becomes the ONNX op(s) with the same meaning, in node order, at opset
// 13. The ops the importer produces map to the one ONNX form it reads back as that same IR node,
// so import -> export -> import is the identity on graphs and payload.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/io/onnx_import_detail.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::io {

namespace {

using ir::OpKind;

class Exporter {
 public:
  Exporter(const ir::Graph& g, const ir::Payload& p, onnx::GraphProto* out)
      : g_(g), p_(p), out_(out) {}

  void run() {
    names_.resize(g_.nodes.size());
    for (const ir::Node& n : g_.nodes)
      names_[static_cast<size_t>(n.id)] = "n" + std::to_string(n.id);
    for (const ir::Node& n : g_.nodes) {
      try {
        emit(n);
      } catch (const UserError& e) {
        throw UserError("onnx export: " + ir::detail::node_prefix(n) + e.what());
      }
    }
    std::set<int64_t> seen;
    for (int64_t id : g_.output_ids) {
      std::string name = names_[static_cast<size_t>(id)];
      if (!seen.insert(id).second) {  // ONNX output names are unique
        const std::string alias = fresh("out");
        node("Identity", {name}, alias);
        name = alias;
      }
      value_info(out_->add_output(), name, g_.node(id).shape);
    }
  }

 private:
  const ir::Graph& g_;
  const ir::Payload& p_;
  onnx::GraphProto* out_;
  std::vector<std::string> names_;
  int counter_ = 0;

  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(counter_++); }
  const std::string& name(int64_t id) const { return names_[static_cast<size_t>(id)]; }
  const Shape& shape(int64_t id) const { return g_.node(id).shape; }
  const Tensor<double>& slot(const ir::Node& n, const std::string& s) const {
    return p_.at(n.id).at(s);
  }

  static void value_info(onnx::ValueInfoProto* vi, const std::string& name, const Shape& s) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto* sh = tt->mutable_shape();
    for (int64_t d : s.dims()) sh->add_dim()->set_dim_value(d);
  }

  onnx::NodeProto* node(const std::string& op, std::vector<std::string> inputs,
                        const std::string& output) {
    onnx::NodeProto* n = out_->add_node();
    n->set_op_type(op);
    n->set_name(output);
    for (std::string& i : inputs) n->add_input(std::move(i));
    n->add_output(output);
    return n;
  }

  static void attr_int(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_ints(onnx::NodeProto* n, const std::string& name,
                        const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  // ONNX float attributes are binary32: a value that does not fit exactly is an error.
  static void attr_float(onnx::NodeProto* n, const std::string& name, double v) {
    if (!detail::exact_in_f32(v))
      throw UserError(name + " = " + std::to_string(v) +
                      " is not exact in binary32, the type of ONNX float attributes");
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(v));
  }

  std::string init_ints(const std::vector<int64_t>& v, bool scalar = false) {
    const std::string nm = fresh("i");
    onnx::TensorProto* t = out_->add_initializer();
    t->set_name(nm);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
    return nm;
  }

  // A real tensor: FLOAT when every value is exact in binary32, else DOUBLE followed by a Cast
  // to FLOAT (so the file type-checks while the stored values stay exact).
  std::string init_real(const Tensor<double>& v, const std::string& nm) {
    bool f32 = true;
    for (double x : v.vec()) f32 = f32 && detail::exact_in_f32(x);
    onnx::TensorProto* t = out_->add_initializer();
    t->set_name(f32 ? nm : nm + "_f64");
    for (int64_t d : v.shape().dims()) t->add_dims(d);
    std::string raw(static_cast<size_t>(v.numel()) * (f32 ? 4 : 8), '\0');
    auto* p = reinterpret_cast<uint8_t*>(raw.data());
    for (int64_t i = 0; i < v.numel(); ++i) {
      if (f32)
        detail::store_f32_le(p + 4 * i, static_cast<float>(v[i]));
      else
        detail::store_f64_le(p + 8 * i, v[i]);
    }
    t->set_data_type(f32 ? onnx::TensorProto::FLOAT : onnx::TensorProto::DOUBLE);
    t->set_raw_data(std::move(raw));
    if (!f32) attr_int(node("Cast", {nm + "_f64"}, nm), "to", onnx::TensorProto::FLOAT);
    return nm;
  }
  std::string scalar(double v) {
    return init_real(Tensor<double>(Shape{}, std::vector<double>{v}), fresh("c"));
  }

  // A Reshape-13 shape input for `s`. A 0 there means "copy the input dim", so one zero dim is
  // written as -1 (inferred as 0 from the other, non-zero dims); several cannot be expressed.
  std::string reshape_target(const Shape& s) {
    std::vector<int64_t> dims = s.dims();
    const auto zeros = std::count(dims.begin(), dims.end(), int64_t{0});
    if (zeros > 1)
      throw UserError("target shape " + s.str() +
                      " has several zero dims, which ONNX Reshape-13 cannot express");
    std::replace(dims.begin(), dims.end(), int64_t{0}, int64_t{-1});
    return init_ints(dims);
  }

  // Runs `make(in_name, out_name)` on x reshaped to `in_view`, then reshapes to the node's shape.
  template <class F>
  void viewed(const ir::Node& n, const Shape& in_view, F make) {
    const std::string x = fresh("view");
    node("Reshape", {name(n.parents[0]), reshape_target(in_view)}, x);
    const std::string y = fresh("core");
    make(x, y);
    node("Reshape", {y, reshape_target(n.shape)}, name(n.id));
  }

  void window(onnx::NodeProto* o, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t top,
              int64_t left, int64_t bottom, int64_t right, bool kernel_attr) {
    if (kernel_attr) attr_ints(o, "kernel_shape", {kh, kw});
    attr_ints(o, "strides", {sh, sw});
    attr_ints(o, "pads", {top, left, bottom, right});
  }

  void emit(const ir::Node& n) {
    const std::string& y = name(n.id);
    auto in = [&](size_t k) { return name(n.parents[k]); };
    auto unary = [&](const char* op) { node(op, {in(0)}, y); };
    auto binary = [&](const char* op) { node(op, {in(0), in(1)}, y); };
    switch (n.kind) {
      case OpKind::input:
        value_info(out_->add_input(), y, n.shape);
        return;
      case OpKind::constant:
        init_real(slot(n, "value"), y);
        return;
      case OpKind::detach:
        return unary("Identity");
      case OpKind::add:
        return binary("Add");
      case OpKind::sub:
        return binary("Sub");
      case OpKind::mul_elem:
        return binary("Mul");
      case OpKind::div:
        return binary("Div");
      case OpKind::max_elem:
        return binary("Max");
      case OpKind::min_elem:
        return binary("Min");
      case OpKind::matmul:
        return binary("MatMul");
      case OpKind::abs:
        return unary("Abs");
      case OpKind::sqrt:
        return unary("Sqrt");
      case OpKind::inv:
        return unary("Reciprocal");
      case OpKind::neg:
        return unary("Neg");
      case OpKind::relu:
        return unary("Relu");
      case OpKind::tanh:
        return unary("Tanh");
      case OpKind::sigmoid:
        return unary("Sigmoid");
      case OpKind::exp:
        return unary("Exp");
      case OpKind::log:
        return unary("Log");
      case OpKind::sin:
        return unary("Sin");
      case OpKind::cos:
        return unary("Cos");
      case OpKind::erf:
        return unary("Erf");
      case OpKind::softplus:
        return unary("Softplus");
      case OpKind::permute:
        attr_ints(node("Transpose", {in(0)}, y), "perm", std::get<ir::PermuteAttrs>(n.attrs).perm);
        return;
      case OpKind::swap_first_two:
      case OpKind::transpose3d_last_two: {
        std::vector<int64_t> perm(static_cast<size_t>(n.shape.rank()));
        std::iota(perm.begin(), perm.end(), 0);
        if (n.kind == OpKind::swap_first_two)
          std::swap(perm[0], perm[1]);
        else
          std::swap(perm[1], perm[2]);
        attr_ints(node("Transpose", {in(0)}, y), "perm", perm);
        return;
      }
      case OpKind::broadcast:
        node("Expand", {in(0), init_ints(n.shape.dims())}, y);
        return;
      case OpKind::broadcast_to:
        return broadcast_to(n);
      case OpKind::reshape:
      case OpKind::flatten:
        node("Reshape", {in(0), reshape_target(n.shape)}, y);
        return;
      case OpKind::reduce_sum:
        attr_int(node("ReduceSum", {in(0), init_ints({std::get<ir::AxisAttrs>(n.attrs).axis})}, y),
                 "keepdims", 0);
        return;
      case OpKind::reduce_mean: {
        onnx::NodeProto* o = node("ReduceMean", {in(0)}, y);
        attr_ints(o, "axes", {std::get<ir::AxisAttrs>(n.attrs).axis});
        attr_int(o, "keepdims", 0);
        return;
      }
      case OpKind::sum:
        attr_int(node("ReduceSum", {in(0)}, y), "keepdims", 0);
        return;
      case OpKind::softmax:
        attr_int(node("Softmax", {in(0)}, y), "axis", std::get<ir::AxisAttrs>(n.attrs).axis);
        return;
      case OpKind::log_softmax:
        attr_int(node("LogSoftmax", {in(0)}, y), "axis", std::get<ir::AxisAttrs>(n.attrs).axis);
        return;
      case OpKind::concat: {
        std::vector<std::string> ins;
        for (int64_t p : n.parents) ins.push_back(name(p));
        attr_int(node("Concat", ins, y), "axis", std::get<ir::AxisAttrs>(n.attrs).axis);
        return;
      }
      case OpKind::linear:
        return linear(n);
      case OpKind::conv2d:
        return conv2d_chw(n);
      case OpKind::conv2d_nchw: {
        const auto& a = std::get<ir::Conv2dNchwAttrs>(n.attrs);
        std::vector<std::string> ins = {in(0), in(1)};
        if (n.parents.size() == 3) ins.push_back(in(2));
        onnx::NodeProto* o = node("Conv", ins, y);
        window(o, 0, 0, a.stride_h, a.stride_w, a.pad_top, a.pad_left, a.pad_bottom, a.pad_right,
               false);
        attr_ints(o, "dilations", {a.dilation_h, a.dilation_w});
        attr_int(o, "group", a.groups);
        return;
      }
      case OpKind::max_pool2d_nchw:
      case OpKind::avg_pool2d_nchw: {
        const auto& a = std::get<ir::PoolNchwAttrs>(n.attrs);
        const bool mx = n.kind == OpKind::max_pool2d_nchw;
        onnx::NodeProto* o = node(mx ? "MaxPool" : "AveragePool", {in(0)}, y);
        window(o, a.kH, a.kW, a.stride_h, a.stride_w, a.pad_top, a.pad_left, a.pad_bottom,
               a.pad_right, true);
        attr_int(o, "ceil_mode", a.ceil_mode);
        if (!mx) attr_int(o, "count_include_pad", a.count_include_pad);
        return;
      }
      case OpKind::max_pool2d:
      case OpKind::avg_pool2d:
      case OpKind::max_pool2d_pad:
      case OpKind::avg_pool2d_pad:
        return pool_chw(n);
      case OpKind::batch_norm2d_nchw_eval: {
        std::vector<std::string> ins = {in(0)};
        for (const char* s : {"gamma", "beta", "mean", "var"})
          ins.push_back(init_real(slot(n, s), y + "_" + s));
        attr_float(node("BatchNormalization", ins, y), "epsilon", slot(n, "eps")[0]);
        return;
      }
      case OpKind::layernorm:
        return layernorm(n);
      case OpKind::mse_loss: {
        const std::string d = fresh("diff"), sq = fresh("sq");
        node("Sub", {in(0), in(1)}, d);
        node("Mul", {d, d}, sq);
        attr_int(node("ReduceMean", {sq}, y), "keepdims", 0);
        return;
      }
      case OpKind::pow_const:
        node("Pow", {in(0), scalar(std::get<ir::PowAttrs>(n.attrs).exponent)}, y);
        return;
      case OpKind::leaky_relu:
        attr_float(node("LeakyRelu", {in(0)}, y), "alpha",
                   std::get<ir::LeakyReluAttrs>(n.attrs).alpha);
        return;
      case OpKind::clamp: {
        const auto& a = std::get<ir::ClampAttrs>(n.attrs);
        node("Clip", {in(0), a.has_lo ? scalar(a.lo) : "", a.has_hi ? scalar(a.hi) : ""}, y);
        return;
      }
      case OpKind::gelu:
        return gelu(n);
      case OpKind::silu: {
        const std::string s = fresh("sig");
        node("Sigmoid", {in(0)}, s);
        node("Mul", {in(0), s}, y);
        return;
      }
      case OpKind::compare:
        return compare(n);
      case OpKind::where: {
        const std::string c = fresh("cond");
        attr_int(node("Cast", {in(0)}, c), "to", onnx::TensorProto::BOOL);
        node("Where", {c, in(1), in(2)}, y);
        return;
      }
      case OpKind::slice: {
        const auto& a = std::get<ir::SliceAttrs>(n.attrs);
        std::vector<int64_t> ends = a.ends, axes(a.starts.size());
        std::iota(axes.begin(), axes.end(), 0);
        for (size_t k = 0; k < ends.size(); ++k)  // -1 means "past index 0"; ONNX reads -1 as dim-1
          if (a.steps[k] < 0 && ends[k] < 0) ends[k] = std::numeric_limits<int64_t>::min();
        node("Slice",
             {in(0), init_ints(a.starts), init_ints(ends), init_ints(axes), init_ints(a.steps)}, y);
        return;
      }
      case OpKind::pad: {
        const auto& a = std::get<ir::PadAttrs>(n.attrs);
        std::vector<int64_t> pads = a.pads_begin;
        pads.insert(pads.end(), a.pads_end.begin(), a.pads_end.end());
        attr_string(node("Pad", {in(0), init_ints(pads), scalar(a.value)}, y), "mode", "constant");
        return;
      }
      case OpKind::gather:
        return gather(n);
      default:
        throw UserError(
            "has no ONNX equivalent (random, loss and gradient-only ops are not exported)");
    }
  }

  static void attr_string(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

  // linear: Gemm(x, W, b, transB = 1) on the (rows, in) view of x.
  void linear(const ir::Node& n) {
    const Shape& in = shape(n.parents[0]);
    const int64_t features = in[in.rank() - 1];
    const int64_t rows = features == 0 ? 0 : in.numel() / features;
    auto gemm = [&](const std::string& x, const std::string& y) {
      attr_int(node("Gemm",
                    {x, init_real(slot(n, "weight"), name(n.id) + "_weight"),
                     init_real(slot(n, "bias"), name(n.id) + "_bias")},
                    y),
               "transB", 1);
    };
    if (in.rank() == 2)
      gemm(name(n.parents[0]), name(n.id));
    else
      viewed(n, Shape{rows, features}, gemm);
  }

  void conv2d_chw(const ir::Node& n) {
    const auto& a = std::get<ir::Conv2dAttrs>(n.attrs);
    const Shape& in = shape(n.parents[0]);
    viewed(n, Shape{1, in[0], in[1], in[2]}, [&](const std::string& x, const std::string& y) {
      onnx::NodeProto* o = node("Conv",
                                {x, init_real(slot(n, "weight"), name(n.id) + "_weight"),
                                 init_real(slot(n, "bias"), name(n.id) + "_bias")},
                                y);
      window(o, a.kH, a.kW, a.stride, a.stride, a.padding, a.padding, a.padding, a.padding, true);
    });
  }

  // The v1 CHW pools: max ignores padding (as ONNX MaxPool), avg counts it (count_include_pad).
  void pool_chw(const ir::Node& n) {
    int64_t kh, kw, stride, padding = 0;
    if (const auto* a = std::get_if<ir::Pool2dAttrs>(&n.attrs)) {
      kh = a->kH, kw = a->kW, stride = a->stride;
    } else {
      const auto& b = std::get<ir::Pool2dPadAttrs>(n.attrs);
      kh = b.kH, kw = b.kW, stride = b.stride, padding = b.padding;
    }
    const bool mx = n.kind == OpKind::max_pool2d || n.kind == OpKind::max_pool2d_pad;
    const Shape& in = shape(n.parents[0]);
    viewed(n, Shape{1, in[0], in[1], in[2]}, [&](const std::string& x, const std::string& y) {
      onnx::NodeProto* o = node(mx ? "MaxPool" : "AveragePool", {x}, y);
      window(o, kh, kw, stride, stride, padding, padding, padding, padding, true);
      if (!mx) attr_int(o, "count_include_pad", 1);
    });
  }

  // TorchLean's left-aligned broadcast_to: place the source dims where its greedy rule consumes
  // them (Reshape with 1s elsewhere), then Expand.
  void broadcast_to(const ir::Node& n) {
    const auto& a = std::get<ir::BroadcastToAttrs>(n.attrs);
    std::vector<int64_t> view(static_cast<size_t>(a.to_shape.rank()), 1);
    for (int64_t i = 0, j = 0; i < a.from_shape.rank(); ++j) {
      if (a.from_shape[i] == a.to_shape[j] || a.from_shape[i] == 1)
        view[static_cast<size_t>(j)] = a.from_shape[i++];
    }
    const std::string v = fresh("view");
    node("Reshape", {name(n.parents[0]), reshape_target(Shape(view))}, v);
    node("Expand", {v, init_ints(a.to_shape.dims())}, name(n.id));
  }

  // layernorm(axis), eps 1e-6, no affine: the same decomposition the importer uses.
  void layernorm(const ir::Node& n) {
    const Shape& s = n.shape;
    std::vector<int64_t> axes;
    for (int64_t k = std::get<ir::AxisAttrs>(n.attrs).axis; k < s.rank(); ++k) axes.push_back(k);
    const std::string x = name(n.parents[0]);
    const std::string mean = fresh("mean"), d = fresh("centred"), sq = fresh("sq"),
                      var = fresh("var"), ve = fresh("var_eps"), sd = fresh("std");
    attr_ints(node("ReduceMean", {x}, mean), "axes", axes);
    node("Sub", {x, mean}, d);
    node("Mul", {d, d}, sq);
    attr_ints(node("ReduceMean", {sq}, var), "axes", axes);
    node("Add", {var, scalar(1e-6)}, ve);
    node("Sqrt", {ve}, sd);
    node("Div", {d, sd}, name(n.id));
  }

  // gelu(x) = x * 0.5 * (1 + erf(x / sqrt 2)), as PyTorch exports it.
  void gelu(const ir::Node& n) {
    const std::string x = name(n.parents[0]);
    const std::string q = fresh("gelu_div"), e = fresh("gelu_erf"), p = fresh("gelu_add"),
                      m = fresh("gelu_mul");
    node("Div", {x, scalar(std::sqrt(2.0))}, q);
    node("Erf", {q}, e);
    node("Add", {e, scalar(1.0)}, p);
    node("Mul", {x, p}, m);
    node("Mul", {m, scalar(0.5)}, name(n.id));
  }

  // compare: the ONNX comparison (bool), then Cast to FLOAT (1.0 / 0.0); "ne" is Not(Equal).
  void compare(const ir::Node& n) {
    const std::string& cmp = std::get<ir::CompareAttrs>(n.attrs).cmp;
    const char* op = cmp == "lt"   ? "Less"
                     : cmp == "le" ? "LessOrEqual"
                     : cmp == "gt" ? "Greater"
                     : cmp == "ge" ? "GreaterOrEqual"
                                   : "Equal";
    std::string b = fresh("cmp");
    node(op, {name(n.parents[0]), name(n.parents[1])}, b);
    if (cmp == "ne") {
      const std::string nb = fresh("not");
      node("Not", {b}, nb);
      b = nb;
    }
    attr_int(node("Cast", {b}, name(n.id)), "to", onnx::TensorProto::FLOAT);
  }

  // gather: constant indices become an INT64 initializer, computed ones a Cast to INT64.
  void gather(const ir::Node& n) {
    const ir::Node& idx = g_.node(n.parents[1]);
    std::string i;
    if (idx.kind == OpKind::constant) {
      std::vector<int64_t> v;
      for (double x : slot(idx, "value").vec()) {
        if (!(std::floor(x) == x && std::fabs(x) < 9.2e18))
          throw UserError("gather index " + std::to_string(x) + " is not an integer");
        v.push_back(static_cast<int64_t>(x));
      }
      i = fresh("idx");
      onnx::TensorProto* t = out_->add_initializer();
      t->set_name(i);
      t->set_data_type(onnx::TensorProto::INT64);
      for (int64_t d : idx.shape.dims()) t->add_dims(d);
      for (int64_t x : v) t->add_int64_data(x);
    } else {
      i = fresh("idx");
      attr_int(node("Cast", {name(idx.id)}, i), "to", onnx::TensorProto::INT64);
    }
    attr_int(node("Gather", {name(n.parents[0]), i}, name(n.id)), "axis",
             std::get<ir::GatherAttrs>(n.attrs).axis);
  }
};

}  // namespace

std::vector<uint8_t> export_onnx(const ir::Graph& g, const ir::Payload& payload) {
  ir::check_payload(g, payload);
  onnx::ModelProto m;
  m.set_ir_version(7);  // the IR version that goes with opset 13
  m.set_producer_name("torchlean-cpp");
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(kOnnxExportOpset);
  onnx::GraphProto* graph = m.mutable_graph();
  graph->set_name("torchlean");
  Exporter(g, payload, graph).run();
  std::string bytes;
  if (!m.SerializeToString(&bytes))
    throw UserError("onnx export: protobuf serialisation failed (model over 2 GiB?)");
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

void export_onnx_file(const std::filesystem::path& path, const ir::Graph& g,
                      const ir::Payload& payload) {
  write_file_bytes(path, export_onnx(g, payload), "onnx");
}

}  // namespace torchlean::io
