#include "torchlean/nn/idx.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"

namespace torchlean::nn {
namespace {

[[noreturn]] void fail(const std::string& what) { throw UserError("idx: " + what); }

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t load_be64(const uint8_t* p) {
  return (uint64_t{load_be32(p)} << 32) | uint64_t{load_be32(p + 4)};
}

size_t elem_size(uint8_t type) {
  switch (type) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default:
      return 0;
  }
}

// Element i of the data as a binary32 value, or an error naming the index when it is not one.
float element(uint8_t type, const uint8_t* p, int64_t i) {
  double v = 0;
  switch (type) {
    case 0x08:
      return static_cast<float>(p[0]);
    case 0x09:
      return static_cast<float>(static_cast<int8_t>(p[0]));
    case 0x0B:
      return static_cast<float>(static_cast<int16_t>((uint16_t{p[0]} << 8) | p[1]));
    case 0x0C:
      v = static_cast<double>(static_cast<int32_t>(load_be32(p)));
      break;
    case 0x0D:
      return std::bit_cast<float>(load_be32(p));
    default:
      v = std::bit_cast<double>(load_be64(p));
      break;
  }
  if (!(v != v) && static_cast<double>(static_cast<float>(v)) != v)
    fail("element " + std::to_string(i) + " (" + std::to_string(v) +
         ") is not exactly representable in binary32");
  return static_cast<float>(v);
}

}  // namespace

Tensor<float> read_idx(std::span<const uint8_t> bytes) {
  if (bytes.size() < 4) fail("file of " + std::to_string(bytes.size()) + " bytes has no magic");
  if (bytes[0] != 0 || bytes[1] != 0)
    fail("bad magic: first two bytes are " + std::to_string(bytes[0]) + " " +
         std::to_string(bytes[1]) + ", expected 0 0");
  const uint8_t type = bytes[2];
  const size_t esize = elem_size(type);
  if (esize == 0) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", type);
    fail(std::string("unknown element type ") + hex);
  }
  const size_t ndims = bytes[3];
  if (bytes.size() < 4 + 4 * ndims)
    fail("header declares " + std::to_string(ndims) + " dims but the file has only " +
         std::to_string(bytes.size()) + " bytes");
  std::vector<int64_t> dims;
  int64_t numel = 1;
  for (size_t d = 0; d < ndims; ++d) {
    int64_t n = load_be32(bytes.data() + 4 + 4 * d);
    dims.push_back(n);
    if (n != 0 && numel > kIdxMaxElements / n)
      fail("shape " + Shape(dims).str() + "... has more than " + std::to_string(kIdxMaxElements) +
           " elements");
    numel *= n;
  }
  const Shape shape(dims);
  const size_t header = 4 + 4 * ndims;
  const size_t expected = static_cast<size_t>(numel) * esize;
  if (bytes.size() - header != expected)
    fail("shape " + shape.str() + " needs " + std::to_string(expected) + " data bytes, file has " +
         std::to_string(bytes.size() - header));
  std::vector<float> data(static_cast<size_t>(numel));
  const uint8_t* p = bytes.data() + header;
  for (int64_t i = 0; i < numel; ++i)
    data[static_cast<size_t>(i)] = element(type, p + i * esize, i);
  return Tensor<float>(shape, std::move(data));
}

Tensor<float> read_idx_file(const std::filesystem::path& path) {
  std::vector<uint8_t> bytes = io::read_file_bytes(path, "idx");
  try {
    if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
      bytes = io::gunzip(bytes, static_cast<size_t>(kIdxMaxElements) * 8 + 1024, "idx");
    return read_idx(bytes);
  } catch (const UserError& e) {
    throw UserError(std::string(e.what()) + " (in '" + path.string() + "')");
  }
}

std::vector<uint8_t> write_idx(const Tensor<float>& t, bool as_ubyte) {
  const auto& dims = t.shape().dims();
  TL_USER_CHECK(dims.size() <= 255, "idx: rank " + std::to_string(dims.size()) + " exceeds 255");
  std::vector<uint8_t> out = {0, 0, static_cast<uint8_t>(as_ubyte ? 0x08 : 0x0D),
                              static_cast<uint8_t>(dims.size())};
  auto put32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
  };
  for (int64_t d : dims) {
    TL_USER_CHECK(d <= UINT32_MAX, "idx: dim " + std::to_string(d) + " exceeds 2^32-1");
    put32(static_cast<uint32_t>(d));
  }
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = t[i];
    if (as_ubyte) {
      TL_USER_CHECK(
          v >= 0 && v <= 255 && std::floor(v) == v,
          "idx: value " + std::to_string(v) + " at " + std::to_string(i) + " is not a ubyte");
      out.push_back(static_cast<uint8_t>(v));
    } else {
      put32(std::bit_cast<uint32_t>(v));
    }
  }
  return out;
}

}  // namespace torchlean::nn
