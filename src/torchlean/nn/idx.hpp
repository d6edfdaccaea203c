// IDX files (LeCun's MNIST format, also Fashion-MNIST): a 4-byte magic 00 00 TYPE NDIMS, NDIMS
// big-endian uint32 dims, then the elements big-endian in row-major order. TYPE is 0x08 ubyte,
// 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. Gzipped files (as Debian's
// dataset-fashion-mnist ships them) are inflated first.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "torchlean/core/tensor.hpp"

namespace torchlean::nn {

// More elements than this are refused before anything is allocated (2^31: 8 GiB of float).
inline constexpr int64_t kIdxMaxElements = int64_t{1} << 31;

// Parses raw (not gzipped) IDX bytes. Every value must be exact in binary32 (int32 beyond 2^24 or
// a float64 that needs rounding is an error, never narrowed silently). Throws UserError "idx: ...".
Tensor<float> read_idx(std::span<const uint8_t> bytes);

// Reads `path`, inflating it (io::gunzip) when it starts with the gzip magic 1f 8b, and parses
// it.
Tensor<float> read_idx_file(const std::filesystem::path& path);

// Raw IDX bytes of `t` with element type ubyte (values must be integers in [0, 255]) or float32.
std::vector<uint8_t> write_idx(const Tensor<float>& t, bool as_ubyte);

}  // namespace torchlean::nn
