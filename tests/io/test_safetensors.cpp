// safetensors: hand-built files from the format description, round trips, payload keys, and
// every validation rule with its message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "io_test_util.hpp"
#include "torchlean/io/safetensors.hpp"

namespace torchlean::io {
namespace {

using test::expect_user_error;

// 8-byte little-endian length, the header text, then `data`.
std::vector<uint8_t> file(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// IEEE-754 little-endian bytes: 1.5f = 0x3FC00000, -2.0f = 0xC0000000, 0.1 = 0x3FB999999999999A.
const std::vector<uint8_t> kF32_1p5_m2 = {0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0};
const std::vector<uint8_t> kF64_0p1 = {0x9A, 0x99, 0x99, 0x99, 0x99, 0x99, 0xB9, 0x3F};

TEST(Safetensors, ReadsAHandBuiltFile) {
  std::vector<uint8_t> data = kF32_1p5_m2;
  data.insert(data.end(), kF64_0p1.begin(), kF64_0p1.end());
  const Safetensors st = read_safetensors(file(
      R"({"__metadata__": {"format": "pt"}, "b": {"dtype": "F64", "shape": [], "data_offsets": [8, 16]},
          "a": {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8]}}   )",
      data));
  EXPECT_EQ(st.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(st.tensors.size(), 2u);
  EXPECT_EQ(st.tensors[0].name, "a");  // data-offset order
  EXPECT_EQ(st.tensors[0].dtype, DType::f32);
  EXPECT_EQ(st.tensors[0].tensor.shape(), (Shape{2, 1}));
  EXPECT_EQ(st.tensors[0].tensor[0], 1.5);
  EXPECT_EQ(st.tensors[0].tensor[1], -2.0);
  EXPECT_EQ(st.tensors[1].name, "b");
  EXPECT_EQ(st.tensors[1].tensor.shape(), Shape{});
  EXPECT_EQ(st.tensors[1].tensor[0], 0.1);
}

TEST(Safetensors, WritesTheDocumentedLayout) {
  Safetensors st;
  st.tensors.push_back({"a", DType::f32, Tensor<double>(Shape{2}, std::vector<double>{1.5, -2.0})});
  const std::vector<uint8_t> bytes = write_safetensors(st);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<size_t>(i)];
  ASSERT_EQ(bytes.size(), 8 + n + 8);
  EXPECT_EQ((8 + n) % 8, 0u);  // data aligned like the reference writer
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  EXPECT_EQ(nlohmann::json::parse(header),
            nlohmann::json::parse(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})"));
  EXPECT_EQ(std::vector<uint8_t>(bytes.end() - 8, bytes.end()), kF32_1p5_m2);
}

TEST(Safetensors, PayloadRoundTripsBitExactly) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  ir::Payload p;
  p[1].emplace("weight", Tensor<double>(Shape{2, 3}, std::vector<double>{0.5, -0.0, tiny, -1e30f, INFINITY, NAN}));
  p[1].emplace("bias", Tensor<double>(Shape{2}, std::vector<double>{1, 2}));
  p[12].emplace("eps", Tensor<double>(Shape{}, std::vector<double>{1e-5f}));
  p[13].emplace("value", Tensor<double>(Shape{0, 4}, std::vector<double>{}));
  for (DType dt : {DType::f32, DType::f64}) {
    Safetensors st = payload_to_safetensors(p, dt);
    st.metadata["producer"] = "test";
    const Safetensors back = read_safetensors(write_safetensors(st));
    EXPECT_EQ(back.metadata, st.metadata);
    const ir::Payload q = payload_from_safetensors(back);
    ASSERT_EQ(q.size(), p.size());
    for (const auto& [id, slots] : p)
      for (const auto& [name, t] : slots) test::expect_same_bits(q.at(id).at(name), t);
    EXPECT_EQ(back.tensors[0].name, "1.bias");  // "<node_id>.<slot>"
  }
}

TEST(Safetensors, FilesRoundTrip) {
  test::TempDir dir;
  ir::Payload p;
  p[3].emplace("value", Tensor<double>(Shape{2}, std::vector<double>{0.1, 0.2}));
  write_safetensors_file(dir.path() / "p.safetensors", payload_to_safetensors(p, DType::f64));
  const ir::Payload q = payload_from_safetensors(read_safetensors_file(dir.path() / "p.safetensors"));
  test::expect_same_bits(q.at(3).at("value"), p.at(3).at("value"));
  expect_user_error([&] { read_safetensors_file(dir.path() / "none.safetensors"); }, "safetensors: cannot open", {});
}

TEST(Safetensors, WriterRefusesSilentRounding) {
  ir::Payload p;
  p[0].emplace("value", Tensor<double>(Shape{2}, std::vector<double>{0.5, 0.1}));
  expect_user_error([&] { write_safetensors(payload_to_safetensors(p, DType::f32)); },
                    "safetensors: tensor \"0.value\": ", {"0.1", "flat index 1", "not a binary32 value"});
  EXPECT_NO_THROW(write_safetensors(payload_to_safetensors(p, DType::f64)));
  Safetensors dup;
  dup.tensors.push_back({"x", DType::f64, Tensor<double>()});
  dup.tensors.push_back({"x", DType::f64, Tensor<double>()});
  expect_user_error([&] { write_safetensors(dup); }, "safetensors: tensor \"x\": duplicate tensor name", {});
}

TEST(Safetensors, PayloadKeysMustBeNodeDotSlot) {
  for (const char* key : {"weight", "x.weight", "3.", ".weight", "-1.w"}) {
    Safetensors st;
    st.tensors.push_back({key, DType::f64, Tensor<double>()});
    expect_user_error([&] { payload_from_safetensors(st); }, std::string("safetensors: tensor \"") + key + "\": ",
                      {"<node_id>.<slot>"});
  }
  Safetensors st;
  st.tensors.push_back({"3.weight", DType::f64, Tensor<double>()});
  st.tensors.push_back({"03.weight", DType::f64, Tensor<double>()});
  expect_user_error([&] { payload_from_safetensors(st); }, "safetensors: tensor \"03.weight\": duplicate", {});
}

TEST(Safetensors, HeaderBounds) {
  expect_user_error([] { read_safetensors(std::vector<uint8_t>{1, 2, 3}); }, "safetensors: ",
                    {"3 bytes is too short"});
  std::vector<uint8_t> huge(16, 0);
  huge[5] = 1;  // 2^40: refused before any allocation
  expect_user_error([&] { read_safetensors(huge); }, "safetensors: ", {"header length 1099511627776", "limit"});
  std::vector<uint8_t> past = file("{}", {});
  past[0] = 50;
  expect_user_error([&] { read_safetensors(past); }, "safetensors: ", {"header length 50 runs past the end"});
  expect_user_error([] { read_safetensors(file(" {}", {})); }, "safetensors: header: ", {"starting with '{'"});
  expect_user_error([] { read_safetensors(file("{\"a\": ", {})); }, "safetensors: malformed JSON", {});
  expect_user_error([] { read_safetensors(file("{\"a\": 1, \"a\": 2}", {})); }, "safetensors: duplicate key \"a\"", {});
  EXPECT_TRUE(read_safetensors(file("{}", {})).tensors.empty());
}

TEST(Safetensors, EntryValidation) {
  auto one = [](const std::string& entry, size_t data_bytes) {
    return read_safetensors(file("{\"t\": " + entry + "}", std::vector<uint8_t>(data_bytes, 0)));
  };
  expect_user_error([&] { one(R"({"dtype": "F16", "shape": [2], "data_offsets": [0, 4]})", 4); },
                    "safetensors: tensor \"t\".dtype: dtype \"F16\" is not supported (only F32 and F64)", {});
  expect_user_error([&] { one(R"({"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]})", 4); },
                    "safetensors: tensor \"t\".dtype: dtype \"BF16\" is not supported", {});
  expect_user_error([&] { one(R"({"dtype": "I64", "shape": [1], "data_offsets": [0, 8]})", 8); },
                    "safetensors: tensor \"t\".dtype: dtype \"I64\"", {});
  expect_user_error([&] { one(R"({"dtype": 32, "shape": [1], "data_offsets": [0, 4]})", 4); },
                    "safetensors: tensor \"t\".dtype: expected a string, got 32", {});
  expect_user_error([&] { one(R"({"shape": [1], "data_offsets": [0, 4]})", 4); },
                    "safetensors: tensor \"t\": missing field `dtype`", {});
  expect_user_error([&] { one(R"({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]})", 4); },
                    "safetensors: tensor \"t\".shape[0]: expected a natural number, got -1", {});
  expect_user_error([&] { one(R"({"dtype": "F32", "shape": [1], "data_offsets": [0]})", 4); },
                    "safetensors: tensor \"t\".data_offsets: expected [begin, end]", {});
  expect_user_error([&] { one(R"({"dtype": "F32", "shape": [1], "data_offsets": [4, 0]})", 4); },
                    "safetensors: tensor \"t\": data_offsets [4, 0] are reversed", {});
  expect_user_error([&] { one(R"({"dtype": "F32", "shape": [1], "data_offsets": [0, 8]})", 4); },
                    "safetensors: tensor \"t\": data_offsets end 8 is past the data section (4 bytes)", {});
  expect_user_error([&] { one(R"({"dtype": "F64", "shape": [1], "data_offsets": [0, 4]})", 4); },
                    "safetensors: tensor \"t\": F64 shape (1) needs 8 bytes, data_offsets give 4", {});
  expect_user_error([&] { one(R"({"dtype": "F32", "shape": [2147483648, 2147483648], "data_offsets": [0, 4]})", 4); },
                    "safetensors: tensor \"t\": ", {"more bytes than the file has"});
  expect_user_error([&] { one(R"({"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]})", 4); },
                    "safetensors: tensor \"t\": element count of shape (4294967296,4294967296) overflows", {});
  expect_user_error([&] { one(R"({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})", 8); },
                    "safetensors: data section has 8 bytes but the tensors cover 4", {});
  expect_user_error([&] { one("[]", 0); }, "safetensors: tensor \"t\": expected an object, got an array of 0", {});
  expect_user_error([] { read_safetensors(file(R"({"__metadata__": {"k": 1}})", {})); },
                    "safetensors: __metadata__.k: expected a string, got 1", {});
}

TEST(Safetensors, OffsetsMustTileTheData) {
  const std::string overlap = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                  "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})";
  expect_user_error([&] { read_safetensors(file(overlap, std::vector<uint8_t>(8, 0))); },
                    "safetensors: tensor \"b\": data_offsets begin 4 overlaps", {});
  const std::string gap = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                              "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})";
  expect_user_error([&] { read_safetensors(file(gap, std::vector<uint8_t>(12, 0))); },
                    "safetensors: tensor \"b\": data_offsets begin 8 leaves a gap", {});
  const std::string hole_at_start = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})";
  expect_user_error([&] { read_safetensors(file(hole_at_start, std::vector<uint8_t>(8, 0))); },
                    "safetensors: tensor \"a\": data_offsets begin 4 leaves a gap", {});
}

TEST(Safetensors, EveryTruncationIsRejected) {
  ir::Payload p;
  p[1].emplace("weight", Tensor<double>(Shape{2, 2}, std::vector<double>{1, 2, 3, 4}));
  const std::vector<uint8_t> bytes = write_safetensors(payload_to_safetensors(p, DType::f32));
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_THROW(read_safetensors(std::span(bytes.data(), n)), UserError) << "truncated to " << n;
}

}  // namespace
}  // namespace torchlean::io
