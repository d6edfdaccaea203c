#include "torchlean/io/npy.hpp"

#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"

namespace torchlean::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

[[noreturn]] void fail(const std::string& p, const std::string& what) { throw UserError(p + ": " + what); }

// Printable excerpt of the header around position `i`, for messages.
std::string excerpt(std::string_view s, size_t i) {
  std::string out;
  for (size_t k = i; k < s.size() && out.size() < 24; ++k) {
    unsigned char c = static_cast<unsigned char>(s[k]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return "'" + out + "'";
}

// A value in the header dict: a string, a bool, or a tuple of non-negative integers.
struct Value {
  enum Kind { string, boolean, tuple } kind = string;
  std::string str;
  bool b = false;
  std::vector<int64_t> ints;
};

// Parser for the restricted Python literal numpy writes (and np.load's safe_eval accepts for
// plain dtypes): {'key': value, ...} with string, True/False and int-tuple values.
class HeaderParser {
 public:
  HeaderParser(std::string_view s, const std::string& p) : s_(s), p_(p) {}

  std::map<std::string, Value> parse() {
    std::map<std::string, Value> out;
    skip_ws();
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      Value v = parse_value();
      if (!out.emplace(key, std::move(v)).second) fail(p_, "header: duplicate key '" + key + "'");
      skip_ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      skip_ws();
      if (peek() != '}') error("',' or '}'");
    }
    skip_ws();
    if (i_ != s_.size()) error("end of header");
    return out;
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  [[noreturn]] void error(const std::string& expected) const {
    fail(p_, "header: expected " + expected + " at offset " + std::to_string(i_) + ", found " +
                 (i_ < s_.size() ? excerpt(s_, i_) : std::string("end of header")));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) error(std::string("'") + c + "'");
    ++i_;
  }
  std::string parse_string() {
    char q = peek();
    if (q != '\'' && q != '"') error("a quoted string");
    ++i_;
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') error("a string without escapes");
      ++i_;
    }
    if (i_ >= s_.size()) error(std::string("closing ") + q);
    std::string out(s_.substr(start, i_ - start));
    ++i_;
    return out;
  }
  int64_t parse_int() {
    size_t start = i_;
    int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      int d = s_[i_] - '0';
      if (v > (std::numeric_limits<int64_t>::max() - d) / 10)
        fail(p_, "header: dimension at offset " + std::to_string(start) + " is too large");
      v = v * 10 + d;
      ++i_;
    }
    if (i_ == start) error("a non-negative integer");
    if (peek() == 'L') ++i_;  // Python 2 long suffix, as old numpy wrote
    return v;
  }
  Value parse_value() {
    Value v;
    char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = Value::string;
      v.str = parse_string();
    } else if (s_.substr(i_, 4) == "True") {
      v.kind = Value::boolean;
      v.b = true;
      i_ += 4;
    } else if (s_.substr(i_, 5) == "False") {
      v.kind = Value::boolean;
      i_ += 5;
    } else if (c == '(') {
      ++i_;
      v.kind = Value::tuple;
      skip_ws();
      while (peek() != ')') {
        v.ints.push_back(parse_int());
        skip_ws();
        if (peek() == ',') {
          ++i_;
          skip_ws();
        } else if (peek() != ')') {
          error("',' or ')'");
        }
      }
      ++i_;
    } else {
      error("a string, True, False or a tuple of integers");
    }
    return v;
  }

  std::string_view s_;
  const std::string& p_;
  size_t i_ = 0;
};

size_t item_size(NpyDType t) { return t == NpyDType::f4 || t == NpyDType::i4 ? 4 : 8; }

NpyHeader header_impl(std::span<const uint8_t> bytes, const std::string& p) {
  if (bytes.size() < kMagicLen + 2 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0)
    fail(p, "not an NPY file (missing the \\x93NUMPY magic)");
  NpyHeader h;
  const int major = bytes[6], minor = bytes[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0))
    fail(p, "unsupported format version " + std::to_string(major) + "." + std::to_string(minor) +
                " (supported: 1.0, 2.0, 3.0)");
  h.major_version = major;
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) fail(p, "file is truncated inside the header length");
  const uint32_t hlen = major == 1 ? detail::load_le<uint16_t>(bytes.data() + 8)
                                   : detail::load_le<uint32_t>(bytes.data() + 8);
  if (hlen > kNpyMaxHeader)
    fail(p, "header length " + std::to_string(hlen) + " exceeds the limit of " + std::to_string(kNpyMaxHeader));
  const size_t start = 8 + len_bytes;
  if (hlen > bytes.size() - start)
    fail(p, "header length " + std::to_string(hlen) + " runs past the end of the file (" +
                std::to_string(bytes.size()) + " bytes)");
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + start), hlen);
  std::map<std::string, Value> dict = HeaderParser(text, p).parse();

  auto get = [&](const char* key, Value::Kind kind, const char* what) -> const Value& {
    auto it = dict.find(key);
    if (it == dict.end()) fail(p, std::string("header: missing key '") + key + "'");
    if (it->second.kind != kind) fail(p, std::string("header: '") + key + "' must be " + what);
    return it->second;
  };
  for (const auto& [k, v] : dict)
    if (k != "descr" && k != "fortran_order" && k != "shape")
      fail(p, "header: unexpected key '" + k + "' (expected exactly 'descr', 'fortran_order', 'shape')");
  const std::string& descr = get("descr", Value::string, "a string").str;
  if (descr == "<f4") h.dtype = NpyDType::f4;
  else if (descr == "<f8") h.dtype = NpyDType::f8;
  else if (descr == "<i4") h.dtype = NpyDType::i4;
  else if (descr == "<i8") h.dtype = NpyDType::i8;
  else fail(p, "dtype '" + descr + "' is not supported (supported: '<f4', '<f8', '<i4', '<i8')");
  if (get("fortran_order", Value::boolean, "True or False").b)
    fail(p, "fortran_order=True (column-major) arrays are not supported; save a C-order array");
  h.shape = Shape(get("shape", Value::tuple, "a tuple of integers").ints);
  h.data_offset = start + hlen;

  const size_t data = bytes.size() - h.data_offset;
  int64_t numel = 1;
  bool too_big = false;
  for (int64_t d : h.shape.dims()) {
    if (d == 0) {
      numel = 0;
      too_big = false;
      break;
    }
    if (too_big || numel > static_cast<int64_t>(data) / d) too_big = true;
    else numel *= d;
  }
  if (too_big || static_cast<size_t>(numel) * item_size(h.dtype) != data)
    fail(p, "shape " + h.shape.str() + " of '" + descr + "' needs " +
                (too_big ? std::string("more bytes than the file has")
                         : std::to_string(static_cast<size_t>(numel) * item_size(h.dtype)) + " data bytes") +
                ", the file has " + std::to_string(data));
  return h;
}

Tensor<double> read_impl(std::span<const uint8_t> bytes, const std::string& p) {
  const NpyHeader h = header_impl(bytes, p);
  const uint8_t* src = bytes.data() + h.data_offset;
  const size_t n = (bytes.size() - h.data_offset) / item_size(h.dtype);
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (h.dtype) {
      case NpyDType::f4: v[i] = detail::load_f32_le(src + 4 * i); break;
      case NpyDType::f8: v[i] = detail::load_f64_le(src + 8 * i); break;
      case NpyDType::i4: v[i] = static_cast<int32_t>(detail::load_le<uint32_t>(src + 4 * i)); break;
      case NpyDType::i8: {
        const int64_t x = static_cast<int64_t>(detail::load_le<uint64_t>(src + 8 * i));
        const double d = static_cast<double>(x);
        // 2^63 itself is out of int64 range, so test it before converting back.
        if (d >= 9223372036854775808.0 || static_cast<int64_t>(d) != x)
          fail(p, "int64 value " + std::to_string(x) + " at flat index " + std::to_string(i) +
                      " is not exactly representable in binary64");
        v[i] = d;
        break;
      }
    }
  }
  return Tensor<double>(h.shape, std::move(v));
}

Tensor<float> read_f32_impl(std::span<const uint8_t> bytes, const std::string& p) {
  const NpyHeader h = header_impl(bytes, p);
  if (h.dtype != NpyDType::f4) fail(p, "expected dtype '<f4' for a float32 tensor; use read_npy for other dtypes");
  const uint8_t* src = bytes.data() + h.data_offset;
  std::vector<float> v((bytes.size() - h.data_offset) / 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = detail::load_f32_le(src + 4 * i);
  return Tensor<float>(h.shape, std::move(v));
}

std::vector<uint8_t> write_impl(const Shape& shape, const char* descr, size_t count, size_t item) {
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.dims().size(); ++i) {
    if (i) dict += ", ";
    dict += std::to_string(shape.dims()[i]);
  }
  if (shape.dims().size() == 1) dict += ",";
  dict += "), }";
  // Pad with spaces and a final newline so that the data starts 64-byte aligned; version 2.0
  // only when the padded header does not fit version 1.0's 16-bit length.
  auto padded = [&](size_t len_bytes) {
    const size_t total = kMagicLen + 2 + len_bytes + dict.size() + 1;
    return dict.size() + 1 + (64 - total % 64) % 64;
  };
  size_t len_bytes = 2;
  int major = 1;
  if (padded(2) > 65535) {
    len_bytes = 4;
    major = 2;
  }
  dict.append(padded(len_bytes) - 1 - dict.size(), ' ');
  dict.push_back('\n');
  std::vector<uint8_t> out(kMagicLen + 2 + len_bytes + dict.size() + count * item);
  std::memcpy(out.data(), kMagic, kMagicLen);
  out[6] = static_cast<uint8_t>(major);
  out[7] = 0;
  if (major == 1) detail::store_le<uint16_t>(out.data() + 8, static_cast<uint16_t>(dict.size()));
  else detail::store_le<uint32_t>(out.data() + 8, static_cast<uint32_t>(dict.size()));
  std::memcpy(out.data() + 8 + len_bytes, dict.data(), dict.size());
  return out;
}

std::string file_prefix(const std::filesystem::path& path) { return "npy: " + path.string(); }

}  // namespace

NpyHeader read_npy_header(std::span<const uint8_t> bytes) { return header_impl(bytes, "npy"); }
Tensor<double> read_npy(std::span<const uint8_t> bytes) { return read_impl(bytes, "npy"); }
Tensor<double> read_npy_file(const std::filesystem::path& path) {
  return read_impl(read_file_bytes(path, "npy"), file_prefix(path));
}
Tensor<float> read_npy_f32(std::span<const uint8_t> bytes) { return read_f32_impl(bytes, "npy"); }
Tensor<float> read_npy_f32_file(const std::filesystem::path& path) {
  return read_f32_impl(read_file_bytes(path, "npy"), file_prefix(path));
}

std::vector<uint8_t> write_npy(const Tensor<double>& t) {
  std::vector<uint8_t> out = write_impl(t.shape(), "<f8", t.vec().size(), 8);
  uint8_t* dst = out.data() + out.size() - 8 * t.vec().size();
  for (double x : t.vec()) {
    detail::store_f64_le(dst, x);
    dst += 8;
  }
  return out;
}

std::vector<uint8_t> write_npy(const Tensor<float>& t) {
  std::vector<uint8_t> out = write_impl(t.shape(), "<f4", t.vec().size(), 4);
  uint8_t* dst = out.data() + out.size() - 4 * t.vec().size();
  for (float x : t.vec()) {
    detail::store_f32_le(dst, x);
    dst += 4;
  }
  return out;
}

void write_npy_file(const std::filesystem::path& path, const Tensor<double>& t) {
  write_file_bytes(path, write_npy(t), "npy");
}
void write_npy_file(const std::filesystem::path& path, const Tensor<float>& t) {
  write_file_bytes(path, write_npy(t), "npy");
}

}  // namespace torchlean::io
