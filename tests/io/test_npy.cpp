// npy: files written by numpy (tests/io/data/make_npy.py, values are literals there), round trips
// and every validation rule with its message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "io_test_util.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/npy.hpp"

namespace torchlean::io {
namespace {

using test::expect_user_error;

std::filesystem::path data(const char* name) { return test::source_dir() / "tests" / "io" / "data" / name; }

TEST(Npy, ReadsNumpyFloat32) {
  const Tensor<float> t = read_npy_f32_file(data("f4_2x3.npy"));
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  const std::vector<float> want{1.5f, -2.0f, 0.25f, 3.0f, -0.0f, 1e-3f};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(test::bits(t.vec()[i]), test::bits(want[i])) << i;
  // Widened exactly by the binary64 reader.
  const Tensor<double> d = read_npy_file(data("f4_2x3.npy"));
  EXPECT_EQ(d[5], static_cast<double>(1e-3f));
  EXPECT_EQ(read_npy_header(read_file_bytes(data("f4_2x3.npy"), "npy")).dtype, NpyDType::f4);
}

TEST(Npy, ReadsNumpyFloat64SpecialValues) {
  const Tensor<double> t = read_npy_file(data("f8_special.npy"));
  ASSERT_EQ(t.shape(), Shape{6});
  EXPECT_EQ(t[0], 0.1);
  EXPECT_EQ(test::bits(t[1]), test::bits(-0.0));
  EXPECT_EQ(t[2], INFINITY);
  EXPECT_EQ(t[3], -INFINITY);
  EXPECT_TRUE(std::isnan(t[4]));
  EXPECT_EQ(t[5], std::numeric_limits<double>::denorm_min());
}

TEST(Npy, ReadsScalarsEmptyArraysAndLaterVersions) {
  const Tensor<double> s = read_npy_file(data("f8_scalar.npy"));
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s[0], 2.5);
  EXPECT_EQ(read_npy_file(data("f8_empty_0x3.npy")).shape(), (Shape{0, 3}));
  for (const char* name : {"f8_v2.npy", "f8_v3.npy"}) {
    const std::vector<uint8_t> bytes = read_file_bytes(data(name), "npy");
    EXPECT_EQ(read_npy_header(bytes).major_version, name[4] - '0');
    const Tensor<double> t = read_npy(bytes);
    EXPECT_EQ(t.shape(), (Shape{2, 2}));
    EXPECT_EQ(t.vec(), (std::vector<double>{1, 2, 3, 4}));
  }
}

TEST(Npy, ReadsIntegersExactly) {
  const Tensor<double> i8 = read_npy_file(data("i8_1d.npy"));
  EXPECT_EQ(i8.vec(), (std::vector<double>{-3, 0, 7, 9007199254740992.0}));
  const Tensor<double> i4 = read_npy_file(data("i4_2x2.npy"));
  EXPECT_EQ(i4.vec(), (std::vector<double>{1, -2, 2147483647.0, -2147483648.0}));
  expect_user_error([] { read_npy_file(data("i8_inexact.npy")); }, "npy: ",
                    {"i8_inexact.npy", "9007199254740993", "flat index 0", "not exactly representable"});
  expect_user_error([] { read_npy_f32_file(data("i4_2x2.npy")); }, "npy: ", {"expected dtype '<f4'"});
}

TEST(Npy, RejectsFortranOrderAndOtherDtypes) {
  expect_user_error([] { read_npy_file(data("f8_fortran.npy")); }, "npy: ", {"fortran_order=True"});
  expect_user_error([] { read_npy_file(data("f4_bigendian.npy")); }, "npy: ", {"dtype '>f4' is not supported"});
  expect_user_error([] { read_npy_file(data("f2_half.npy")); }, "npy: ", {"dtype '<f2' is not supported"});
  expect_user_error([] { read_npy_f32_file(data("f8_scalar.npy")); }, "npy: ", {"expected dtype '<f4'"});
}

TEST(Npy, RoundTrips) {
  const Tensor<double> d(Shape{2, 2}, std::vector<double>{0.1, -0.0, NAN, std::numeric_limits<double>::denorm_min()});
  test::expect_same_bits(read_npy(write_npy(d)), d);
  const Tensor<float> f(Shape{3}, std::vector<float>{1.5f, -INFINITY, std::numeric_limits<float>::denorm_min()});
  test::expect_same_bits(read_npy_f32(write_npy(f)), f);
  const Tensor<double> scalar(Shape{}, std::vector<double>{7});
  test::expect_same_bits(read_npy(write_npy(scalar)), scalar);
  const Tensor<double> empty(Shape{3, 0, 2});
  EXPECT_EQ(read_npy(write_npy(empty)).shape(), (Shape{3, 0, 2}));
  // numpy's layout: version 1.0, header padded with spaces to a 64-byte boundary, ending in '\n'.
  const std::vector<uint8_t> bytes = write_npy(d);
  const NpyHeader h = read_npy_header(bytes);
  EXPECT_EQ(h.major_version, 1);
  EXPECT_EQ(h.data_offset % 64, 0u);
  EXPECT_EQ(bytes[h.data_offset - 1], '\n');
  const std::string header(bytes.begin() + 10, bytes.begin() + static_cast<long>(h.data_offset));
  EXPECT_EQ(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 0), 0u);
  const std::vector<uint8_t> f_bytes = write_npy(f);
  const std::string one_d(f_bytes.begin() + 10, f_bytes.begin() + 70);
  EXPECT_NE(one_d.find("'shape': (3,)"), std::string::npos);
}

TEST(Npy, FilesRoundTrip) {
  test::TempDir dir;
  const Tensor<float> f(Shape{2}, std::vector<float>{0.5f, 2.0f});
  write_npy_file(dir.path() / "f.npy", f);
  test::expect_same_bits(read_npy_f32_file(dir.path() / "f.npy"), f);
  expect_user_error([&] { read_npy_file(dir.path() / "none.npy"); }, "npy: cannot open", {});
}

TEST(Npy, LongHeadersUseVersion2) {
  // 30000 unit dims need a header beyond version 1.0's 16-bit length.
  const Tensor<double> t(Shape(std::vector<int64_t>(30000, 1)), std::vector<double>{3.5});
  const std::vector<uint8_t> bytes = write_npy(t);
  EXPECT_EQ(read_npy_header(bytes).major_version, 2);
  EXPECT_EQ(read_npy(bytes).shape(), t.shape());
}

// A hand-written v1.0 file with header text `dict` (padded) and `data_bytes` zero bytes.
std::vector<uint8_t> npy_file(const std::string& dict, size_t data_bytes, uint8_t major = 1) {
  std::vector<uint8_t> out{0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
  out.push_back(static_cast<uint8_t>(dict.size() & 0xff));
  out.push_back(static_cast<uint8_t>(dict.size() >> 8));
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), data_bytes, 0);
  return out;
}

TEST(Npy, HeaderValidation) {
  const std::string ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
  EXPECT_EQ(read_npy(npy_file(ok, 16)).shape(), Shape{2});
  EXPECT_EQ(read_npy(npy_file("{\"descr\": \"<f8\", \"shape\": (2L,), \"fortran_order\": False}", 16)).shape(),
            Shape{2});
  expect_user_error([] { read_npy(std::vector<uint8_t>{'P', 'K', 3, 4, 0, 0, 0, 0}); }, "npy: not an NPY file", {});
  expect_user_error([&] { read_npy(npy_file(ok, 16, 4)); }, "npy: unsupported format version 4.0", {});
  expect_user_error([] { read_npy(std::vector<uint8_t>{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 1}); }, "npy: ",
                    {"truncated inside the header length"});
  std::vector<uint8_t> past = npy_file(ok, 0);
  past[8] = 0xff;
  expect_user_error([&] { read_npy(past); }, "npy: header length 255 runs past the end", {});
  std::vector<uint8_t> v2{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0, 0x40};
  expect_user_error([&] { read_npy(v2); }, "npy: header length 1073741824 exceeds the limit", {});
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{'descr': '<f8', 'fortran_order': False}", "missing key 'shape'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}", "expected a string, True, False or a tuple"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': True}", "unexpected key 'x'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': '<f8'}", "duplicate key 'descr'"},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}", "expected a string, True, False"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': [2]}", "found '[2]}'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}", "expected a non-negative integer"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}", "too large"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': 'x'}", "'shape' must be a tuple"},
      {"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,)}", "expected a string, True"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} extra", "expected end of header"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)", "expected ',' or '}'"},
      {"{'descr: '<f8'}", "expected ':'"},
      {"", "expected '{'"},
  };
  for (const auto& [dict, needle] : bad) {
    SCOPED_TRACE(dict);
    expect_user_error([&] { read_npy(npy_file(dict, 16)); }, "npy: ", {needle});
  }
}

TEST(Npy, DataSizeMustMatchTheShape) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
  expect_user_error([&] { read_npy(npy_file(dict, 20)); }, "npy: shape (2,3) of '<f4' needs 24 data bytes, the file has 20", {});
  expect_user_error([&] { read_npy(npy_file(dict, 28)); }, "npy: shape (2,3) of '<f4' needs 24 data bytes, the file has 28", {});
  const std::string huge = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }";
  expect_user_error([&] { read_npy(npy_file(huge, 8)); }, "npy: ", {"more bytes than the file has"});
  const std::vector<uint8_t> bytes = read_file_bytes(data("f4_2x3.npy"), "npy");
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_THROW(read_npy(std::span(bytes.data(), n)), UserError) << "truncated to " << n;
}

}  // namespace
}  // namespace torchlean::io
