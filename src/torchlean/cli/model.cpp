#include "torchlean/cli/model.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "torchlean/cli/args.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/io/paramlist_bits.hpp"
#include "torchlean/io/safetensors.hpp"
#include "torchlean/io/state_dict.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::cli {

namespace {

ir::Payload load_weights(const ir::Graph& g, const std::filesystem::path& path,
                         const ir::Payload& base) {
  if (path.extension() == ".safetensors") {
    ir::Payload p = io::payload_from_safetensors(io::read_safetensors_file(path));
    for (const auto& [id, slots] : base)
      for (const auto& [name, t] : slots) p[id].emplace(name, t);
    return p;
  }
  if (path.extension() != ".json")
    throw UserError(path.string() +
                    ": weights must be .safetensors or .json (state dict or "
                    "torchlean_paramlist_bits_v1)");
  std::string text = io::read_file_text(path, "weights");
  // Only the top-level format tag decides; each reader validates its own schema.
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("format") && j["format"] == io::kParamlistBitsFormat)
    return io::payload_from_paramlist(g, io::read_paramlist_bits(text), base);
  return io::payload_from_state_dict(g, io::read_state_dict(text), base);
}

}  // namespace

const OptionSpec kBatchOption{"--batch", "N",
                              "ONNX models: value of a symbolic batch dim of the inputs"};

LoadOptions load_options(const ParsedArgs& args) {
  LoadOptions o;
  if (auto b = args.get("--batch")) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(b->data(), b->data() + b->size(), v);
    if (ec != std::errc() || end != b->data() + b->size() || v <= 0)
      throw UsageError("--batch must be a positive integer, got '" + *b + "'");
    o.batch = v;
  }
  return o;
}

bool is_onnx_path(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".onnx") || ends_with(".onnx.gz");
}

ir::Graph read_graph(const std::filesystem::path& path, const LoadOptions& options) {
  if (is_onnx_path(path)) return io::import_onnx_file(path, {options.batch}).graph;
  return io::read_graph_json_file(path).graph;
}

Model load_model(const std::filesystem::path& graph_path,
                 const std::optional<std::filesystem::path>& weights, const LoadOptions& options) {
  if (is_onnx_path(graph_path)) {
    if (weights)
      throw UserError(graph_path.filename().string() +
                      ": an ONNX model carries its weights; --weights is for .json graphs");
    io::OnnxModel m = io::import_onnx_file(graph_path, {options.batch});
    return Model{std::move(m.graph), std::move(m.payload)};
  }
  io::GraphJson gj = io::load_graph_json_file(graph_path);
  Model m{std::move(gj.graph), std::move(gj.inline_payload)};
  if (weights) m.payload = load_weights(m.graph, *weights, m.payload);
  ir::check_payload(m.graph, m.payload);
  return m;
}

const OptionSpec kFastVariantsOption{
    "--fast-variants", "V",
    "with --mode fast: faster (default: a reordered kernel only where it beats the exact one on "
    "this CPU) or all"};

void parse_kernel_mode(const ParsedArgs& args, compile::CompileOptions& options) {
  const std::string mode = args.get_or("--mode", "exact");
  if (mode != "exact" && mode != "fast")
    throw UsageError("--mode must be exact or fast, got '" + mode + "'");
  options.mode = mode == "exact" ? runtime::KernelMode::exact : runtime::KernelMode::fast;
  if (auto v = args.get("--fast-variants")) {
    if (options.mode != runtime::KernelMode::fast)
      throw UsageError("--fast-variants needs --mode fast");
    if (*v != "faster" && *v != "all")
      throw UsageError("--fast-variants must be faster or all, got '" + *v + "'");
    options.fast_variants =
        *v == "all" ? compile::FastVariants::all : compile::FastVariants::faster;
  }
}

Semantics parse_semantics(const std::string& name) {
  if (name == "f32") return Semantics::f32;
  if (name == "f64") return Semantics::f64;
  if (name == "exact") return Semantics::exact;
  throw UsageError("--semantics must be f32, f64 or exact, got '" + name + "'");
}

std::string semantics_name(Semantics s) {
  switch (s) {
    case Semantics::f32:
      return "f32";
    case Semantics::f64:
      return "f64";
    case Semantics::exact:
      return "exact";
  }
  return "?";
}

std::string format_value(const F32& x) { return to_string(x); }
std::string format_value(const F64& x) { return to_string(x); }
std::string format_value(const Exact& x) { return to_string(x); }

}  // namespace torchlean::cli
