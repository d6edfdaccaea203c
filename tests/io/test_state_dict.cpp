// state_dict: TorchLean's MLP/CNN/Transformer fixtures, mapping onto graphs, and error paths.
// Expected numbers are copied from the fixture files in ../shared/data/torchlean/Interop/PyTorch.
#include <gtest/gtest.h>

#include "io_test_util.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/state_dict.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::io {
namespace {

using ir::OpKind;
using test::expect_user_error;

std::filesystem::path fixture(const char* rel) { return test::shared_data() / "torchlean/Interop/PyTorch" / rel; }

// input (2) -> linear (3) -> relu -> linear (1), TorchLean's MLP fixture architecture.
ir::Graph mlp_graph() {
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{2});
  g.add(OpKind::linear, {0}, ir::NoAttrs{}, Shape{3});
  g.add(OpKind::relu, {1}, ir::NoAttrs{}, Shape{3});
  g.add(OpKind::linear, {2}, ir::NoAttrs{}, Shape{1});
  g.input_ids = {0};
  g.output_ids = {3};
  return g;
}

TEST(StateDict, ReadsTorchLeanMlpFixture) {
  const StateDict sd = read_state_dict_file(fixture("MLP/mlp.json"));
  ASSERT_EQ(sd.params.size(), 4u);
  EXPECT_EQ(sd.params[0].first, "layers.0.weight");  // file order, not sorted
  EXPECT_EQ(sd.params[1].first, "layers.0.bias");
  EXPECT_EQ(sd.params[2].first, "layers.2.weight");
  EXPECT_EQ(sd.params[3].first, "layers.2.bias");
  EXPECT_EQ(sd.params[0].second.shape(), (Shape{3, 2}));
  EXPECT_EQ(sd.params[0].second.vec(),
            (std::vector<double>{0.028833430260419846, 0.10097555816173553, -0.08230451494455338,
                                 -0.07359390705823898, -0.03851543739438057, 0.026815736666321754}));
  EXPECT_EQ(sd.params[3].second.vec(), std::vector<double>{0.9832008481025696});
  EXPECT_EQ(sd.meta.at("format"), "TorchLean.MLP");
  EXPECT_EQ(sd.meta.at("dtype"), "float32");
  // The fixture says float32: every decimal must parse to a binary32 value exactly.
  for (const auto& [key, t] : sd.params)
    for (double x : t.vec()) EXPECT_EQ(static_cast<double>(static_cast<float>(x)), x) << key;
}

TEST(StateDict, MapsMlpFixtureOntoLinearReluLinear) {
  const ir::Payload p = payload_from_state_dict(mlp_graph(), read_state_dict_file(fixture("MLP/mlp.json")));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p.at(1).at("weight").shape(), (Shape{3, 2}));
  EXPECT_EQ(p.at(1).at("weight")[1], 0.10097555816173553);
  EXPECT_EQ(p.at(1).at("bias").vec(),
            (std::vector<double>{0.057182908058166504, 0.07928895205259323, -0.00887440424412489}));
  EXPECT_EQ(p.at(3).at("weight").vec(),
            (std::vector<double>{0.11024449020624161, -0.030221307650208473, -0.01965653896331787}));
  EXPECT_EQ(p.at(3).at("bias").vec(), std::vector<double>{0.9832008481025696});
  EXPECT_NO_THROW(ir::check_payload(mlp_graph(), p));
}

TEST(StateDict, MapsCnnFixtureOntoConvGraph) {
  // (1,6,6) -> conv 1->2 3x3 -> relu -> conv 2->2 3x3 -> relu -> flatten (8) -> linear (2).
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{1, 6, 6});
  g.add(OpKind::conv2d, {0}, ir::Conv2dAttrs{1, 2, 3, 3, 1, 0}, Shape{2, 4, 4});
  g.add(OpKind::relu, {1}, ir::NoAttrs{}, Shape{2, 4, 4});
  g.add(OpKind::conv2d, {2}, ir::Conv2dAttrs{2, 2, 3, 3, 1, 0}, Shape{2, 2, 2});
  g.add(OpKind::relu, {3}, ir::NoAttrs{}, Shape{2, 2, 2});
  g.add(OpKind::flatten, {4}, ir::FlattenAttrs{Shape{2, 2, 2}}, Shape{8});
  g.add(OpKind::linear, {5}, ir::NoAttrs{}, Shape{2});
  g.input_ids = {0};
  g.output_ids = {6};
  const ir::Payload p = payload_from_state_dict(g, read_state_dict_file(fixture("CNN/cnn.json")));
  EXPECT_EQ(p.at(1).at("weight").shape(), (Shape{2, 1, 3, 3}));
  EXPECT_EQ(p.at(1).at("weight")[17], 0.030961571261286736);  // conv1.weight[1][0][2][2], OIHW
  EXPECT_EQ(p.at(3).at("weight")[1 * 18 + 1 * 9], 0.05256794020533562);  // conv2.weight[1][1][0][0]
  EXPECT_EQ(p.at(3).at("bias").vec(), (std::vector<double>{0.04227004572749138, -0.006740996614098549}));
  EXPECT_EQ(p.at(6).at("weight")[15], 0.039174601435661316);  // fc.weight[1][7]
  EXPECT_EQ(p.at(6).at("bias")[0], 0.08506204932928085);
  EXPECT_NO_THROW(ir::check_payload(g, p));
}

TEST(StateDict, TransformerFixtureReadsButDoesNotFitAnMlp) {
  const StateDict sd = read_state_dict_file(fixture("Transformer/transformer_encoder.json"));
  ASSERT_EQ(sd.params.size(), 12u);
  EXPECT_EQ(sd.params[0].first, "Wq");
  EXPECT_EQ(sd.params[11].first, "norm2_beta");
  EXPECT_EQ(sd.meta.at("format"), "TorchLean.TransformerEncoder");
  // Wq (2,2) lands on the first linear's weight (3,2).
  expect_user_error([&] { payload_from_state_dict(mlp_graph(), sd); },
                    "state_dict: key \"Wq\" has shape (2,2) but node 1 (linear) slot `weight` needs (3,2)", {});
}

StateDict mlp_dict() { return read_state_dict_file(fixture("MLP/mlp.json")); }

TEST(StateDict, CountAndShapeMismatches) {
  StateDict fewer = mlp_dict();
  fewer.params.pop_back();
  expect_user_error([&] { payload_from_state_dict(mlp_graph(), fewer); }, "state_dict: ran out of tensors after 3: ",
                    {"node 3 (linear) still needs slot `bias` of shape (1)"});
  StateDict more = mlp_dict();
  more.params.emplace_back("extra.weight", Tensor<double>(Shape{1}, std::vector<double>{1}));
  expect_user_error([&] { payload_from_state_dict(mlp_graph(), more); },
                    "state_dict: key \"extra.weight\" is left over", {"take 4 tensors, the input has 5"});
  StateDict swapped = mlp_dict();
  std::swap(swapped.params[0], swapped.params[1]);
  expect_user_error([&] { payload_from_state_dict(mlp_graph(), swapped); },
                    "state_dict: key \"layers.0.bias\" has shape (3) but node 1 (linear) slot `weight` needs (3,2)", {});
  // A broken graph gets the checker's message before any mapping.
  ir::Graph bad = mlp_graph();
  bad.nodes[2].shape = Shape{4};
  expect_user_error([&] { payload_from_state_dict(bad, mlp_dict()); }, "[relu] node 2: ", {});
}

TEST(StateDict, BatchNormTakesEpsFromTheBasePayloadAndSkipsTheCounter) {
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{1, 2, 2, 2});
  g.add(OpKind::batch_norm2d_nchw_eval, {0}, ir::BatchNormAttrs{2}, Shape{1, 2, 2, 2});
  g.input_ids = {0};
  g.output_ids = {1};
  const StateDict sd = read_state_dict(R"({"params": {
      "bn.weight": [1.0, 2.0], "bn.bias": [0.5, -0.5], "bn.running_mean": [0.0, 1.0],
      "bn.running_var": [4.0, 9.0], "bn.num_batches_tracked": 10}})");
  expect_user_error([&] { payload_from_state_dict(g, sd); }, "state_dict: node 1 (batch_norm2d_nchw_eval) has no eps", {});
  ir::Payload base;
  base[1].emplace("eps", Tensor<double>(Shape{}, std::vector<double>{1e-5}));
  const ir::Payload p = payload_from_state_dict(g, sd, base);
  EXPECT_EQ(p.at(1).at("gamma").vec(), (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(p.at(1).at("var").vec(), (std::vector<double>{4.0, 9.0}));
  EXPECT_EQ(p.at(1).at("eps")[0], 1e-5);
  EXPECT_NO_THROW(ir::check_payload(g, p));
}

TEST(StateDict, BareDictScalarsAndEmptyArrays) {
  const StateDict sd = read_state_dict(R"({"b": [[[1, 2]], [[3, 4]]], "s": -2.5, "e": [], "z": [[], []]})");
  ASSERT_EQ(sd.params.size(), 4u);
  EXPECT_EQ(sd.params[0].second.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(sd.params[0].second.vec(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(sd.params[1].second.shape(), Shape{});
  EXPECT_EQ(sd.params[1].second[0], -2.5);
  EXPECT_EQ(sd.params[2].second.shape(), Shape{0});
  EXPECT_EQ(sd.params[3].second.shape(), (Shape{2, 0}));
  EXPECT_TRUE(sd.meta.is_null());
}

TEST(StateDict, RoundTrips) {
  test::TempDir dir;
  StateDict sd = mlp_dict();
  sd.params.emplace_back("tiny", Tensor<double>(Shape{2}, std::vector<double>{5e-324, -0.0}));
  write_state_dict_file(dir.path() / "sd.json", sd);
  const StateDict back = read_state_dict_file(dir.path() / "sd.json");
  ASSERT_EQ(back.params.size(), sd.params.size());
  for (size_t i = 0; i < sd.params.size(); ++i) {
    EXPECT_EQ(back.params[i].first, sd.params[i].first);
    test::expect_same_bits(back.params[i].second, sd.params[i].second);
  }
  EXPECT_EQ(back.meta, sd.meta);
  StateDict nan;
  nan.params.emplace_back("n", Tensor<double>(Shape{1}, std::vector<double>{NAN}));
  expect_user_error([&] { write_state_dict(nan); }, "state_dict: params.\"n\": cannot write non-finite", {});
  StateDict lossy;
  lossy.params.emplace_back("z", Tensor<double>(Shape{0, 3}));
  expect_user_error([&] { write_state_dict(lossy); }, "state_dict: params.\"z\": shape (0,3) has a zero dim", {});
}

TEST(StateDict, Errors) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"params": {"w": [[1, 2], [3]]}})", "state_dict: params.\"w\"[1]: expected an array of 2 like its siblings"},
      {R"({"params": {"w": [[1, 2], 3]}})", "state_dict: params.\"w\"[1]: expected an array of 2"},
      {R"({"params": {"w": [1, [2]]}})", "state_dict: params.\"w\"[1]: expected a number, got an array of 1"},
      {R"({"params": {"w": [1, "2"]}})", "state_dict: params.\"w\"[1]: expected a number, got \"2\""},
      {R"({"params": {"w": [true]}})", "state_dict: params.\"w\"[0]: expected a number, got true"},
      {R"({"params": {"w": null}})", "state_dict: params.\"w\": expected a number, got null"},
      {R"({"params": {"w": {"a": 1}}})", "state_dict: params.\"w\": expected a number, got an object"},
      {R"({"params": {"w": [1e999]}})", "state_dict: malformed JSON: [json.exception.out_of_range.406] number overflow parsing '1e999'"},
      {R"({"params": [1, 2]})", "state_dict: params: expected an object, got an array of 2"},
      {R"({"params": {}, "extra": 1})", "state_dict: root: unexpected top-level key \"extra\""},
      {R"([1])", "state_dict: root: expected an object"},
      {R"({"params": {"w": [1,)", "state_dict: malformed JSON"},
      {R"({"params": {"w": 1, "w": 2}})", "state_dict: duplicate key \"w\""},
  };
  for (const auto& [text, prefix] : bad) {
    SCOPED_TRACE(text);
    expect_user_error([&] { read_state_dict(text); }, prefix, {});
  }
  expect_user_error([] { read_state_dict("{\"w\": " + std::string(40, '[') + "1" + std::string(40, ']') + "}"); },
                    "state_dict: params.\"w\": nested arrays of rank 40 exceed the limit of 32", {});
  expect_user_error([] { read_state_dict_file("/nonexistent/sd.json"); }, "state_dict: cannot open", {});
}

}  // namespace
}  // namespace torchlean::io
