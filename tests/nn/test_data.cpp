// Datasets and loaders: IDX (raw and gzipped; every element type; error paths), CSV, NPY pairs,
// seeded permutations (expected orders from an independent Python SplitMix64/Fisher-Yates, see
// the comment at SeededPermutation) and batching.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/npy.hpp"
#include "torchlean/nn/dataset.hpp"
#include "torchlean/nn/idx.hpp"

namespace torchlean::nn {
namespace {

using Bytes = std::vector<uint8_t>;

std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("torchlean_test_nn_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

Bytes gzip(const Bytes& raw) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Bytes out(deflateBound(&zs, raw.size()) + 64);
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Idx, ReadsUbyteImages) {
  // magic 00 00 08 03, dims 2 x 1 x 3, six pixels.
  const Bytes b = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 1, 2, 253, 254, 255};
  const Tensor<float> t = read_idx(b);
  EXPECT_EQ(t.shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(t.vec(), (std::vector<float>{0, 1, 2, 253, 254, 255}));
}

TEST(Idx, ReadsEveryElementTypeBigEndian) {
  EXPECT_EQ(read_idx(Bytes{0, 0, 9, 1, 0, 0, 0, 2, 0xff, 0x7f}).vec(),
            (std::vector<float>{-1, 127}));
  EXPECT_EQ(read_idx(Bytes{0, 0, 0x0B, 1, 0, 0, 0, 1, 0x80, 0x00}).vec(),
            (std::vector<float>{-32768}));
  EXPECT_EQ(read_idx(Bytes{0, 0, 0x0C, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe}).vec(),
            (std::vector<float>{-2}));
  // 0x3fc00000 = 1.5f; 0xc004000000000000 = -2.5.
  EXPECT_EQ(read_idx(Bytes{0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0}).vec(),
            (std::vector<float>{1.5f}));
  EXPECT_EQ(read_idx(Bytes{0, 0, 0x0E, 1, 0, 0, 0, 1, 0xc0, 0x04, 0, 0, 0, 0, 0, 0}).vec(),
            (std::vector<float>{-2.5f}));
  // A rank-0 file holds one element.
  EXPECT_EQ(read_idx(Bytes{0, 0, 8, 0, 7}).shape(), Shape{});
}

TEST(Idx, ErrorsNameTheProblem) {
  EXPECT_EQ(error_of([] { read_idx(Bytes{0, 0}); }), "idx: file of 2 bytes has no magic");
  EXPECT_EQ(error_of([] {
              read_idx(Bytes{1, 0, 8, 1});
            }),
            "idx: bad magic: first two bytes are 1 0, expected 0 0");
  EXPECT_EQ(error_of([] {
              read_idx(Bytes{0, 0, 7, 1, 0, 0, 0, 1, 0});
            }),
            "idx: unknown element type 0x07");
  EXPECT_EQ(error_of([] {
              read_idx(Bytes{0, 0, 8, 2, 0, 0, 0, 1});
            }),
            "idx: header declares 2 dims but the file has only 8 bytes");
  EXPECT_EQ(error_of([] {
              read_idx(Bytes{0, 0, 8, 1, 0, 0, 0, 3, 1, 2});
            }),
            "idx: shape (3) needs 3 data bytes, file has 2");
  EXPECT_EQ(error_of([] {
              read_idx(Bytes{0, 0, 8, 1, 0, 0, 0, 1, 1, 2});
            }),
            "idx: shape (1) needs 1 data bytes, file has 2");
  EXPECT_EQ(error_of([] {
              read_idx(Bytes{0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1});
            }),
            "idx: shape (4294967295)... has more than 2147483648 elements");
  // 65536 x 65536 = 2^32 elements: refused before any allocation.
  EXPECT_EQ(error_of([] {
              read_idx(Bytes{0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2});
            }),
            "idx: shape (65536,65536)... has more than 2147483648 elements");
  // int32 2^24 + 1 is not a binary32 value: refused, never rounded.
  EXPECT_EQ(error_of([] {
              read_idx(Bytes{0, 0, 0x0C, 1, 0, 0, 0, 1, 0x01, 0, 0, 1});
            }),
            "idx: element 0 (16777217.000000) is not exactly representable in binary32");
}

TEST(Idx, GzipFilesAndTheirErrors) {
  const auto dir = temp_dir("idx_gz");
  const Bytes raw = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 10, 20, 30, 40};
  io::write_file_bytes(dir / "a.idx.gz", gzip(raw), "test");
  EXPECT_EQ(read_idx_file(dir / "a.idx.gz").vec(), (std::vector<float>{10, 20, 30, 40}));
  // Two concatenated gzip members are one stream (what `cat a.gz b.gz` gives).
  Bytes half1(raw.begin(), raw.begin() + 7), half2(raw.begin() + 7, raw.end());
  Bytes two = gzip(half1), g2 = gzip(half2);
  two.insert(two.end(), g2.begin(), g2.end());
  EXPECT_EQ(io::gunzip(two, 1 << 20, "t"), raw);
  Bytes gz = gzip(raw);
  Bytes cut(gz.begin(), gz.end() - 9);
  EXPECT_EQ(error_of([&] { io::gunzip(cut, 1 << 20, "t"); }).rfind("t: truncated gzip stream", 0),
            0u);
  Bytes bad = gz;
  bad[bad.size() - 6] ^= 0xff;  // the CRC-32 of the trailer
  EXPECT_EQ(error_of([&] { io::gunzip(bad, 1 << 20, "t"); }),
            "t: corrupt gzip stream: incorrect data check");
  EXPECT_EQ(error_of([&] { io::gunzip(gz, 8, "t"); }), "t: inflated data larger than 8 bytes");
  EXPECT_EQ(error_of([&] { read_idx_file(dir / "missing.gz"); }).rfind("idx: cannot open", 0), 0u);
}

TEST(Idx, WriteReadRoundTrip) {
  Tensor<float> t(Shape{2, 2}, std::vector<float>{0, 1, 254, 255});
  EXPECT_EQ(read_idx(write_idx(t, true)).vec(), t.vec());
  Tensor<float> f(Shape{3}, std::vector<float>{-1.5f, 0.1f, 3e38f});
  EXPECT_EQ(read_idx(write_idx(f, false)).vec(), f.vec());
  EXPECT_EQ(error_of([] { write_idx(Tensor<float>(Shape{1}, std::vector<float>{0.5f}), true); }),
            "idx: value 0.500000 at 0 is not a ubyte");
}

TEST(Idx, FashionMnistFromDebian) {
  const std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir / "t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const Dataset test = load_idx_dataset(dir, "t10k");
  EXPECT_EQ(test.x.shape(), (Shape{10000, 28, 28}));
  EXPECT_EQ(test.y.shape(), (Shape{10000}));
  // Zalando's published test set starts with an ankle boot (class 9) and has 1000 per class.
  EXPECT_EQ(test.y[0], 9.0f);
  std::vector<int> counts(10, 0);
  for (float v : test.y.vec()) ++counts.at(static_cast<size_t>(v));
  for (int c : counts) EXPECT_EQ(c, 1000);
  for (float v : test.x.vec()) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
}

TEST(Csv, ParsesWithAndWithoutHeader) {
  Dataset d = parse_csv_dataset("a,b,label\n1,2,0\n3.5, -4 ,1\r\n\n");
  EXPECT_EQ(d.x.shape(), (Shape{2, 2}));
  EXPECT_EQ(d.x.vec(), (std::vector<float>{1, 2, 3.5f, -4}));
  EXPECT_EQ(d.y.vec(), (std::vector<float>{0, 1}));
  Dataset e = parse_csv_dataset("7,1,2\n8,3,4\n", 0);
  EXPECT_EQ(e.y.vec(), (std::vector<float>{7, 8}));
  EXPECT_EQ(e.x.vec(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Csv, Errors) {
  EXPECT_EQ(error_of([] { parse_csv_dataset("1,2\n3\n"); }),
            "csv: line 2 has 1 fields, expected 2");
  EXPECT_EQ(error_of([] { parse_csv_dataset("1,2\n3,x\n"); }),
            "csv: line 2 column 2: 'x' is not a number");
  EXPECT_EQ(error_of([] { parse_csv_dataset("1,2\n", 5); }),
            "csv: label column 5 is outside the 2 columns");
  EXPECT_EQ(error_of([] { parse_csv_dataset("h1,h2\n"); }), "csv: no data rows");
  EXPECT_EQ(error_of([] { parse_csv_dataset("5\n"); }),
            "csv: line 1 has 1 field(s); need features and a label");
}

TEST(Npy, LoadsPairsAndChecksThem) {
  const auto dir = temp_dir("npy");
  io::write_npy_file(dir / "x.npy",
                     Tensor<float>(Shape{3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6}));
  io::write_npy_file(dir / "y.npy", Tensor<double>(Shape{3}, std::vector<double>{0, 1, 0}));
  io::write_npy_file(dir / "y2.npy", Tensor<double>(Shape{2}, std::vector<double>{0, 1}));
  io::write_npy_file(dir / "y3.npy", Tensor<double>(Shape{3}, std::vector<double>{0, 0.1, 0}));
  const Dataset d = load_npy_dataset(dir / "x.npy", dir / "y.npy");
  EXPECT_EQ(d.example_shape(), Shape{2});
  EXPECT_EQ(d.y.vec(), (std::vector<float>{0, 1, 0}));
  EXPECT_NE(error_of([&] {
              load_npy_dataset(dir / "x.npy", dir / "y2.npy");
            }).find("features (3,2) and targets (2) must share the leading example dimension"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              load_npy_dataset(dir / "x.npy", dir / "y3.npy");
            }).find("value 0.100000 at index 1 is not exactly representable in binary32"),
            std::string::npos);
}

// Expected orders from an independent implementation (Python, run once):
//   SplitMix64 as in core/splitmix.hpp; for i = n-1 .. 1: draw r until r < 2^64-1 - (2^64-1) %
//   (i+1), swap p[i] and p[r % (i+1)].
TEST(Loader, SeededPermutationMatchesIndependentImplementation) {
  EXPECT_EQ(seeded_permutation(10, 42), (std::vector<int64_t>{0, 9, 5, 8, 6, 4, 7, 2, 1, 3}));
  EXPECT_EQ(seeded_permutation(7, 0), (std::vector<int64_t>{6, 3, 1, 5, 4, 0, 2}));
  EXPECT_TRUE(seeded_permutation(0, 1).empty());
}

TEST(Loader, BatchesAreDeterministicPerEpochAndPadded) {
  std::vector<float> xs, ys;
  for (int i = 0; i < 10; ++i)
    xs.push_back(static_cast<float>(i)), ys.push_back(static_cast<float>(i));
  const Dataset d{Tensor<float>(Shape{10, 1}, xs), Tensor<float>(Shape{10}, ys)};
  Loader a(d, 4, true, 3, true), b(d, 4, true, 3, true), keep(d, 4, false, 0, false);
  EXPECT_EQ(a.batches_per_epoch(), 2);
  EXPECT_EQ(keep.batches_per_epoch(), 3);
  std::vector<float> x(4), y(4), x2(4), y2(4);
  // The same (seed, epoch) gives the same batches, whatever was visited before.
  b.start_epoch(5);
  b.start_epoch(1);
  a.start_epoch(1);
  for (int64_t i = 0; i < 2; ++i) {
    a.fill(i, x.data(), y.data());
    b.fill(i, x2.data(), y2.data());
    EXPECT_EQ(x, x2);
    EXPECT_EQ(x, y);  // features and targets stay paired
  }
  a.start_epoch(0);
  a.fill(0, x2.data(), y2.data());
  a.start_epoch(1);
  a.fill(0, x.data(), y.data());
  EXPECT_NE(x, x2);  // epochs differ (a different order with these seeds)
  keep.start_epoch(0);
  EXPECT_EQ(keep.fill(2, x.data(), y.data()), 2);
  EXPECT_EQ(x, (std::vector<float>{8, 9, 0, 0}));
  EXPECT_EQ(error_of([&] { Loader(d, 0, false, 0, false); }),
            "loader: batch size 0 must be positive");
}

TEST(Dataset, TakeSlicesRows) {
  const Dataset d{Tensor<float>(Shape{3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6}),
                  Tensor<float>(Shape{3}, std::vector<float>{7, 8, 9})};
  const Dataset t = take(d, 1, 2);
  EXPECT_EQ(t.x.vec(), (std::vector<float>{3, 4, 5, 6}));
  EXPECT_EQ(t.y.vec(), (std::vector<float>{8, 9}));
  EXPECT_EQ(error_of([&] { take(d, 2, 2); }), "dataset: rows [2, 4) outside a dataset of 3");
}

}  // namespace
}  // namespace torchlean::nn
