// Building small ONNX models in tests with the protobuf classes (independent of our exporter).
#pragma once
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"
#include "torchlean/io/onnx.hpp"

namespace torchlean::io::test {

struct OnnxBuilder {
  onnx::ModelProto m;
  explicit OnnxBuilder(int64_t opset) {
    m.set_ir_version(7);
    auto* os = m.add_opset_import();
    os->set_domain("");
    os->set_version(opset);
  }
  onnx::GraphProto* g() { return m.mutable_graph(); }

  // A float graph input; a negative dim is symbolic ("N").
  void input(const std::string& name, std::vector<int64_t> dims,
             int32_t type = onnx::TensorProto::FLOAT) {
    auto* vi = g()->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* sh = tt->mutable_shape();
    for (int64_t d : dims) {
      if (d < 0)
        sh->add_dim()->set_dim_param("N");
      else
        sh->add_dim()->set_dim_value(d);
    }
  }
  void output(const std::string& name) { g()->add_output()->set_name(name); }
  onnx::TensorProto* floats(const std::string& name, std::vector<int64_t> dims,
                            std::vector<float> v) {
    auto* t = g()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    return t;
  }
  onnx::TensorProto* ints(const std::string& name, std::vector<int64_t> v, bool scalar = false) {
    auto* t = g()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
    return t;
  }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> in,
                        std::vector<std::string> out, const std::string& name = "") {
    auto* n = g()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? out.at(0) : name);
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void attr_f(onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr_s(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  std::vector<uint8_t> bytes() const {
    std::string s;
    m.SerializeToString(&s);
    return std::vector<uint8_t>(s.begin(), s.end());
  }
  OnnxModel import(const OnnxImportOptions& o = {}) const {
    return import_onnx(bytes(), o, "m.onnx");
  }
};

}  // namespace torchlean::io::test
