// `torchlean eval`: the test accuracy (and confusion matrix) of a saved model (IR JSON + weights,
// as `torchlean train` writes it) on an IDX dataset, run by the compiled runtime.
#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"
#include "torchlean/compile/compile.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/nn/dataset.hpp"
#include "torchlean/nn/metrics.hpp"

namespace torchlean::cli {
namespace {

int run_eval(const ParsedArgs& args) {
  const std::filesystem::path model_path = args.positional(0);
  const auto data_dir = args.get("--data");
  if (!data_dir) throw UsageError("eval: --data is required");
  std::optional<std::filesystem::path> weights;
  if (const auto w = args.get("--weights"))
    weights = *w;
  else if (auto st = std::filesystem::path(model_path).replace_extension(".safetensors");
           std::filesystem::exists(st))
    weights = st;
  const Model m = load_model(model_path, weights);
  TL_USER_CHECK(m.graph.input_ids.size() == 1 && m.graph.output_ids.size() == 1,
                "eval: '" + model_path.string() + "' must have one input and one output");
  const Shape in = m.graph.node(m.graph.input_ids[0]).shape;
  const Shape out = m.graph.node(m.graph.output_ids[0]).shape;
  TL_USER_CHECK(in.rank() >= 2 && out.rank() == 2 && out[0] == in[0],
                "eval: the model must map (batch, ...) to (batch, classes); it maps " + in.str() +
                    " to " + out.str());

  const nn::Dataset data = nn::load_idx_dataset(*data_dir, args.get_or("--split", "t10k"));
  const int64_t batch = in[0], per = in.numel() / batch;
  TL_USER_CHECK(data.example_shape().numel() == per,
                "eval: the model takes examples of " + std::to_string(per) +
                    " values, the data's are " + data.example_shape().str());

  compile::CompileOptions options;
  const std::string mode = args.get_or("--mode", "exact");
  if (mode != "exact" && mode != "fast")
    throw UsageError("--mode must be exact or fast, got '" + mode + "'");
  options.mode = mode == "fast" ? runtime::KernelMode::fast : runtime::KernelMode::exact;
  if (const auto t = args.get("--threads")) {
    int n = 0;
    auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
    if (ec != std::errc() || ptr != t->data() + t->size() || n < 1 || n > 1024)
      throw UsageError("--threads must be an integer from 1 to 1024, got '" + *t + "'");
    options.threads = n;
  }
  const ir::PayloadStore<float> payload = runtime::to_runtime_payload<float>(m.payload);
  runtime::Program<float> prog = compile::compile<float>(m.graph, payload, options);

  nn::ConfusionMatrix cm(out[1]);
  nn::Loader loader(data, batch, false, 0, false);
  loader.start_epoch(0);
  std::vector<float> x(static_cast<size_t>(in.numel())), y(static_cast<size_t>(batch)),
      logits(static_cast<size_t>(out.numel()));
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    const int64_t n = loader.fill(b, x.data(), y.data());
    const float* ins[1] = {x.data()};
    float* outs[1] = {logits.data()};
    prog.run(ins, outs);
    cm.add(logits, y, n);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "examples " << cm.total() << "\naccuracy " << cm.accuracy() << "\nloss "
            << cm.mean_loss() << "\nseconds " << s
            << "\nconfusion (rows: truth, columns: prediction)\n"
            << cm.str();
  return 0;
}

}  // namespace

const Command kEval{
    {"eval",
     "MODEL.json --data DIR [--weights W] [--split t10k] [--mode exact|fast] [--threads N]",
     "accuracy and confusion matrix of a classifier on an IDX dataset",
     {"MODEL.json"},
     {{"--data", "DIR", "IDX dataset directory"},
      {"--weights", "W", "weights (default: MODEL.safetensors next to the graph)"},
      {"--split", "S", "IDX split prefix (default t10k)"},
      {"--mode", "M", "compiled runtime: exact (default) or fast"},
      {"--threads", "N", "worker threads"}}},
    run_eval};

}  // namespace torchlean::cli
