// Loading a model (graph + payload) and inputs for the CLI, and printing values of any domain.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::cli {

struct Model {
  ir::Graph graph;
  ir::Payload payload;
};

// Reads a torchlean.ir.v1 graph (checked) and, if given, its weights: .safetensors (keys
// "<node_id>.<slot>"), TorchLean state-dict JSON ({"params", "meta"}) or
// torchlean_paramlist_bits_v1 JSON. Parameters are assigned to the graph's parameterised nodes.
Model load_model(const std::filesystem::path& graph_path, const std::optional<std::filesystem::path>& weights);

// The scalar domains the reference evaluator runs in.
enum class Semantics { f32, f64, exact };
Semantics parse_semantics(const std::string& name);  // throws UsageError
std::string semantics_name(Semantics s);

// "[1.5, -2, 0.333333343]" style rendering of a tensor (scalar domains' own to_string).
std::string format_value(const F32& x);
std::string format_value(const F64& x);
std::string format_value(const Exact& x);

}  // namespace torchlean::cli
