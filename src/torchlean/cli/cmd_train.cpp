// `torchlean train`: trains a built-in architecture or a model file on an IDX dataset (MNIST-style,
// e.g. Debian's dataset-fashion-mnist) with the compiled training step, and writes a run directory:
// the model as IR JSON + safetensors and as ONNX, the JSON-lines log, the loss/accuracy plot,
// metrics.json and a checkpoint to resume from.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/io/safetensors.hpp"
#include "torchlean/nn/graph_module.hpp"
#include "torchlean/nn/models.hpp"
#include "torchlean/nn/plot.hpp"
#include "torchlean/nn/trainer.hpp"

namespace torchlean::cli {
namespace {

int64_t parse_int(const ParsedArgs& a, const std::string& name, int64_t fallback, int64_t lo) {
  const auto v = a.get(name);
  if (!v) return fallback;
  int64_t x = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || ptr != v->data() + v->size() || x < lo)
    throw UsageError(name + " must be an integer >= " + std::to_string(lo) + ", got '" + *v + "'");
  return x;
}

double parse_real(const ParsedArgs& a, const std::string& name, double fallback) {
  const auto v = a.get(name);
  if (!v) return fallback;
  double x = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || ptr != v->data() + v->size() || !(x >= 0))
    throw UsageError(name + " must be a non-negative number, got '" + *v + "'");
  return x;
}

bool is_builtin(const std::string& spec) { return spec == "lenet" || spec.rfind("mlp:", 0) == 0; }

// A model file as a trainable module: IR JSON (+ --weights) has the batch it was written with;
// ONNX is re-imported for each batch the trainer builds (a symbolic batch dim takes any value).
nn::ModulePtr file_model(const std::string& path, const std::optional<std::string>& weights) {
  if (is_onnx_path(path)) {
    if (weights) throw UsageError("train: --weights is for IR JSON models; ONNX holds its weights");
    return std::make_shared<nn::GraphModule>(path, [path](int64_t batch) {
      Model m = load_model(path, std::nullopt, LoadOptions{batch});
      return std::make_pair(std::move(m.graph), std::move(m.payload));
    });
  }
  std::optional<std::filesystem::path> w;
  if (weights) w = *weights;
  Model m = load_model(path, w);
  return std::make_shared<nn::GraphModule>(
      path, nn::fixed_batch_loader(path, std::move(m.graph), std::move(m.payload)));
}

int run_train(const ParsedArgs& args) {
  const auto data_dir = args.get("--data");
  const auto out_dir = args.get("--out");
  if (!data_dir || !out_dir) throw UsageError("train: --data and --out are required");
  const std::string spec = args.get_or("--model", "mlp:784-256-256-10");

  nn::TrainConfig cfg;
  cfg.epochs = parse_int(args, "--epochs", 1, 0);
  cfg.batch = parse_int(args, "--batch", 64, 1);
  cfg.seed = static_cast<uint64_t>(parse_int(args, "--seed", 0, 0));
  const bool builtin = is_builtin(spec);
  if (builtin && args.get("--weights")) throw UsageError("train: --weights needs a model file");
  // A model file is evaluated and saved at the training batch (a JSON graph has only that one).
  cfg.eval_batch = parse_int(args, "--eval-batch", builtin ? 1000 : cfg.batch, 1);
  cfg.progress = !args.has("--quiet");
  cfg.log_every = parse_int(args, "--log-every", 50, 0);
  nn::OptimizerConfig& opt = cfg.step.optimizer;
  opt.kind = nn::parse_optimizer(args.get_or("--optimizer", "sgd"));
  opt.lr = parse_real(args, "--lr", opt.kind == nn::OptimizerConfig::sgd ? 0.1 : 1e-3);
  opt.momentum = parse_real(args, "--momentum", 0);
  opt.nesterov = args.has("--nesterov");
  opt.weight_decay =
      parse_real(args, "--weight-decay", opt.kind == nn::OptimizerConfig::adamw ? 0.01 : 0);
  opt.clip_norm = parse_real(args, "--clip-norm", 0);
  opt.validate();
  cfg.schedule.kind = nn::parse_schedule(args.get_or("--schedule", "constant"));
  cfg.schedule.warmup_steps = parse_int(args, "--warmup", 0, 0);
  cfg.schedule.step_epochs = parse_int(args, "--step-epochs", 1, 1);
  cfg.schedule.gamma = parse_real(args, "--gamma", 0.1);
  const std::string mode = args.get_or("--mode", "fast");
  if (mode != "exact" && mode != "fast")
    throw UsageError("--mode must be exact or fast, got '" + mode + "'");
  cfg.step.compile.mode = mode == "fast" ? runtime::KernelMode::fast : runtime::KernelMode::exact;
  cfg.step.compile.threads = static_cast<int>(parse_int(args, "--threads", 1, 1));

  const std::filesystem::path out(*out_dir);
  std::filesystem::create_directories(out);
  cfg.log_path = out / "log.jsonl";
  cfg.checkpoint_path = out / "checkpoint.safetensors";

  nn::Dataset train = nn::load_idx_dataset(*data_dir, "train");
  const nn::Dataset test = nn::load_idx_dataset(*data_dir, "t10k");
  if (args.get("--limit-train")) {
    const int64_t n = parse_int(args, "--limit-train", 0, 1);
    if (n < train.size()) train = nn::take(train, 0, n);
  }
  std::cerr << "train: " << train.size() << " examples " << train.example_shape().str()
            << ", test: " << test.size() << "\n";

  nn::ModulePtr model = builtin ? nn::build_model(spec, train.example_shape())
                                : file_model(spec, args.get("--weights"));
  nn::Trainer trainer(model, cfg, train, &test);
  if (const auto resume = args.get("--resume")) trainer.resume(nn::read_checkpoint(*resume));
  const std::string summary = trainer.summary();
  std::cerr << summary;
  io::write_file_text(out / "summary.txt", summary, "train");

  const auto wall0 = std::chrono::steady_clock::now();
  const nn::TrainResult r = trainer.fit();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  // The trained model at batch 1 (the form `torchlean run` and `torchlean eval` take); a model
  // file at its training batch.
  nn::ParamStore& params = trainer.params();
  const Shape example = train.example_shape();
  std::vector<int64_t> dims = {builtin ? 1 : cfg.batch};
  dims.insert(dims.end(), example.dims().begin(), example.dims().end());
  const nn::EvalGraph eg = nn::build_eval_graph(*model, Shape(dims), params, cfg.seed);
  io::write_graph_json_file(out / "model.json", eg.graph, eg.payload);
  io::write_safetensors_file(out / "model.safetensors", io::payload_to_safetensors(eg.payload));
  // ONNX is an extra: a model with an op ONNX lacks still leaves a usable run directory.
  bool onnx = true;
  try {
    io::export_onnx_file(out / "model.onnx", eg.graph, eg.payload);
  } catch (const UserError& e) {
    onnx = false;
    std::cerr << "train: model.onnx not written: " << e.what() << "\n";
  }

  nlohmann::ordered_json m;
  m["model"] = spec;
  m["parameters"] = params.trainable_count();
  m["optimizer"] = nn::optimizer_name(opt.kind);
  m["lr"] = opt.lr;
  m["batch"] = cfg.batch;
  m["epochs"] = cfg.epochs;
  m["steps"] = trainer.step();
  m["mode"] = mode;
  m["threads"] = cfg.step.compile.threads;
  m["seed"] = cfg.seed;
  m["train_examples"] = train.size();
  m["train_seconds"] = r.train_seconds;
  m["wall_seconds"] = wall;
  if (!r.epochs.empty()) {
    m["train_loss"] = r.epochs.back().train_loss;
    m["train_accuracy"] = r.epochs.back().train_accuracy;
    m["test_loss"] = r.epochs.back().test_loss;
    m["test_accuracy"] = r.epochs.back().test_accuracy;
  }
  if (r.test_confusion) {
    nlohmann::ordered_json cm = nlohmann::ordered_json::array();
    for (int64_t i = 0; i < r.test_confusion->classes(); ++i) {
      nlohmann::ordered_json row = nlohmann::ordered_json::array();
      for (int64_t j = 0; j < r.test_confusion->classes(); ++j)
        row.push_back(r.test_confusion->count(i, j));
      cm.push_back(row);
    }
    m["test_confusion"] = cm;
  }
  io::write_file_text(out / "metrics.json", m.dump(2) + "\n", "train");

  const nn::LogTable log = nn::parse_log(io::read_file_text(cfg.log_path, "train"), "log.jsonl");
  // Loss and accuracy panels of whichever series the log has (short runs have no step records).
  std::vector<std::vector<std::string>> panels;
  for (const auto& wanted :
       nn::parse_panels("loss+train_loss+test_loss,train_accuracy+test_accuracy")) {
    std::vector<std::string> present;
    for (const std::string& c : wanted)
      if (std::find(log.columns.begin(), log.columns.end(), c) != log.columns.end())
        present.push_back(c);
    if (!present.empty()) panels.push_back(present);
  }
  const bool curve = !panels.empty() && !r.epochs.empty();
  if (curve)
    io::write_file_text(
        out / "curve.svg",
        nn::render_svg(log, "epoch", panels, spec + " (" + nn::optimizer_name(opt.kind) + ")"),
        "train");

  std::cout << "test_accuracy " << m.value("test_accuracy", 0.0) << "\n"
            << "train_seconds " << r.train_seconds << "\n"
            << "wrote " << out.string() << "/{model.json, model.safetensors, "
            << (onnx ? "model.onnx, " : "") << "log.jsonl, " << (curve ? "curve.svg, " : "")
            << "metrics.json, checkpoint.safetensors, summary.txt}\n";
  return 0;
}

}  // namespace

const Command kTrain{
    {"train",
     "--data DIR --out RUN_DIR [--model mlp:784-256-256-10|lenet|FILE [--weights W]] [--epochs N] "
     "[--batch B] [--lr X] [--optimizer sgd|adam|adamw] [...]",
     "train a model on an IDX dataset with the compiled training step",
     {},
     {{"--data", "DIR", "IDX dataset: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]"},
      {"--out", "RUN_DIR", "run directory (model, log, plot, metrics, checkpoint)"},
      {"--model", "SPEC",
       "mlp:W0-W1-...-Wn (ReLU between), lenet (default mlp:784-256-256-10), or a model file "
       "(IR JSON, ONNX) whose one output is the (batch, classes) logits"},
      {"--weights", "W", "weights of an IR JSON --model (safetensors, state-dict JSON)"},
      {"--epochs", "N", "epochs (default 1)"},
      {"--batch", "B", "batch size; the last partial batch of an epoch is dropped (default 64)"},
      {"--lr", "X", "learning rate (default 0.1 for sgd, 0.001 for adam/adamw)"},
      {"--optimizer", "O", "sgd (default), adam or adamw"},
      {"--momentum", "M", "sgd momentum (default 0)"},
      {"--nesterov", "", "sgd: Nesterov momentum"},
      {"--weight-decay", "W", "L2 (sgd, adam) or decoupled (adamw, default 0.01) weight decay"},
      {"--schedule", "S", "learning-rate schedule: constant (default), step or cosine"},
      {"--warmup", "N", "cosine: linear warmup steps"},
      {"--step-epochs", "N", "step: decay every N epochs (default 1)"},
      {"--gamma", "G", "step: decay factor (default 0.1)"},
      {"--clip-norm", "C", "clip gradients to global 2-norm C"},
      {"--seed", "S", "seed of the initialisation, data order and dropout (default 0)"},
      {"--mode", "M", "fast (default) or exact (bit-reproducible, bit-identical to the reference)"},
      {"--threads", "N", "worker threads (exact mode: results do not depend on N)"},
      {"--limit-train", "N", "use only the first N training examples"},
      {"--eval-batch", "N",
       "batch of the compiled evaluation program (default 1000; a model file: --batch)"},
      {"--log-every", "N", "a step record in log.jsonl every N steps (default 50)"},
      {"--resume", "CKPT", "continue from a checkpoint.safetensors"},
      {"--quiet", "", "no progress output"}}},
    run_train};

}  // namespace torchlean::cli
