// NumPy .npy files (format versions 1.0, 2.0 and 3.0): magic "\x93NUMPY", version, header length,
// a Python-literal header dict {'descr', 'fortran_order', 'shape'}, then the raw C-order data.
// Little-endian float32/float64 are read and written; little-endian int32/int64 are also read,
// as exact binary64 values.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "torchlean/core/tensor.hpp"

namespace torchlean::io {

enum class NpyDType { f4, f8, i4, i8 };  // '<f4', '<f8', '<i4', '<i8'

struct NpyHeader {
  NpyDType dtype = NpyDType::f8;
  Shape shape;
  int major_version = 1;
  size_t data_offset = 0;  // bytes before the data
};

// Header lengths above this are refused (numpy itself refuses 10000 by default).
inline constexpr uint32_t kNpyMaxHeader = 1u << 20;

// Validates magic, version, header dict (exactly the three keys; C order only), and that the data
// is exactly shape.numel() items. Throws UserError "npy: ...".
NpyHeader read_npy_header(std::span<const uint8_t> bytes);
// Any supported dtype, widened exactly; an int64 beyond 2^53 that binary64 cannot hold is an error.
Tensor<double> read_npy(std::span<const uint8_t> bytes);
Tensor<double> read_npy_file(const std::filesystem::path& path);
// '<f4' only (no silent narrowing from float64).
Tensor<float> read_npy_f32(std::span<const uint8_t> bytes);
Tensor<float> read_npy_f32_file(const std::filesystem::path& path);

// Version 1.0 ('<f8' / '<f4'), or 2.0 when the header needs more than 65535 bytes.
std::vector<uint8_t> write_npy(const Tensor<double>& t);
std::vector<uint8_t> write_npy(const Tensor<float>& t);
void write_npy_file(const std::filesystem::path& path, const Tensor<double>& t);
void write_npy_file(const std::filesystem::path& path, const Tensor<float>& t);

}  // namespace torchlean::io
