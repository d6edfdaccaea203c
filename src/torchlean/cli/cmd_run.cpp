// `torchlean run`: evaluate a model with the reference evaluator in a chosen scalar domain, or
// (with --mode, --threads or --check) with the compiled runtime, optionally checked node by node
// against the reference evaluator.
#include <charconv>
#include <chrono>
#include <iostream>
#include <sstream>

#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"
#include "torchlean/compile/compile.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/io/npy.hpp"
#include "torchlean/runtime/equivalence.hpp"

namespace torchlean::cli {

namespace {

template <class S>
Tensor<S> to_domain(const Tensor<double>& t) {
  std::vector<S> v;
  v.reserve(t.vec().size());
  for (double x : t.vec()) v.push_back(S::from_double(x));
  return Tensor<S>(t.shape(), std::move(v));
}

template <class S>
std::string format_tensor(const Tensor<S>& t) {
  std::ostringstream os;
  os << "[";
  for (int64_t i = 0; i < t.numel(); ++i) os << (i ? ", " : "") << format_value(t[i]);
  os << "]";
  return os.str();
}

template <class S>
int evaluate_and_report(const Model& m, const std::vector<Tensor<double>>& inputs, const ParsedArgs& args) {
  std::vector<Tensor<S>> xs;
  for (const auto& t : inputs) xs.push_back(to_domain<S>(t));
  auto start = std::chrono::steady_clock::now();
  std::vector<Tensor<S>> ys = interp::evaluate_outputs(m.graph, ir::convert_payload<S>(m.payload), std::span<const Tensor<S>>(xs));
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  for (size_t i = 0; i < ys.size(); ++i)
    std::cout << "output %" << m.graph.output_ids[i] << " " << ys[i].shape().str() << " = " << format_tensor(ys[i]) << "\n";
  if constexpr (S::is_exact) {
    bool all_points = true;
    for (const auto& y : ys)
      for (const auto& v : y.vec()) all_points = all_points && v.is_point();
    std::cout << (all_points ? "exact: every value is an exact rational\n"
                             : "exact: values with [lo, hi] are rigorous enclosures (elementary functions have no rational value)\n");
  }
  std::cerr << "evaluated in " << ms << " ms\n";
  if (auto out = args.get("--output")) {
    TL_USER_CHECK(ys.size() == 1, "run: --output needs a graph with one output, this one has " + std::to_string(ys.size()));
    if constexpr (std::is_same_v<S, F32>) {
      std::vector<float> v;
      for (const auto& x : ys[0].vec()) v.push_back(x.v);
      io::write_npy_file(*out, Tensor<float>(ys[0].shape(), std::move(v)));
    } else {
      // Exact values are written as the binary64 nearest their midpoint.
      std::vector<double> v;
      for (const auto& x : ys[0].vec()) v.push_back(x.to_double());
      io::write_npy_file(*out, Tensor<double>(ys[0].shape(), std::move(v)));
    }
  }
  return 0;
}

// The compiled runtime's run: same output text as the reference evaluator's, then --check's
// verdict. Returns 1 when the check fails.
template <class T>
int compile_and_report(const Model& m, const std::vector<Tensor<double>>& inputs,
                       const compile::CompileOptions& options, bool check, int64_t fault,
                       const ParsedArgs& args) {
  using S = IeeeScalar<T>;
  const ir::PayloadStore<T> payload = runtime::to_runtime_payload<T>(m.payload);
  runtime::Program<T> prog = compile::compile<T>(m.graph, payload, options);
  std::vector<Tensor<T>> xs;
  for (const auto& t : inputs) {
    std::vector<T> v;
    v.reserve(t.vec().size());
    for (double x : t.vec()) v.push_back(S::from_double(x).v);  // the reference's conversion
    xs.emplace_back(t.shape(), std::move(v));
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<Tensor<T>> ys = prog.run(xs);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  for (size_t i = 0; i < ys.size(); ++i) {
    std::ostringstream os;
    os << "[";
    for (int64_t e = 0; e < ys[i].numel(); ++e) os << (e ? ", " : "") << format_value(S{ys[i][e]});
    os << "]";
    std::cout << "output %" << m.graph.output_ids[i] << " " << ys[i].shape().str() << " = " << os.str() << "\n";
  }
  std::cerr << "ran in " << ms << " ms (" << prog.code().instrs.size() << " instructions, arena "
            << prog.code().plan.arena_bytes << " bytes)\n";
  if (auto out = args.get("--output")) {
    TL_USER_CHECK(ys.size() == 1, "run: --output needs a graph with one output, this one has " + std::to_string(ys.size()));
    io::write_npy_file(*out, ys[0]);
  }
  if (!check) return 0;
  if (fault >= 0) prog.set_fault_for_testing(fault, 0);
  const runtime::CheckReport report = runtime::check_equivalence(prog, xs);
  std::cout << report.text() << "\n";
  return report.ok ? 0 : 1;
}

int parse_threads(const std::string& text) {
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 1024)
    throw UsageError("--threads must be an integer from 1 to 1024, got '" + text + "'");
  return n;
}

std::vector<Tensor<double>> read_inputs(const std::string& list) {
  std::vector<Tensor<double>> out;
  std::stringstream ss(list);
  std::string path;
  while (std::getline(ss, path, ','))
    if (!path.empty()) out.push_back(io::read_npy_file(path));
  return out;
}

int run_run(const ParsedArgs& args) {
  auto input = args.get("--input");
  if (!input) throw UsageError("run: --input X.npy is required");
  Semantics sem = parse_semantics(args.get_or("--semantics", "f32"));
  const auto mode = args.get("--mode");
  const auto threads = args.get("--threads");
  const bool check = args.has("--check");
  const bool compiled = mode || threads || check || args.has("--fast-variants");
  compile::CompileOptions options;
  if (compiled) {
    if (sem == Semantics::exact)
      throw UsageError("run: --semantics exact has no compiled runtime; --mode, --threads and --check "
                       "need --semantics f32 or f64");
    parse_kernel_mode(args, options);
    if (threads) options.threads = parse_threads(*threads);
  }
  int64_t fault = -1;
  if (auto f = args.get("--inject-fault")) {
    if (!check) throw UsageError("run: --inject-fault needs --check");
    auto [end, ec] = std::from_chars(f->data(), f->data() + f->size(), fault);
    if (ec != std::errc() || end != f->data() + f->size() || fault < 0)
      throw UsageError("--inject-fault must be an instruction index, got '" + *f + "'");
  }
  std::optional<std::filesystem::path> weights;
  if (auto w = args.get("--weights")) weights = *w;
  Model m = load_model(args.positional(0), weights, load_options(args));
  std::vector<Tensor<double>> inputs = read_inputs(*input);
  std::cout << "semantics: " << semantics_name(sem) << "\n";
  if (compiled) {
    std::cout << "runtime: compiled, mode " << runtime::mode_name(options.mode) << ", threads "
              << options.threads << "\n";
    if (sem == Semantics::f32) return compile_and_report<float>(m, inputs, options, check, fault, args);
    return compile_and_report<double>(m, inputs, options, check, fault, args);
  }
  switch (sem) {
    case Semantics::f32: return evaluate_and_report<F32>(m, inputs, args);
    case Semantics::f64: return evaluate_and_report<F64>(m, inputs, args);
    case Semantics::exact: return evaluate_and_report<Exact>(m, inputs, args);
  }
  return 1;
}

}  // namespace

const Command kRun{{"run", "MODEL.json --weights W --input X.npy [--semantics f32|f64|exact] [--mode exact|fast] [--threads N] [--check] [--output Y.npy]",
                    "Evaluate a model with the reference evaluator or the compiled runtime and print its output(s).",
                    {"MODEL.json"},
                    {{"--weights", "W", "weights (.safetensors, state-dict .json, paramlist bits .json)"},
                     kBatchOption,
                     {"--input", "X.npy", "input tensor(s), comma-separated for several graph inputs"},
                     {"--semantics", "D", "scalar domain: f32 (default), f64 or exact"},
                     {"--mode", "M", "compiled runtime: exact (bit-identical to the reference, default) or fast (bounded)"},
                     kFastVariantsOption,
                     {"--threads", "N", "compiled runtime: worker threads (exact mode: the results do not depend on N)"},
                     {"--check", "", "compiled runtime: compare every node with the reference evaluator; exit 1 if any differs"},
                     {"--inject-fault", "I", "testing --check: flip the lowest bit of instruction I's first output element"},
                     {"--output", "Y.npy", "write the output (exact: nearest binary64 of the midpoint)"}}},
                   run_run};

}  // namespace torchlean::cli
