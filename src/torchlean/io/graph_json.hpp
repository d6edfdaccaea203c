// TorchLean `torchlean.ir.v1` graph JSON, read and written exactly as TorchLean's importer
// (NN/Runtime/PyTorch/Import/TorchExport.lean) and its Python emitter do. See docs/formats.md.
//
// Schema: {"format": "torchlean.ir.v1" (optional), "input_id": n, "output_id": n, "nodes": [...]}
// with nodes {"id", "parents", "kind", "shape", <flat attribute keys>} and, optionally,
// "value_kind": "tensor" | "tuple" with "tuple_shapes". Tuple-valued nodes are lowered away as
// TorchLean does (single-head self-attention through `tuple_getitem`), which renumbers nodes.
// Graphs with several inputs or outputs, extension ops (docs/ir.md) or matmul in an extension form
// are our extension, written with format "torchlean_cpp.ir.v1x" and keys "input_ids"/"output_ids"
// so that TorchLean rejects them; a v1 file that uses an extension op is rejected naming it.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::io {

inline constexpr std::string_view kGraphJsonFormat = "torchlean.ir.v1";
inline constexpr std::string_view kGraphJsonExtFormat = "torchlean_cpp.ir.v1x";

struct GraphJson {
  ir::Graph graph;
  // Parameters carried by the file itself: `eps` of batch_norm2d_nchw_eval nodes (slot "eps",
  // a scalar), keyed by the node's id in `graph`. Everything else travels in safetensors.
  ir::Payload inline_payload;
};

// Parses and lowers a graph; does not check shapes (structure errors that need no shape
// inference, such as forward parent ids, are left to ir::check_graph as well).
// Throws UserError "graph_json: <field path>: ..." on malformed input.
GraphJson read_graph_json(std::string_view text);
GraphJson read_graph_json_file(const std::filesystem::path& path);
// read_graph_json followed by ir::check_graph (structure, then shapes).
GraphJson load_graph_json(std::string_view text);
GraphJson load_graph_json_file(const std::filesystem::path& path);

// Writes `g`: exact torchlean.ir.v1 when ir::is_v1_graph(g) (one input, one output, only v1 ops
// in v1 forms), else torchlean_cpp.ir.v1x. `eps` slots of
// batch_norm2d_nchw_eval nodes found in `payload` are written as the node's "eps" key, as
// TorchLean's exporter does; other payload slots are not part of this format and are ignored.
std::string write_graph_json(const ir::Graph& g, const ir::Payload& payload = {});
void write_graph_json_file(const std::filesystem::path& path, const ir::Graph& g,
                           const ir::Payload& payload = {});

}  // namespace torchlean::io
