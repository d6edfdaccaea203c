// ONNX interchange: importing an ONNX ModelProto (optionally gzip-compressed) into an IR graph and
// payload, and exporting a graph and payload as an opset-13 ModelProto. The supported ops, opsets
// and deviations are listed in docs/onnx.md.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::io {

// The default-domain opsets the importer accepts, and the one the exporter writes.
inline constexpr int64_t kOnnxMinOpset = 7;
inline constexpr int64_t kOnnxMaxOpset = 17;
inline constexpr int64_t kOnnxExportOpset = 13;
// Hostile-input limits: bytes of a (decompressed) model, and elements of any one tensor.
inline constexpr size_t kOnnxMaxBytes = size_t{1} << 30;
inline constexpr int64_t kOnnxMaxElements = int64_t{1} << 28;
// Elements of a tensor computed at import time (folded shape arithmetic, ConstantOfShape).
inline constexpr int64_t kOnnxMaxFoldElements = int64_t{1} << 22;

struct OnnxImportOptions {
  // Value for a symbolic leading (batch) dim of the graph inputs; without it such a dim is an
  // error naming the input.
  std::optional<int64_t> batch;
};

struct OnnxModel {
  ir::Graph graph;
  ir::Payload payload;
  // ONNX names of the graph inputs and outputs, in the order of graph.input_ids / output_ids.
  std::vector<std::string> input_names, output_names;
  int64_t opset = 0;  // default-domain opset the model declares
};

// Parses and converts a serialized ModelProto. `source` names the file in every error message
// ("model.onnx: node 'Conv_3' (Conv): ..."). Throws UserError on malformed or unsupported input;
// the result passes check_payload.
OnnxModel import_onnx(std::span<const uint8_t> bytes, const OnnxImportOptions& options,
                      std::string_view source = "onnx");
// Reads `path` (gunzipped first when it ends in .gz) and imports it.
OnnxModel import_onnx_file(const std::filesystem::path& path,
                           const OnnxImportOptions& options = {});

// Serializes graph + payload as an opset-13 ModelProto: const payload becomes initializers (FLOAT
// when every value is exact in binary32, else DOUBLE), graph inputs and outputs FLOAT. Throws
// UserError naming the node for ops without an ONNX equivalent (random and gradient-only ops).
std::vector<uint8_t> export_onnx(const ir::Graph& g, const ir::Payload& payload);
void export_onnx_file(const std::filesystem::path& path, const ir::Graph& g,
                      const ir::Payload& payload);

}  // namespace torchlean::io
