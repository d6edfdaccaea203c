// graph_json: TorchLean's torchlean.ir.v1 schema, tuple lowering, the extension format, and every
// error path with its message.
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "io_test_util.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::io {
namespace {

using ir::OpKind;
using test::expect_user_error;

// One graph per op: an input (2,3) feeding the op `arity` times (3 for concat), with every
// attribute field set to a distinct non-default value. Round trips do not need valid shapes.
ir::Graph one_op_graph(const ir::OpInfo& info) {
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{2, 3});
  g.input_ids = {0};
  g.output_ids = {0};
  if (info.kind == OpKind::input) return g;
  ir::Attrs attrs = ir::default_attrs(info.kind);
  int64_t k = 1;
  std::visit(
      [&](auto& a) {
        a.for_each_field([&](const char*, auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) v = k++;
          else if constexpr (std::is_same_v<T, Shape>) v = Shape{k++, 4, 0};
          else if constexpr (std::is_same_v<T, double>)
            v = -0.1 * static_cast<double>(k++);
          else if constexpr (std::is_same_v<T, bool>)
            v = true;
          else if constexpr (std::is_same_v<T, std::string>)
            v = "ge" + std::to_string(k++);
          else v = {2, 0, k++};
        });
      },
      attrs);
  if (auto* seed = std::get_if<ir::SeedAttrs>(&attrs)) seed->seed = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> parents(static_cast<size_t>(info.arity < 0 ? 3 : info.arity), 0);
  g.output_ids = {g.add(info.kind, parents, attrs, Shape{5, 7})};
  return g;
}

TEST(GraphJson, EveryOpRoundTrips) {
  for (const ir::OpInfo& info : ir::kOpInfos) {
    SCOPED_TRACE(std::string(info.json_kind));
    const ir::Graph g = one_op_graph(info);
    const std::string text = write_graph_json(g);
    const nlohmann::json j = nlohmann::json::parse(text);
    EXPECT_EQ(j.at("format"), ir::is_v1_op(info.kind) ? "torchlean.ir.v1" : "torchlean_cpp.ir.v1x");
    EXPECT_EQ(j.at("nodes").back().at("kind"), std::string(info.json_kind));
    EXPECT_EQ(read_graph_json(text).graph, g);
  }
}

TEST(GraphJson, WritesTorchLeanFlatAttributeKeys) {
  // Expected objects follow TorchLean's parseOpKind field names.
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{1, 6, 6});
  g.add(OpKind::conv2d, {0}, ir::Conv2dAttrs{1, 2, 3, 3, 1, 0}, Shape{2, 4, 4});
  g.add(OpKind::max_pool2d, {1}, ir::Pool2dAttrs{2, 2, 2}, Shape{2, 2, 2});
  g.add(OpKind::flatten, {2}, ir::FlattenAttrs{Shape{2, 2, 2}}, Shape{8});
  g.add(OpKind::constant, {}, ir::ConstAttrs{Shape{8}}, Shape{8});
  g.input_ids = {0};
  g.output_ids = {3};
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "format": "torchlean.ir.v1", "input_id": 0, "output_id": 3, "nodes": [
      {"id": 0, "kind": "input", "parents": [], "shape": [1, 6, 6]},
      {"id": 1, "kind": "conv2d", "parents": [0], "shape": [2, 4, 4],
       "inC": 1, "outC": 2, "kH": 3, "kW": 3, "stride": 1, "padding": 0},
      {"id": 2, "kind": "max_pool2d", "parents": [1], "shape": [2, 2, 2], "kH": 2, "kW": 2, "stride": 2},
      {"id": 3, "kind": "flatten", "parents": [2], "shape": [8], "value_shape": [2, 2, 2]},
      {"id": 4, "kind": "const", "parents": [], "shape": [8], "value_shape": [8]}]})");
  EXPECT_EQ(nlohmann::json::parse(write_graph_json(g)), expected);
}

TEST(GraphJson, TorchLeanManualMinimalGraphLoads) {
  // "A minimal captured graph" from TorchLean's manual (Crossing Lean's Boundary).
  const GraphJson g = load_graph_json(R"({
    "format": "torchlean.ir.v1", "input_id": 0, "output_id": 2,
    "nodes": [
      {"id": 0, "kind": "input", "parents": [], "shape": [1, 4]},
      {"id": 1, "kind": "relu",  "parents": [0], "shape": [1, 4]},
      {"id": 2, "kind": "sum",   "parents": [1], "shape": []}
    ]})");
  ASSERT_EQ(g.graph.nodes.size(), 3u);
  EXPECT_EQ(g.graph.nodes[1].kind, OpKind::relu);
  EXPECT_EQ(g.graph.nodes[2].kind, OpKind::sum);
  EXPECT_EQ(g.graph.nodes[2].shape, Shape{});
  EXPECT_EQ(g.graph.input_ids, std::vector<int64_t>{0});
  EXPECT_EQ(g.graph.output_ids, std::vector<int64_t>{2});
  EXPECT_TRUE(g.inline_payload.empty());
}

TEST(GraphJson, ImporterDocstringExampleIsRejectedForItsOutputId) {
  // The importer's docstring example names output_id 4 in a two-node graph; TorchLean's
  // parseGraph rejects it (getNode 4 is out of bounds), and so does load_graph_json.
  const char* text = R"({
    "format": "torchlean.ir.v1", "input_id": 0, "output_id": 4,
    "nodes": [
      {"id": 0, "kind": "input", "parents": [], "shape": [1, 4]},
      {"id": 1, "kind": "relu", "parents": [0], "shape": [1, 4]}
    ]})";
  EXPECT_EQ(read_graph_json(text).graph.output_ids, std::vector<int64_t>{4});
  expect_user_error([&] { load_graph_json(text); }, "[graph]", {"output id 4", "out of range"});
}

TEST(GraphJson, ReadsEmitterOutputWithValueKindDebugTargetAndEps) {
  // Shaped like TorchLean's v1 Python emitter: sorted keys, value_kind, debug_target, and eps on
  // batch norm (the importer keeps the eps for the payload).
  const GraphJson g = load_graph_json(R"({
    "format": "torchlean.ir.v1", "input_id": 0, "nodes": [
      {"debug_target": "x", "id": 0, "kind": "input", "parents": [], "shape": [1, 2, 3, 3], "value_kind": "tensor"},
      {"channels": 2, "debug_target": "bn", "eps": 1e-05, "id": 1, "kind": "batch_norm2d_nchw_eval",
       "parents": [0], "shape": [1, 2, 3, 3], "value_kind": "tensor"},
      {"debug_target": "aten.relu.default", "id": 2, "kind": "relu", "parents": [1], "shape": [1, 2, 3, 3],
       "value_kind": "tensor"}], "output_id": 2})");
  EXPECT_EQ(g.graph.nodes[1].attrs, ir::Attrs(ir::BatchNormAttrs{2}));
  ASSERT_TRUE(g.inline_payload.count(1));
  const Tensor<double>& eps = g.inline_payload.at(1).at("eps");
  EXPECT_EQ(eps.shape(), Shape{});
  EXPECT_EQ(eps[0], 1e-05);
  // Written back with the same eps; read again, equal.
  const GraphJson back = read_graph_json(write_graph_json(g.graph, g.inline_payload));
  EXPECT_EQ(back.graph, g.graph);
  EXPECT_EQ(back.inline_payload.at(1).at("eps")[0], 1e-05);
}

TEST(GraphJson, ConstValueShapeDefaultsToNodeShape) {
  const GraphJson g = read_graph_json(R"({"input_id": 0, "output_id": 0, "nodes": [
      {"id": 0, "kind": "const", "parents": [], "shape": [3, 2]}]})");
  EXPECT_EQ(g.graph.nodes[0].attrs, ir::Attrs(ir::ConstAttrs{Shape{3, 2}}));
}

TEST(GraphJson, AcceptsOutputIdsListOfLaterRevisions) {
  const GraphJson g = read_graph_json(R"({"format": "torchlean.ir.v1", "input_id": 0, "output_ids": [1],
      "nodes": [{"id": 0, "kind": "input", "parents": [], "shape": [2]},
                {"id": 1, "kind": "exp", "parents": [0], "shape": [2]}]})");
  EXPECT_EQ(g.graph.output_ids, std::vector<int64_t>{1});
}

TEST(GraphJson, MultiInputGraphsUseTheExtensionFormat) {
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{2});
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{2});
  g.add(OpKind::add, {0, 1}, ir::NoAttrs{}, Shape{2});
  g.add(OpKind::mul_elem, {0, 1}, ir::NoAttrs{}, Shape{2});
  g.input_ids = {0, 1};
  g.output_ids = {2, 3};
  const std::string text = write_graph_json(g);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("format"), "torchlean_cpp.ir.v1x");
  EXPECT_EQ(j.at("input_ids"), nlohmann::json::parse("[0, 1]"));
  EXPECT_EQ(j.at("output_ids"), nlohmann::json::parse("[2, 3]"));
  EXPECT_FALSE(j.contains("input_id"));
  EXPECT_EQ(load_graph_json(text).graph, g);
  // The extension keys are required under the extension format.
  expect_user_error([] { read_graph_json(R"({"format": "torchlean_cpp.ir.v1x", "input_id": 0, "output_id": 0,
                                            "nodes": []})"); },
                    "graph_json: root: missing field `input_ids`", {});
}

TEST(GraphJson, ExtensionOpsUseTheExtensionFormat) {
  // One input, one output, but an extension op: torchlean_cpp.ir.v1x with signed integers
  // (slice ends -1), doubles, booleans and strings as attribute values.
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{5});
  g.add(OpKind::slice, {0}, ir::SliceAttrs{{4}, {-1}, {-2}}, Shape{3});
  g.add(OpKind::clamp, {1}, ir::ClampAttrs{-0.5, 0.1, true, false}, Shape{3});
  g.add(OpKind::compare, {2, 2}, ir::CompareAttrs{"ge"}, Shape{3});
  g.add(OpKind::pad, {3}, ir::PadAttrs{{1}, {0}, -2.5}, Shape{4});
  g.input_ids = {0};
  g.output_ids = {4};
  const std::string text = write_graph_json(g);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("format"), "torchlean_cpp.ir.v1x");
  EXPECT_EQ(j.at("input_ids"), nlohmann::json::parse("[0]"));
  const nlohmann::json expected_nodes = nlohmann::json::parse(R"([
    {"id": 0, "kind": "input", "parents": [], "shape": [5]},
    {"id": 1, "kind": "slice", "parents": [0], "shape": [3], "starts": [4], "ends": [-1], "steps": [-2]},
    {"id": 2, "kind": "clamp", "parents": [1], "shape": [3], "lo": -0.5, "hi": 0.1, "has_lo": true,
     "has_hi": false},
    {"id": 3, "kind": "compare", "parents": [2, 2], "shape": [3], "cmp": "ge"},
    {"id": 4, "kind": "pad", "parents": [3], "shape": [4], "pads_begin": [1], "pads_end": [0],
     "value": -2.5}])");
  EXPECT_EQ(j.at("nodes"), expected_nodes);
  // Doubles round-trip exactly (0.1 is written with enough digits).
  EXPECT_EQ(load_graph_json(text).graph, g);
}

TEST(GraphJson, MatmulExtensionFormsUseTheExtensionFormat) {
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{2, 3, 4});
  g.add(OpKind::constant, {}, ir::ConstAttrs{Shape{4, 5}}, Shape{4, 5});
  g.add(OpKind::matmul, {0, 1}, ir::NoAttrs{}, Shape{2, 3, 5});
  g.input_ids = {0};
  g.output_ids = {2};
  EXPECT_TRUE(ir::is_v1_graph(g) == false);
  const std::string text = write_graph_json(g);
  EXPECT_EQ(nlohmann::json::parse(text).at("format"), "torchlean_cpp.ir.v1x");
  EXPECT_EQ(load_graph_json(text).graph, g);
  // The same graph labelled torchlean.ir.v1 is rejected, naming the form.
  nlohmann::json v1 = nlohmann::json::parse(text);
  v1["format"] = "torchlean.ir.v1";
  v1.erase("input_ids");
  v1.erase("output_ids");
  v1["input_id"] = 0;
  v1["output_id"] = 2;
  expect_user_error(
      [&] { read_graph_json(v1.dump()); }, "graph_json: node[2]: ",
      {"matmul of rank-3 by rank-2 operands is an extension form", "torchlean_cpp.ir.v1x"});
  // v1 forms stay v1.
  g.nodes[1] = ir::Node{1, {}, OpKind::constant, ir::ConstAttrs{Shape{2, 4, 5}}, Shape{2, 4, 5}};
  EXPECT_TRUE(ir::is_v1_graph(g));
  EXPECT_EQ(nlohmann::json::parse(write_graph_json(g)).at("format"), "torchlean.ir.v1");
}

TEST(GraphJson, ExtensionOpsAreNotTorchLeanV1) {
  for (const ir::OpInfo& info : ir::kOpInfos) {
    if (ir::is_v1_op(info.kind)) continue;
    SCOPED_TRACE(std::string(info.json_kind));
    nlohmann::json j = nlohmann::json::parse(write_graph_json(one_op_graph(info)));
    j["format"] = "torchlean.ir.v1";
    j["input_id"] = 0;
    j["output_id"] = 1;
    j.erase("input_ids");
    j.erase("output_ids");
    expect_user_error([&] { read_graph_json(j.dump()); }, "graph_json: node[1]: ",
                      {"op kind \"" + std::string(info.json_kind) + "\" is an extension op",
                       "torchlean_cpp.ir.v1x"});
    // Without a format key the file is v1 as well.
    j.erase("format");
    expect_user_error([&] { read_graph_json(j.dump()); },
                      "graph_json: node[1]: ", {"extension op"});
  }
}

TEST(GraphJson, ExtensionAttributeErrors) {
  auto doc = [](const std::string& attrs) {
    return R"({"format": "torchlean_cpp.ir.v1x", "input_ids": [0], "output_ids": [1], "nodes": [
      {"id": 0, "kind": "input", "parents": [], "shape": [2]},
      {"id": 1, "kind": "pad", "parents": [0], "shape": [3], )" +
           attrs + "}]}";
  };
  EXPECT_EQ(std::get<ir::PadAttrs>(
                read_graph_json(doc(R"("pads_begin": [-1], "pads_end": [2], "value": 1e300)"))
                    .graph.nodes[1]
                    .attrs),
            (ir::PadAttrs{{-1}, {2}, 1e300}));
  expect_user_error(
      [&] { read_graph_json(doc(R"("pads_begin": [1], "pads_end": [0], "value": "0")")); },
      "graph_json: node[1].value: ", {"expected a number"});
  expect_user_error(
      [&] { read_graph_json(doc(R"("pads_begin": [1.5], "pads_end": [0], "value": 0)")); },
      "graph_json: node[1].pads_begin[0]: ", {"expected an integer"});
  expect_user_error(
      [&] {
        read_graph_json(
            doc(R"("pads_begin": [18446744073709551615], "pads_end": [0], "value": 0)"));
      },
      "graph_json: node[1].pads_begin[0]: ", {"too large"});
  expect_user_error([&] { read_graph_json(doc(R"("pads_begin": [1], "pads_end": [0])")); },
                    "graph_json: node[1]: ", {"missing field `value`"});
  // The shape rule, not the reader, rejects the negative pad.
  expect_user_error(
      [&] { load_graph_json(doc(R"("pads_begin": [-1], "pads_end": [2], "value": 0)")); },
      "[pad] node 1: ", {"pads_begin entry must be >= 0, got -1"});
  // Booleans and strings are typed too.
  auto clamp = [](const std::string& attrs) {
    return R"({"format": "torchlean_cpp.ir.v1x", "input_ids": [0], "output_ids": [1], "nodes": [
      {"id": 0, "kind": "input", "parents": [], "shape": [2]},
      {"id": 1, "kind": "clamp", "parents": [0], "shape": [2], )" +
           attrs + "}]}";
  };
  expect_user_error(
      [&] { read_graph_json(clamp(R"("lo": 0, "hi": 1, "has_lo": 1, "has_hi": true)")); },
      "graph_json: node[1].has_lo: ", {});
  // A v1 op keeps its natural-number attributes under the extension format.
  expect_user_error(
      [] {
        read_graph_json(R"({"format": "torchlean_cpp.ir.v1x", "input_ids": [0],
      "output_ids": [1], "nodes": [{"id": 0, "kind": "input", "parents": [], "shape": [2]},
      {"id": 1, "kind": "reduce_sum", "parents": [0], "shape": [], "axis": -1}]})");
      },
      "graph_json: node[1].axis: ", {"natural number"});
}

TEST(GraphJson, WriterRejectsNonFiniteAttributes) {
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{1});
  g.add(OpKind::pad, {0}, ir::PadAttrs{{1}, {0}, -std::numeric_limits<double>::infinity()},
        Shape{2});
  g.input_ids = {0};
  g.output_ids = {1};
  expect_user_error([&] { write_graph_json(g); },
                    "graph_json: node 1 (pad) value: ", {"non-finite"});
}

TEST(GraphJson, FilesRoundTrip) {
  test::TempDir dir;
  ir::Graph g = one_op_graph(ir::op_info(OpKind::conv2d));
  write_graph_json_file(dir.path() / "g.json", g);
  EXPECT_EQ(read_graph_json_file(dir.path() / "g.json").graph, g);
  expect_user_error([&] { read_graph_json_file(dir.path() / "missing.json"); }, "graph_json: cannot open", {});
  // Errors from a file name it.
  std::ofstream(dir.path() / "bad.json") << "{\"input_id\": -1}";
  expect_user_error([&] { read_graph_json_file(dir.path() / "bad.json"); }, "graph_json: ",
                    {"bad.json", "root.input_id", "-1"});
}

// Tuple lowering --------------------------------------------------------------------------------

std::string mha_json(const std::string& mha_extra, const std::string& getitem_extra = "\"index\": 0",
                     const std::string& parents = "[0, 0, 0]", const std::string& output = "2") {
  return R"({"format": "torchlean.ir.v1", "input_id": 0, "output_id": )" + output + R"(, "nodes": [
    {"id": 0, "kind": "input", "parents": [], "value_kind": "tensor", "shape": [1, 3, 4]},
    {"id": 1, "kind": "multihead_attention", "parents": )" + parents + R"(, "value_kind": "tuple",
     "tuple_shapes": [[1, 3, 4], [1, 3, 3]], "embed_dim": 4, "batch_first": true,
     "dropout_zero": true, "bias": true, )" + mha_extra + R"(},
    {"id": 2, "kind": "tuple_getitem", "parents": [1], "value_kind": "tensor", "shape": [1, 3, 4], )" +
         getitem_extra + "}]}";
}

TEST(GraphJson, LowersSingleHeadSelfAttentionLikeTorchLean) {
  const GraphJson g = load_graph_json(mha_json("\"num_heads\": 1"));
  // TorchLean's pytorch_export_check reports "TinySingleHeadMHA nodes=11".
  ASSERT_EQ(g.graph.nodes.size(), 11u);
  const std::vector<OpKind> kinds{OpKind::input,  OpKind::linear,   OpKind::linear,  OpKind::linear,
                                  OpKind::transpose3d_last_two, OpKind::matmul, OpKind::constant,
                                  OpKind::mul_elem, OpKind::softmax, OpKind::matmul, OpKind::linear};
  for (size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(g.graph.nodes[i].kind, kinds[i]) << "node " << i;
  EXPECT_EQ(g.graph.nodes[4].shape, (Shape{1, 4, 3}));
  EXPECT_EQ(g.graph.nodes[6].attrs, ir::Attrs(ir::ConstAttrs{Shape{1, 3, 3}}));
  EXPECT_EQ(g.graph.nodes[8].attrs, ir::Attrs(ir::AxisAttrs{2}));
  EXPECT_EQ(g.graph.nodes[9].parents, (std::vector<int64_t>{8, 3}));
  EXPECT_EQ(g.graph.output_ids, std::vector<int64_t>{10});
  EXPECT_EQ(read_graph_json(write_graph_json(g.graph)).graph, g.graph);
}

TEST(GraphJson, TupleErrors) {
  // TorchLean's published rejection of a two-head attention.
  expect_user_error([] { read_graph_json(mha_json("\"num_heads\": 2")); }, "graph_json: node[2]: ",
                    {"`nn.MultiheadAttention` lowering supports only num_heads=1, got 2"});
  expect_user_error([] { read_graph_json(mha_json("\"num_heads\": 1", "\"index\": 1", "[0, 0, 0]")); },
                    "graph_json: node[2]: ", {"tuple component 1", "(1,3,3)", "(1,3,4)"});
  expect_user_error([] { read_graph_json(mha_json("\"num_heads\": 1", "\"index\": 2")); },
                    "graph_json: node[2]: ", {"tuple index 2 is out of bounds"});
  expect_user_error([] { read_graph_json(mha_json("\"num_heads\": 1", "\"indx\": 0")); },
                    "graph_json: node[2]: missing field `index`", {});
  expect_user_error([] { read_graph_json(mha_json("\"num_heads\": \"1\"")); },
                    "graph_json: node[1].num_heads: expected a natural number", {});
  expect_user_error([] { read_graph_json(mha_json("\"num_heads\": 1", "\"index\": 0", "[0, 0]")); },
                    "graph_json: node[2]: ", {"query/key/value"});
  // A tuple value consumed by an ordinary op, or named as the output.
  expect_user_error([] { read_graph_json(mha_json("\"num_heads\": 1", "\"index\": 0", "[0, 0, 0]", "1")); },
                    "graph_json: root.output_id: ", {"node[1]", "multihead_attention", "tuple-valued"});
  expect_user_error(
      [] {
        read_graph_json(R"({"input_id": 0, "output_id": 2, "nodes": [
          {"id": 0, "kind": "input", "parents": [], "shape": [2]},
          {"id": 1, "kind": "py_tuple", "parents": [0], "value_kind": "tuple", "tuple_shapes": [[2], [2]]},
          {"id": 2, "kind": "relu", "parents": [1], "shape": [2]}]})");
      },
      "graph_json: node[2]: ", {"node[1]", "\"py_tuple\"", "tuple-valued"});
  expect_user_error(
      [] {
        read_graph_json(R"({"input_id": 0, "output_id": 2, "nodes": [
          {"id": 0, "kind": "input", "parents": [], "shape": [2]},
          {"id": 1, "kind": "sort", "parents": [0], "value_kind": "tuple", "tuple_shapes": [[2], [2]]},
          {"id": 2, "kind": "tuple_getitem", "parents": [1], "shape": [2], "index": 0}]})");
      },
      "graph_json: node[2]: ", {"\"sort\"", "no tensor-lowering rule"});
  expect_user_error(
      [] {
        read_graph_json(R"({"input_id": 0, "output_id": 1, "nodes": [
          {"id": 0, "kind": "input", "parents": [], "shape": [2]},
          {"id": 1, "kind": "tuple_getitem", "parents": [0], "shape": [2], "index": 0}]})");
      },
      "graph_json: node[1]: ", {"tensor-valued"});
  expect_user_error(
      [] {
        read_graph_json(R"({"input_id": 0, "output_id": 0, "nodes": [
          {"id": 0, "kind": "input", "parents": [], "value_kind": "list", "shape": [2]}]})");
      },
      "graph_json: node[0]: unsupported value_kind \"list\"", {});
  expect_user_error(
      [] {
        read_graph_json(R"({"input_id": 0, "output_id": 0, "nodes": [
          {"id": 0, "kind": "input", "parents": [], "value_kind": "tuple"}]})");
      },
      "graph_json: node[0]: missing field `tuple_shapes`", {});
}

// Error paths ----------------------------------------------------------------------------------

// A one-relu graph whose node 1 carries `node1` as its extra text.
std::string with_node1(const std::string& node1) {
  return R"({"input_id": 0, "output_id": 1, "nodes": [{"id": 0, "kind": "input", "parents": [], "shape": [1, 4, 4]},
           )" + node1 + "]}";
}

TEST(GraphJson, MalformedDocuments) {
  expect_user_error([] { read_graph_json("{\"input_id\": 0,"); }, "graph_json: malformed JSON", {"parse error"});
  expect_user_error([] { read_graph_json(""); }, "graph_json: malformed JSON", {});
  expect_user_error([] { read_graph_json("[1, 2]"); }, "graph_json: root: expected an object, got an array of 2", {});
  expect_user_error([] { read_graph_json(R"({"a": 1, "a": 2})"); }, "graph_json: duplicate key \"a\"", {});
  expect_user_error([] { read_graph_json(std::string(100, '[') + std::string(100, ']')); },
                    "graph_json: JSON nesting deeper than 64", {});
}

TEST(GraphJson, FormatString) {
  const std::string rest = R"("input_id": 0, "output_id": 0, "nodes": [{"id": 0, "kind": "input", "parents": [], "shape": []}]})";
  EXPECT_NO_THROW(read_graph_json("{" + rest));  // TorchLean accepts a missing format
  EXPECT_NO_THROW(read_graph_json(R"({"format": "torchlean.ir.v1", )" + rest));
  expect_user_error([&] { read_graph_json(R"({"format": "torchlean.ir.v2", )" + rest); },
                    "graph_json: root.format: unsupported format \"torchlean.ir.v2\"", {"torchlean.ir.v1"});
  expect_user_error([&] { read_graph_json(R"({"format": 1, )" + rest); },
                    "graph_json: root.format: expected a string, got 1", {});
}

TEST(GraphJson, MissingAndMistypedTopLevelFields) {
  expect_user_error([] { read_graph_json(R"({"output_id": 0, "nodes": []})"); },
                    "graph_json: root: missing field `input_id`", {});
  expect_user_error([] { read_graph_json(R"({"input_id": 0, "nodes": []})"); },
                    "graph_json: root: missing field `output_id`", {});
  expect_user_error([] { read_graph_json(R"({"input_id": 0, "output_id": 0})"); },
                    "graph_json: root: missing field `nodes`", {});
  expect_user_error([] { read_graph_json(R"({"input_id": 0, "output_id": 0, "nodes": {}})"); },
                    "graph_json: root.nodes: expected an array, got an object", {});
  expect_user_error([] { read_graph_json(R"({"input_id": "0", "output_id": 0, "nodes": []})"); },
                    "graph_json: root.input_id: expected a natural number, got \"0\"", {});
}

TEST(GraphJson, NaturalsMustBeNonNegativeIntegers) {
  const std::string pool = R"({"id": 1, "kind": "max_pool2d", "parents": [0], "shape": [1, 2, 2], "kH": 2, "kW": 2, "stride": )";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"-1", "got -1"},
      {"1.5", "got 1.5"},
      {"2.0", "got 2.0"},
      {"1e2", "got 100.0"},
      {"9223372036854775808", "too large"},
      {"18446744073709551616", "natural number"},
      {"\"2\"", "got \"2\""},
      {"true", "got true"},
      {"null", "got null"},
      {"[2]", "got an array of 1"},
  };
  for (const auto& [token, needle] : bad) {
    SCOPED_TRACE(token);
    expect_user_error([&] { read_graph_json(with_node1(pool + token + "}")); }, "graph_json: node[1].stride: ",
                      {needle});
  }
  EXPECT_EQ(std::get<ir::Pool2dAttrs>(read_graph_json(with_node1(pool + "9223372036854775807}")).graph.nodes[1].attrs)
                .stride,
            std::numeric_limits<int64_t>::max());
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "relu", "parents": [-1], "shape": [1]})")); },
                    "graph_json: node[1].parents[0]: expected a natural number, got -1", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "relu", "parents": [0], "shape": [1, 0.5]})")); },
                    "graph_json: node[1].shape[1]: expected a natural number", {"0.5"});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "permute", "parents": [0], "shape": [1], "perm": [0, -2]})")); },
                    "graph_json: node[1].perm[1]: expected a natural number, got -2", {});
}

TEST(GraphJson, NodeFieldErrors) {
  expect_user_error([] { read_graph_json(with_node1("7")); }, "graph_json: nodes[1]: expected an object, got 7", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"kind": "relu", "parents": [0], "shape": [1]})")); },
                    "graph_json: nodes[1]: missing field `id`", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 0, "kind": "relu", "parents": [0], "shape": [1]})")); },
                    "graph_json: nodes[1]: id 0 where 1 was expected", {"duplicate or out-of-order"});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 5, "kind": "relu", "parents": [0], "shape": [1]})")); },
                    "graph_json: nodes[1]: id 5 where 1 was expected", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "relu", "shape": [1]})")); },
                    "graph_json: node[1]: missing field `parents`", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "relu", "parents": 0, "shape": [1]})")); },
                    "graph_json: node[1].parents: expected an array, got 0", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "parents": [0], "shape": [1]})")); },
                    "graph_json: node[1]: missing field `kind`", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": 3, "parents": [0], "shape": [1]})")); },
                    "graph_json: node[1].kind: expected a string, got 3", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "relu", "parents": [0]})")); },
                    "graph_json: node[1]: missing field `shape`", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "conv", "parents": [0], "shape": [1]})")); },
                    "graph_json: node[1]: unsupported TorchLean IR op kind \"conv\"", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "max_pool2d", "parents": [0], "shape": [1], "kH": 2, "kW": 2})")); },
                    "graph_json: node[1]: missing field `stride`", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "reshape", "parents": [0], "shape": [16], "in_shape": [1, 4, 4], "out_shape": 16})")); },
                    "graph_json: node[1].out_shape: expected an array, got 16", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "batch_norm2d_nchw_eval", "parents": [0], "shape": [1], "channels": 1, "eps": -1e-5})")); },
                    "graph_json: node[1].eps: eps -1e-05 is negative", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "batch_norm2d_nchw_eval", "parents": [0], "shape": [1], "channels": 1, "eps": "small"})")); },
                    "graph_json: node[1].eps: expected a number, got \"small\"", {});
  expect_user_error([] { read_graph_json(with_node1(R"({"id": 1, "kind": "relu", "parents": [0], "shape": [1], "value_kind": 1})")); },
                    "graph_json: node[1].value_kind: expected a string, got 1", {});
}

TEST(GraphJson, ForwardParentsAndCyclesGetTheCheckersMessage) {
  // A node naming itself (the smallest cycle) and a forward parent parse, then fail the checker.
  const std::string self = with_node1(R"({"id": 1, "kind": "relu", "parents": [1], "shape": [1, 4, 4]})");
  EXPECT_NO_THROW(read_graph_json(self));
  expect_user_error([&] { load_graph_json(self); }, "[relu] node 1: ", {"parent 1 is not an earlier node"});
  const std::string forward = R"({"input_id": 0, "output_id": 2, "nodes": [
      {"id": 0, "kind": "input", "parents": [], "shape": [2]},
      {"id": 1, "kind": "relu", "parents": [2], "shape": [2]},
      {"id": 2, "kind": "exp", "parents": [1], "shape": [2]}]})";
  expect_user_error([&] { load_graph_json(forward); }, "[relu] node 1: ", {"parent 2 is not an earlier node"});
  // Shapes are the checker's too.
  expect_user_error([] { load_graph_json(with_node1(R"({"id": 1, "kind": "relu", "parents": [0], "shape": [4]})")); },
                    "[relu] node 1: ", {"(4)", "(1,4,4)"});
}

TEST(GraphJson, WriterRejectsValuesOutsideTheSchema) {
  ir::Graph g;
  g.add(OpKind::rand_uniform, {}, ir::SeedAttrs{-1}, Shape{2});
  g.input_ids = {0};
  g.output_ids = {0};
  expect_user_error([&] { write_graph_json(g); }, "graph_json: node 0 (rand_uniform) seed: ", {"negative value -1"});
  g.nodes[0] = ir::Node{0, {}, OpKind::batch_norm2d_nchw_eval, ir::BatchNormAttrs{1}, Shape{1, 1, 1, 1}};
  ir::Payload p;
  p[0].emplace("eps", Tensor<double>(Shape{2}, std::vector<double>{1e-5, 1e-5}));
  expect_user_error([&] { write_graph_json(g, p); }, "graph_json: node 0 (batch_norm2d_nchw_eval): ",
                    {"eps must be one finite number"});
  g.nodes[0] = ir::Node{3, {}, OpKind::input, ir::NoAttrs{}, Shape{1}};
  expect_user_error([&] { write_graph_json(g); }, "graph_json: node at position 0 has id 3", {});
}

}  // namespace
}  // namespace torchlean::io
