// `torchlean run`: evaluate a model with the reference evaluator in a chosen scalar domain.
#include <chrono>
#include <iostream>
#include <sstream>

#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/io/npy.hpp"

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
  std::optional<std::filesystem::path> weights;
  if (auto w = args.get("--weights")) weights = *w;
  Model m = load_model(args.positional(0), weights);
  std::vector<Tensor<double>> inputs = read_inputs(*input);
  std::cout << "semantics: " << semantics_name(sem) << "\n";
  switch (sem) {
    case Semantics::f32: return evaluate_and_report<F32>(m, inputs, args);
    case Semantics::f64: return evaluate_and_report<F64>(m, inputs, args);
    case Semantics::exact: return evaluate_and_report<Exact>(m, inputs, args);
  }
  return 1;
}

}  // namespace

const Command kRun{{"run", "MODEL.json --weights W --input X.npy [--semantics f32|f64|exact] [--output Y.npy]",
                    "Evaluate a model with the reference evaluator and print its output(s).",
                    {"MODEL.json"},
                    {{"--weights", "W", "weights (.safetensors, state-dict .json, paramlist bits .json)"},
                     {"--input", "X.npy", "input tensor(s), comma-separated for several graph inputs"},
                     {"--semantics", "D", "scalar domain: f32 (default), f64 or exact"},
                     {"--output", "Y.npy", "write the output (exact: nearest binary64 of the midpoint)"}}},
                   run_run};

}  // namespace torchlean::cli
