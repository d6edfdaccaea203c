// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the raw little-endian tensor bytes. We read and write F32 and F64; the payload store maps
// to it with keys "<node_id>.<slot>" (e.g. "3.weight").
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::io {

enum class DType { f32, f64 };

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::f32;
  Tensor<double> tensor;  // F32 data widened exactly
};

struct Safetensors {
  std::vector<SafetensorsEntry> tensors;  // read: in data-offset order; written in this order
  std::map<std::string, std::string> metadata;  // "__metadata__"
};

// Header lengths above this are refused before anything is allocated for the header.
inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

// Validates the whole file (header bounds, JSON, dtypes, shapes, offsets that must tile the data
// region exactly: no overlap, gap or trailing byte). Throws UserError "safetensors: ...".
Safetensors read_safetensors(std::span<const uint8_t> bytes);
Safetensors read_safetensors_file(const std::filesystem::path& path);

// Throws UserError for duplicate names or an F32 entry holding a value binary32 cannot represent.
std::vector<uint8_t> write_safetensors(const Safetensors& st);
void write_safetensors_file(const std::filesystem::path& path, const Safetensors& st);

// Payload <-> safetensors, keys "<node_id>.<slot>". Writing F32 requires every value to be a
// binary32 value (no silent rounding).
Safetensors payload_to_safetensors(const ir::Payload& payload, DType dtype = DType::f32);
ir::Payload payload_from_safetensors(const Safetensors& st);

}  // namespace torchlean::io
