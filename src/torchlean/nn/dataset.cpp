#include "torchlean/nn/dataset.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <numeric>

#include "torchlean/core/error.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/npy.hpp"
#include "torchlean/nn/idx.hpp"

namespace torchlean::nn {
namespace {

Shape drop_first(const Shape& s) {
  if (s.rank() == 0) return Shape{};
  return Shape(std::vector<int64_t>(s.dims().begin() + 1, s.dims().end()));
}

std::filesystem::path idx_path(const std::filesystem::path& dir, const std::string& name) {
  std::filesystem::path gz = dir / (name + ".gz");
  if (std::filesystem::exists(gz)) return gz;
  std::filesystem::path raw = dir / name;
  if (std::filesystem::exists(raw)) return raw;
  throw UserError("idx: neither '" + raw.string() + "' nor '" + gz.string() + "' exists");
}

Tensor<float> to_f32(const Tensor<double>& t, const std::string& what) {
  std::vector<float> v(t.vec().size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double d = t.vec()[i];
    if (!(d != d) && static_cast<double>(static_cast<float>(d)) != d)
      throw UserError(what + ": value " + std::to_string(d) + " at index " + std::to_string(i) +
                      " is not exactly representable in binary32");
    v[i] = static_cast<float>(d);
  }
  return Tensor<float>(t.shape(), std::move(v));
}

// One CSV field as a number (surrounding spaces allowed); false when it is not one.
bool parse_number(std::string_view f, double& out) {
  while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
  while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r'))
    f.remove_suffix(1);
  if (f.empty()) return false;
  if (f.front() == '+') f.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
  return ec == std::errc() && ptr == f.data() + f.size();
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Shape Dataset::example_shape() const { return drop_first(x.shape()); }
Shape Dataset::target_shape() const { return drop_first(y.shape()); }

void check_dataset(const Dataset& d, const std::string& what) {
  TL_USER_CHECK(
      d.x.shape().rank() >= 1 && d.y.shape().rank() >= 1 && d.x.shape()[0] == d.y.shape()[0],
      what + ": features " + d.x.shape().str() + " and targets " + d.y.shape().str() +
          " must share the leading example dimension");
}

Dataset load_idx_dataset(const std::filesystem::path& dir, const std::string& split) {
  Dataset d;
  d.x = read_idx_file(idx_path(dir, split + "-images-idx3-ubyte"));
  d.y = read_idx_file(idx_path(dir, split + "-labels-idx1-ubyte"));
  TL_USER_CHECK(d.x.shape().rank() == 3, "idx: images of split '" + split + "' have shape " +
                                             d.x.shape().str() + ", expected (N, H, W)");
  TL_USER_CHECK(d.y.shape().rank() == 1, "idx: labels of split '" + split + "' have shape " +
                                             d.y.shape().str() + ", expected (N)");
  check_dataset(d, "idx: split '" + split + "'");
  for (float& v : d.x.vec()) v = v / 255.0f;
  return d;
}

Dataset load_npy_dataset(const std::filesystem::path& x_path, const std::filesystem::path& y_path) {
  Dataset d;
  d.x = to_f32(io::read_npy_file(x_path), "npy: '" + x_path.string() + "'");
  d.y = to_f32(io::read_npy_file(y_path), "npy: '" + y_path.string() + "'");
  check_dataset(d, "npy: '" + x_path.string() + "' and '" + y_path.string() + "'");
  return d;
}

Dataset parse_csv_dataset(const std::string& text, int64_t label_column, const std::string& what) {
  std::vector<float> xs, ys;
  int64_t columns = -1, rows = 0, line_no = 0, label = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::vector<std::string_view> fields = split_fields(line);
    double v = 0;
    if (columns < 0) {
      columns = static_cast<int64_t>(fields.size());
      TL_USER_CHECK(columns >= 2, what + ": line " + std::to_string(line_no) + " has " +
                                      std::to_string(columns) +
                                      " field(s); need features and a label");
      label = label_column < 0 ? columns + label_column : label_column;
      TL_USER_CHECK(label >= 0 && label < columns,
                    what + ": label column " + std::to_string(label_column) + " is outside the " +
                        std::to_string(columns) + " columns");
      if (!parse_number(fields[0], v)) continue;  // a header row
    }
    TL_USER_CHECK(static_cast<int64_t>(fields.size()) == columns,
                  what + ": line " + std::to_string(line_no) + " has " +
                      std::to_string(fields.size()) + " fields, expected " +
                      std::to_string(columns));
    for (int64_t c = 0; c < columns; ++c) {
      std::string_view f = fields[static_cast<size_t>(c)];
      if (!parse_number(f, v))
        throw UserError(what + ": line " + std::to_string(line_no) + " column " +
                        std::to_string(c + 1) + ": '" + std::string(f.substr(0, 32)) +
                        "' is not a number");
      (c == label ? ys : xs).push_back(static_cast<float>(v));
    }
    ++rows;
  }
  TL_USER_CHECK(rows > 0, what + ": no data rows");
  Dataset d;
  d.x = Tensor<float>(Shape{rows, columns - 1}, std::move(xs));
  d.y = Tensor<float>(Shape{rows}, std::move(ys));
  return d;
}

Dataset load_csv_dataset(const std::filesystem::path& path, int64_t label_column) {
  return parse_csv_dataset(io::read_file_text(path, "csv"), label_column,
                           "csv: '" + path.string() + "'");
}

Dataset take(const Dataset& d, int64_t begin, int64_t count) {
  TL_USER_CHECK(begin >= 0 && count >= 0 && begin + count <= d.size(),
                "dataset: rows [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
                    ") outside a dataset of " + std::to_string(d.size()));
  auto slice = [&](const Tensor<float>& t) {
    const int64_t per = drop_first(t.shape()).numel();
    std::vector<int64_t> dims = t.shape().dims();
    dims[0] = count;
    std::vector<float> v(t.vec().begin() + begin * per, t.vec().begin() + (begin + count) * per);
    return Tensor<float>(Shape(dims), std::move(v));
  };
  return Dataset{slice(d.x), slice(d.y)};
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  SplitMix64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    // Unbiased draw in [0, i] by rejection (i + 1 never divides 2^64 evenly in general).
    const uint64_t bound = static_cast<uint64_t>(i) + 1;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do r = rng.next();
    while (r >= limit);
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(r % bound)]);
  }
  return p;
}

Loader::Loader(const Dataset& data, int64_t batch, bool shuffle, uint64_t seed, bool drop_last)
    : data_(data), batch_(batch), shuffle_(shuffle), drop_last_(drop_last), seed_(seed) {
  TL_USER_CHECK(batch > 0, "loader: batch size " + std::to_string(batch) + " must be positive");
  check_dataset(data, "loader");
}

int64_t Loader::batches_per_epoch() const {
  const int64_t n = data_.size();
  return drop_last_ ? n / batch_ : (n + batch_ - 1) / batch_;
}

void Loader::start_epoch(int64_t epoch) {
  if (epoch == epoch_) return;
  epoch_ = epoch;
  if (shuffle_) {
    // Each epoch's order is its own seed's permutation, so epoch e needs no earlier epochs.
    SplitMix64 mix(seed_ ^ (0x5851F42D4C957F2Dull * static_cast<uint64_t>(epoch + 1)));
    order_ = seeded_permutation(data_.size(), mix.next());
  } else {
    order_.resize(static_cast<size_t>(data_.size()));
    std::iota(order_.begin(), order_.end(), int64_t{0});
  }
}

int64_t Loader::fill(int64_t b, float* x, float* y) const {
  TL_INTERNAL_CHECK(epoch_ >= 0, "loader: fill before start_epoch");
  const int64_t xper = data_.example_shape().numel(), yper = data_.target_shape().numel();
  const int64_t first = b * batch_;
  const int64_t count = std::min(batch_, data_.size() - first);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t src = order_[static_cast<size_t>(first + i)];
    std::memcpy(x + i * xper, data_.x.vec().data() + src * xper, sizeof(float) * xper);
    std::memcpy(y + i * yper, data_.y.vec().data() + src * yper, sizeof(float) * yper);
  }
  std::fill(x + count * xper, x + batch_ * xper, 0.0f);
  std::fill(y + count * yper, y + batch_ * yper, 0.0f);
  return count;
}

}  // namespace torchlean::nn
