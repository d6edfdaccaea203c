// Loading a model (graph + payload) and inputs for the CLI, and printing values of any domain.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "torchlean/cli/args.hpp"
#include "torchlean/compile/compile.hpp"
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

// How to read a model file: `batch` fixes a symbolic leading dim of ONNX graph inputs.
struct LoadOptions {
  std::optional<int64_t> batch;
};
// The --batch option for commands that read models, and its parsed value (UsageError unless a
// positive integer).
extern const OptionSpec kBatchOption;
LoadOptions load_options(const ParsedArgs& args);

// True for .onnx and .onnx.gz paths.
bool is_onnx_path(const std::filesystem::path& path);

// Reads a model: an ONNX file (.onnx, .onnx.gz; weights are its initializers, so `weights` must
// be absent) or a torchlean.ir.v1 graph (checked) with, if given, its weights: .safetensors (keys
// "<node_id>.<slot>"), TorchLean state-dict JSON ({"params", "meta"}) or
// torchlean_paramlist_bits_v1 JSON. Parameters are assigned to the graph's parameterised nodes.
Model load_model(const std::filesystem::path& graph_path,
                 const std::optional<std::filesystem::path>& weights,
                 const LoadOptions& options = {});

// The graph of a model file without the shape check (so `inspect` can report the checker's
// verdict): JSON is parsed only; ONNX is imported (which checks it).
ir::Graph read_graph(const std::filesystem::path& path, const LoadOptions& options = {});

// The compiled runtime's --mode (exact|fast) and --fast-variants (faster|all) options, parsed
// into `options` (UsageError on a bad value, or on --fast-variants without --mode fast).
extern const OptionSpec kFastVariantsOption;
void parse_kernel_mode(const ParsedArgs& args, compile::CompileOptions& options);

// The scalar domains the reference evaluator runs in.
enum class Semantics { f32, f64, exact };
Semantics parse_semantics(const std::string& name);  // throws UsageError
std::string semantics_name(Semantics s);

// "[1.5, -2, 0.333333343]" style rendering of a tensor (scalar domains' own to_string).
std::string format_value(const F32& x);
std::string format_value(const F64& x);
std::string format_value(const Exact& x);

}  // namespace torchlean::cli
