// `torchlean convert IN OUT`: between ONNX (.onnx, .onnx.gz) and torchlean graph JSON + weights
// (.json with a sibling .safetensors, or the file named by --weights-out).
#include <iostream>

#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/io/safetensors.hpp"

namespace torchlean::cli {

namespace {

// F32 when every parameter is exact in binary32 (all ONNX float models), else F64.
io::DType payload_dtype(const ir::Payload& p) {
  for (const auto& [id, slots] : p)
    for (const auto& [name, t] : slots)
      for (double x : t.vec())
        if (!io::detail::exact_in_f32(x)) return io::DType::f64;
  return io::DType::f32;
}

int run_convert(const ParsedArgs& args) {
  const std::filesystem::path in = args.positional(0), out = args.positional(1);
  std::optional<std::filesystem::path> weights;
  if (auto w = args.get("--weights")) weights = *w;
  const Model m = load_model(in, weights, load_options(args));
  if (is_onnx_path(out)) {
    if (out.extension() == ".gz")
      throw UsageError("convert: writing .onnx.gz is not supported; write .onnx");
    if (args.has("--weights-out"))
      throw UsageError("convert: --weights-out applies to .json outputs");
    io::export_onnx_file(out, m.graph, m.payload);
    std::cout << "wrote " << out.string() << " (ONNX opset " << io::kOnnxExportOpset << ", "
              << m.graph.nodes.size() << " IR nodes)\n";
    return 0;
  }
  if (out.extension() != ".json")
    throw UsageError("convert: OUT must end in .onnx or .json, got '" + out.string() + "'");
  std::filesystem::path wout = out;
  wout.replace_extension(".safetensors");
  if (auto w = args.get("--weights-out")) wout = *w;
  io::write_graph_json_file(out, m.graph, m.payload);
  std::cout << "wrote " << out.string();
  if (!m.payload.empty()) {
    io::write_safetensors_file(wout,
                               io::payload_to_safetensors(m.payload, payload_dtype(m.payload)));
    std::cout << " and " << wout.string();
  }
  std::cout << "\n";
  return 0;
}

}  // namespace

const Command kConvert{
    {"convert",
     "IN OUT [--weights W] [--weights-out W2] [--batch N]",
     "Convert between ONNX (.onnx, .onnx.gz) and graph .json + .safetensors weights.",
     {"IN", "OUT"},
     {{"--weights", "W", "weights of a .json IN (.safetensors, state-dict or paramlist .json)"},
      {"--weights-out", "W2", "weights file for a .json OUT (default: OUT with .safetensors)"},
      kBatchOption}},
    run_convert};

}  // namespace torchlean::cli
