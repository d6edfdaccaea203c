// paramlist_bits: TorchLean's torchlean_paramlist_bits_v1 layout, with bit patterns taken from
// IEEE-754 binary64 (1.0 = 0x3FF0000000000000, -0.0 = 0x8000000000000000, ...).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "io_test_util.hpp"
#include "torchlean/io/paramlist_bits.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::io {
namespace {

using ir::OpKind;
using test::expect_user_error;

// 1.0, -0.0, 0.1 (0x3FB999999999999A), a NaN with payload 1 (0x7FF8000000000001), +inf
// (0x7FF0000000000000) and the smallest subnormal (bits 1).
const char* kDoc = R"({
  "format": "torchlean_paramlist_bits_v1",
  "params": [
    { "shape": [2, 2], "values": [4607182418800017408, 9223372036854775808, 4591870180066957722, 9221120237041090561] },
    { "shape": [], "values": [9218868437227405312] },
    { "shape": [1], "values": [1] },
    { "shape": [0, 3], "values": [] }
  ]
})";

TEST(ParamlistBits, ReadsTheDocumentedLayout) {
  const std::vector<Tensor<double>> ps = read_paramlist_bits(kDoc);
  ASSERT_EQ(ps.size(), 4u);
  EXPECT_EQ(ps[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(ps[0][0], 1.0);
  EXPECT_EQ(test::bits(ps[0][1]), 0x8000000000000000ull);
  EXPECT_EQ(ps[0][2], 0.1);
  EXPECT_EQ(test::bits(ps[0][3]), 0x7FF8000000000001ull);  // NaN payload kept
  EXPECT_EQ(ps[1].shape(), Shape{});
  EXPECT_EQ(ps[1][0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(ps[2][0], std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(ps[3].shape(), (Shape{0, 3}));
}

TEST(ParamlistBits, WritesBitsAsNaturals) {
  const std::vector<Tensor<double>> ps = read_paramlist_bits(kDoc);
  const std::string text = write_paramlist_bits(ps);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("format"), "torchlean_paramlist_bits_v1");
  EXPECT_EQ(j.at("params")[0].at("shape"), nlohmann::json::parse("[2, 2]"));
  EXPECT_EQ(j.at("params")[0].at("values")[0].get<uint64_t>(), 4607182418800017408ull);
  EXPECT_EQ(j.at("params")[0].at("values")[3].get<uint64_t>(), 9221120237041090561ull);
  const std::vector<Tensor<double>> back = read_paramlist_bits(text);
  ASSERT_EQ(back.size(), ps.size());
  for (size_t i = 0; i < ps.size(); ++i) test::expect_same_bits(back[i], ps[i]);
}

TEST(ParamlistBits, ExpectedShapesAsInTorchLean) {
  const std::vector<Shape> want{Shape{2, 2}, Shape{}, Shape{1}, Shape{0, 3}};
  EXPECT_EQ(read_paramlist_bits(kDoc, want).size(), 4u);
  const std::vector<Shape> other{Shape{2, 2}, Shape{1}, Shape{1}, Shape{0, 3}};
  expect_user_error([&] { read_paramlist_bits(kDoc, other); },
                    "paramlist_bits: params[1]: shape mismatch (file (), expected (1))", {});
  expect_user_error([&] { read_paramlist_bits(kDoc, std::span(want).first(3)); },
                    "paramlist_bits: expected 3 parameters, the file has 4", {});
}

TEST(ParamlistBits, PayloadOrderMatchesTheGraph) {
  ir::Graph g;
  g.add(OpKind::input, {}, ir::NoAttrs{}, Shape{2});
  g.add(OpKind::linear, {0}, ir::NoAttrs{}, Shape{3});
  g.add(OpKind::constant, {}, ir::ConstAttrs{Shape{3}}, Shape{3});
  g.add(OpKind::add, {1, 2}, ir::NoAttrs{}, Shape{3});
  g.input_ids = {0};
  g.output_ids = {3};
  const std::vector<Tensor<double>> ps{Tensor<double>(Shape{3, 2}, std::vector<double>{1, 2, 3, 4, 5, 6}),
                                       Tensor<double>(Shape{3}, std::vector<double>{-1, -2, -3}),
                                       Tensor<double>(Shape{3}, std::vector<double>{0.5, 0.25, 0.125})};
  const ir::Payload p = payload_from_paramlist(g, read_paramlist_bits(write_paramlist_bits(ps)));
  EXPECT_EQ(p.at(1).at("weight").vec(), ps[0].vec());
  EXPECT_EQ(p.at(1).at("bias").vec(), ps[1].vec());
  EXPECT_EQ(p.at(2).at("value").vec(), ps[2].vec());
  EXPECT_NO_THROW(ir::check_payload(g, p));
  const std::vector<Tensor<double>> again = paramlist_from_payload(g, p);
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 0; i < 3; ++i) test::expect_same_bits(again[i], ps[i]);
  expect_user_error([&] { payload_from_paramlist(g, std::span(ps).first(2)); },
                    "paramlist_bits: ran out of tensors after 2: node 2 (const) still needs slot `value`", {});
  expect_user_error([&] { payload_from_paramlist(g, std::vector<Tensor<double>>{ps[1], ps[0], ps[2]}); },
                    "paramlist_bits: params[0] has shape (3) but node 1 (linear) slot `weight` needs (3,2)", {});
  ir::Payload missing = p;
  missing.at(1).erase("bias");
  expect_user_error([&] { paramlist_from_payload(g, missing); }, "paramlist_bits: node 1 (linear) has no payload slot `bias`",
                    {});
}

TEST(ParamlistBits, Errors) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"params": []})", "paramlist_bits: root: missing field `format`"},
      {R"({"format": "torchlean_paramlist_bits_v2", "params": []})",
       "paramlist_bits: root.format: unsupported format \"torchlean_paramlist_bits_v2\""},
      {R"({"format": 1, "params": []})", "paramlist_bits: root.format: expected a string, got 1"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": {}})", "paramlist_bits: params: expected an array"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"values": []}]})",
       "paramlist_bits: params[0]: missing field `shape`"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [2]}]})",
       "paramlist_bits: params[0]: missing field `values`"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [2], "values": [1]}]})",
       "paramlist_bits: params[0]: shape (2) needs 2 values, got 1"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [1], "values": [-1]}]})",
       "paramlist_bits: params[0].values[0]: expected a natural number below 2^64"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [1], "values": [18446744073709551616]}]})",
       "paramlist_bits: params[0].values[0]: float bits 1.8446744073709552e+19 out of range (expected < 2^64)"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [1], "values": [1.5]}]})",
       "paramlist_bits: params[0].values[0]: expected a natural number below 2^64"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [1], "values": ["1"]}]})",
       "paramlist_bits: params[0].values[0]: expected a natural number below 2^64 (IEEE-754 binary64 bits), got \"1\""},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [-1], "values": []}]})",
       "paramlist_bits: params[0].shape[0]: expected a natural number, got -1"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [4294967296, 4294967296, 4294967296], "values": []}]})",
       "paramlist_bits: params[0].shape: element count of shape (4294967296,4294967296,4294967296) overflows"},
      {R"({"format": "torchlean_paramlist_bits_v1", "params": [3]})", "paramlist_bits: params[0]: expected an object, got 3"},
      {R"({"format": "torchlean_paramlist_bits_v1")", "paramlist_bits: malformed JSON"},
  };
  for (const auto& [text, prefix] : bad) {
    SCOPED_TRACE(text);
    expect_user_error([&] { read_paramlist_bits(text); }, prefix, {});
  }
  // TorchLean reads a missing params list as empty.
  EXPECT_TRUE(read_paramlist_bits(R"({"format": "torchlean_paramlist_bits_v1"})").empty());
  // The largest value, all 64 bits set, is a NaN bit pattern and is accepted.
  const auto max = read_paramlist_bits(
      R"({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [1], "values": [18446744073709551615]}]})");
  EXPECT_EQ(test::bits(max[0][0]), 0xFFFFFFFFFFFFFFFFull);
}

TEST(ParamlistBits, Files) {
  test::TempDir dir;
  const std::vector<Tensor<double>> ps = read_paramlist_bits(kDoc);
  write_paramlist_bits_file(dir.path() / "p.json", ps);
  const std::vector<Tensor<double>> back = read_paramlist_bits_file(dir.path() / "p.json");
  ASSERT_EQ(back.size(), ps.size());
  test::expect_same_bits(back[0], ps[0]);
  expect_user_error([&] { read_paramlist_bits_file(dir.path() / "none.json"); }, "paramlist_bits: cannot open", {});
}

}  // namespace
}  // namespace torchlean::io
