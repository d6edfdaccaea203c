// ONNX error paths: malformed and truncated files, wrong opsets, unsupported ops, attributes and
// modes, bad initializers, symbolic dims, and ops the exporter cannot write. Each error is a
// UserError starting with the file name and naming what is wrong.
#include <gtest/gtest.h>

#include "io_test_util.hpp"
#include "onnx_test_util.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/ir/builder.hpp"

namespace torchlean::io {
namespace {

using test::expect_user_error;
using test::OnnxBuilder;

// x (1,4) -> Relu -> y
OnnxBuilder relu_model(int64_t opset = 13) {
  OnnxBuilder b(opset);
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"y"}, "r");
  b.output("y");
  return b;
}

TEST(OnnxErrors, NotProtobuf) {
  const std::string s = "definitely not a protobuf \xff\xff\xff";
  expect_user_error([&] { import_onnx(std::vector<uint8_t>(s.begin(), s.end()), {}, "m.onnx"); },
                    "m.onnx: ", {"not a valid ONNX model"});
}

TEST(OnnxErrors, EmptyModelHasNoGraph) {
  expect_user_error([&] { import_onnx(std::vector<uint8_t>{}, {}, "m.onnx"); },
                    "m.onnx: ", {"no graph"});
}

TEST(OnnxErrors, EveryTruncationOfARealModelIsAUserError) {
  const std::vector<uint8_t> full =
      read_file_bytes(test::source_dir() / "tests/io/data/onnx/mlp.onnx", "t");
  int rejected = 0;
  for (size_t n = 0; n < full.size(); n += 7) {
    try {
      import_onnx(std::span(full.data(), n), {}, "mlp.onnx");
    } catch (const UserError& e) {
      ++rejected;
      EXPECT_EQ(std::string(e.what()).rfind("mlp.onnx: ", 0), 0u) << e.what();
    }
  }
  // A prefix may happen to be a complete smaller model only at message boundaries; nearly all fail.
  EXPECT_GE(rejected, static_cast<int>(full.size() / 7) - 2);
}

TEST(OnnxErrors, OpsetOutOfRange) {
  expect_user_error([] { relu_model(5).import(); },
                    "m.onnx: ", {"opset 5 is not supported", "7 to 17"});
  expect_user_error([] { relu_model(18).import(); }, "m.onnx: ", {"opset 18 is not supported"});
  OnnxBuilder b = relu_model();
  b.m.mutable_opset_import(0)->set_domain("ai.onnx.ml");
  expect_user_error([&] { b.import(); }, "m.onnx: ", {"no default-domain"});
}

TEST(OnnxErrors, UnsupportedOpAttributeDomainAndOpset) {
  OnnxBuilder b(13);
  b.input("x", {2});
  b.node("Hardmax", {"x"}, {"y"}, "hm");
  b.output("y");
  expect_user_error([&] { b.import(); },
                    "m.onnx: node 'hm' (Hardmax): ", {"unsupported op type 'Hardmax'"});

  OnnxBuilder a = relu_model();
  OnnxBuilder::attr(a.g()->mutable_node(0), "bogus", int64_t{1});
  expect_user_error([&] { a.import(); },
                    "m.onnx: node 'r' (Relu): ", {"unsupported attribute 'bogus'"});

  OnnxBuilder d = relu_model();
  d.g()->mutable_node(0)->set_domain("com.microsoft");
  expect_user_error([&] { d.import(); },
                    "m.onnx: node 'r' (Relu): ", {"unsupported op domain 'com.microsoft'"});

  OnnxBuilder l(13);
  l.input("x", {2, 3});
  l.floats("s", {3}, {1, 1, 1});
  l.node("LayerNormalization", {"x", "s"}, {"y"}, "ln");
  l.output("y");
  expect_user_error([&] { l.import(); }, "m.onnx: node 'ln' (LayerNormalization): ",
                    {"supported from opset 17", "opset 13"});
}

TEST(OnnxErrors, UnsupportedModesAndForms) {
  OnnxBuilder p(13);
  p.input("x", {2, 3});
  p.ints("pads", {0, 1, 0, 1});
  OnnxBuilder::attr_s(p.node("Pad", {"x", "pads"}, {"y"}, "pad"), "mode", "reflect");
  p.output("y");
  expect_user_error([&] { p.import(); },
                    "m.onnx: node 'pad' (Pad): ", {"unsupported mode 'reflect'"});

  OnnxBuilder c(13);
  c.input("x", {1, 1, 4, 4});
  c.floats("w", {1, 1, 2, 2}, {1, 1, 1, 1});
  OnnxBuilder::attr_s(c.node("Conv", {"x", "w"}, {"y"}, "conv"), "auto_pad", "SAME_SIDEWAYS");
  c.output("y");
  expect_user_error([&] { c.import(); },
                    "m.onnx: node 'conv' (Conv): ", {"unsupported auto_pad 'SAME_SIDEWAYS'"});

  OnnxBuilder r(13);
  r.input("x", {2, 3});
  r.input("s", {2});
  r.node("Reshape", {"x", "s"}, {"y"}, "rs");
  r.output("y");
  expect_user_error([&] { r.import(); }, "m.onnx: node 'rs' (Reshape): ",
                    {"Reshape shape", "must be known at import time"});

  OnnxBuilder t(13);
  t.input("x", {2, 3});
  t.floats("k", {}, {0.5f});
  t.node("Dropout", {"x", "k", "train"}, {"y"}, "do");
  auto* tm = t.g()->add_initializer();
  tm->set_name("train");
  tm->set_data_type(onnx::TensorProto::BOOL);
  tm->add_int32_data(1);
  t.output("y");
  expect_user_error([&] { t.import(); },
                    "m.onnx: node 'do' (Dropout): ", {"training mode is not supported"});

  OnnxBuilder mask(11);
  mask.input("x", {2});
  mask.node("Dropout", {"x"}, {"y", "mask"}, "do");
  mask.output("mask");
  expect_user_error([&] { mask.import(); }, "m.onnx: graph output 'mask' ",
                    {"output 1 of node 'do' (Dropout)", "not supported"});
}

TEST(OnnxErrors, ShapesAndBroadcasting) {
  OnnxBuilder b(13);
  b.input("x", {2, 3});
  b.input("z", {4});
  b.node("Add", {"x", "z"}, {"y"}, "add");
  b.output("y");
  expect_user_error([&] { b.import(); },
                    "m.onnx: node 'add' (Add): ", {"cannot broadcast", "(2,3)", "(4)"});

  OnnxBuilder m(13);
  m.input("x", {2, 3});
  m.floats("w", {4, 5}, std::vector<float>(20, 1.0f));
  m.node("MatMul", {"x", "w"}, {"y"}, "mm");
  m.output("y");
  expect_user_error([&] { m.import(); },
                    "m.onnx: node 'mm' (MatMul): ", {"inner dims mismatch", "(2,3) x (4,5)"});

  OnnxBuilder u(13);
  u.input("x", {2});
  u.node("Relu", {"nowhere"}, {"y"}, "r");
  u.output("y");
  expect_user_error([&] { u.import(); },
                    "m.onnx: node 'r' (Relu): ", {"'nowhere' is not produced"});
}

TEST(OnnxErrors, GraphInputs) {
  OnnxBuilder s(13);
  s.input("x", {-1, 4});
  s.node("Relu", {"x"}, {"y"});
  s.output("y");
  expect_user_error([&] { s.import(); }, "m.onnx: graph input 'x' ",
                    {"symbolic batch dim 'N' at axis 0", "--batch N"});
  EXPECT_EQ(s.import({.batch = 3}).graph.node(0).shape, (Shape{3, 4}));
  expect_user_error([&] { s.import({.batch = 0}); }, "m.onnx: batch must be in [1, ", {"got 0"});

  OnnxBuilder t(13);
  t.input("x", {4, -1});
  t.node("Relu", {"x"}, {"y"});
  t.output("y");
  expect_user_error([&] { t.import({.batch = 2}); }, "m.onnx: graph input 'x' ",
                    {"symbolic dim 'N' at axis 1"});

  OnnxBuilder i(13);
  i.input("x", {4}, onnx::TensorProto::INT64);
  i.node("Relu", {"x"}, {"y"});
  i.output("y");
  expect_user_error([&] { i.import(); }, "m.onnx: graph input 'x' ", {"element type INT64"});
}

TEST(OnnxErrors, Initializers) {
  OnnxBuilder r = relu_model();
  auto* t = r.g()->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(2);
  t->set_raw_data(std::string(3, '\0'));
  expect_user_error([&] { r.import(); },
                    "m.onnx: initializer 'w': ", {"raw_data has 3 bytes", "needs 8"});

  OnnxBuilder f = relu_model();
  f.floats("w", {2, 2}, {1, 2, 3});
  expect_user_error([&] { f.import(); },
                    "m.onnx: initializer 'w': ", {"float_data holds 3 values", "needs 4"});

  OnnxBuilder h = relu_model();
  h.floats("big", {1 << 20, 1 << 20}, {});
  expect_user_error([&] { h.import(); }, "m.onnx: initializer 'big': ", {"exceeds the limit"});

  OnnxBuilder s = relu_model();
  auto* str = s.g()->add_initializer();
  str->set_name("s");
  str->set_data_type(onnx::TensorProto::STRING);
  str->add_string_data("hi");
  str->add_dims(1);
  expect_user_error([&] { s.import(); },
                    "m.onnx: initializer 's': ", {"unsupported tensor data type STRING"});

  OnnxBuilder e = relu_model();
  auto* ext = e.floats("w", {1}, {});
  ext->set_data_location(onnx::TensorProto::EXTERNAL);
  expect_user_error([&] { e.import(); },
                    "m.onnx: initializer 'w': ", {"external tensor data is not supported"});
}

TEST(OnnxErrors, ImportTimeFoldingIsBounded) {
  OnnxBuilder b(13);
  b.input("x", {2});
  b.ints("shape", {1 << 12, 1 << 12});
  b.node("ConstantOfShape", {"shape"}, {"c"}, "cos");
  b.node("Add", {"x", "c"}, {"y"});
  b.output("y");
  expect_user_error([&] { b.import(); }, "m.onnx: node 'cos' (ConstantOfShape): ",
                    {"(4096,4096) exceeds the limit of 4194304 elements computed at import"});
}

TEST(OnnxErrors, CorruptGzipFile) {
  test::TempDir dir;
  const std::vector<uint8_t> onnx = relu_model().bytes();
  std::vector<uint8_t> junk = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5};
  write_file_bytes(dir.path() / "bad.onnx.gz", junk, "t");
  expect_user_error([&] { import_onnx_file(dir.path() / "bad.onnx.gz"); },
                    "bad.onnx.gz: ", {"gzip"});
  expect_user_error([&] { gunzip(junk, 1 << 20, "x.gz"); }, "x.gz: ", {"gzip"});
}

TEST(OnnxErrors, ExportOfOpsWithoutOnnxForm) {
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{2});
  const int64_t r = b.add(ir::OpKind::rand_uniform, {}, ir::SeedAttrs{1}, Shape{2});
  b.mark_output(b.add(ir::OpKind::add, {x, r}));
  auto [g, p] = std::move(b).finish();
  expect_user_error([&] { export_onnx(g, p); },
                    "onnx export: [rand_uniform] node 1: ", {"has no ONNX equivalent"});

  ir::GraphBuilder l;
  const int64_t y = l.input(Shape{2});
  l.mark_output(l.add(ir::OpKind::leaky_relu, {y}, ir::LeakyReluAttrs{0.1}));
  auto [gl, pl] = std::move(l).finish();
  expect_user_error([&] { export_onnx(gl, pl); },
                    "onnx export: [leaky_relu] node 1: ", {"alpha", "not exact in binary32"});
}

}  // namespace
}  // namespace torchlean::io
