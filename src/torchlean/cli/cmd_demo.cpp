// `torchlean demo`: the main job for now. Builds two small example models in code (a tanh/softmax
// MLP and a ReLU CNN with dyadic weights), evaluates each in binary32, binary64 and exact
// arithmetic, and reports how far binary32 and binary64 are from the exact (real-valued) result.
// It also writes each model as torchlean.ir.v1 JSON + safetensors + NPY input so `torchlean run`
// can be tried on it.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/io/npy.hpp"
#include "torchlean/io/safetensors.hpp"

namespace torchlean::cli {

namespace {

struct Example {
  std::string name;
  std::string description;
  Model model;
  Tensor<double> input;
};

// Dyadic values k/(2^15 * denominator) with |k| <= 2^15: exactly representable in binary32, so
// all three domains see the same real-valued model and input, while products and sums need more
// than 24 bits and binary32 has to round.
Tensor<double> dyadic_tensor(Shape shape, SplitMix64& rng, double denominator) {
  Tensor<double> t(std::move(shape));
  for (auto& x : t.vec())
    x = static_cast<double>(static_cast<int64_t>(rng.next() % 65537) - 32768) / (32768.0 * denominator);
  return t;
}

Example tanh_softmax_mlp() {
  SplitMix64 rng(20260224);
  ir::Graph g;
  int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{4});
  int64_t h = g.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{8});
  int64_t t = g.add(ir::OpKind::tanh, {h}, ir::NoAttrs{}, Shape{8});
  int64_t o = g.add(ir::OpKind::linear, {t}, ir::NoAttrs{}, Shape{3});
  int64_t s = g.add(ir::OpKind::softmax, {o}, ir::AxisAttrs{0}, Shape{3});
  g.input_ids = {x};
  g.output_ids = {s};
  ir::Payload p;
  p[h]["weight"] = dyadic_tensor(Shape{8, 4}, rng, 1);
  p[h]["bias"] = dyadic_tensor(Shape{8}, rng, 128);
  p[o]["weight"] = dyadic_tensor(Shape{3, 8}, rng, 1);
  p[o]["bias"] = dyadic_tensor(Shape{3}, rng, 128);
  return {"mlp_tanh_softmax", "linear 4->8, tanh, linear 8->3, softmax", {g, p}, dyadic_tensor(Shape{4}, rng, 0.25)};
}

Example relu_cnn() {
  SplitMix64 rng(20260225);
  ir::Graph g;
  int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{1, 6, 6});
  int64_t c = g.add(ir::OpKind::conv2d, {x}, ir::Conv2dAttrs{1, 2, 3, 3, 1, 0}, Shape{2, 4, 4});
  int64_t r = g.add(ir::OpKind::relu, {c}, ir::NoAttrs{}, Shape{2, 4, 4});
  int64_t mp = g.add(ir::OpKind::max_pool2d, {r}, ir::Pool2dAttrs{2, 2, 2}, Shape{2, 2, 2});
  int64_t f = g.add(ir::OpKind::flatten, {mp}, ir::FlattenAttrs{Shape{2, 2, 2}}, Shape{8});
  int64_t o = g.add(ir::OpKind::linear, {f}, ir::NoAttrs{}, Shape{3});
  g.input_ids = {x};
  g.output_ids = {o};
  ir::Payload p;
  p[c]["weight"] = dyadic_tensor(Shape{2, 1, 3, 3}, rng, 128);
  p[c]["bias"] = dyadic_tensor(Shape{2}, rng, 128);
  p[o]["weight"] = dyadic_tensor(Shape{3, 8}, rng, 8);
  p[o]["bias"] = dyadic_tensor(Shape{3}, rng, 128);
  return {"cnn_relu", "conv2d 1->2 3x3, relu, max_pool2d 2x2, flatten, linear 8->3", {g, p},
          dyadic_tensor(Shape{1, 6, 6}, rng, 4)};
}

template <class S>
std::pair<std::vector<Tensor<S>>, double> timed_eval(const Example& ex, int repeats) {
  ir::PayloadStore<S> payload = ir::convert_payload<S>(ex.model.payload);
  std::vector<Tensor<S>> xs;
  std::vector<S> v;
  for (double d : ex.input.vec()) v.push_back(S::from_double(d));
  xs.emplace_back(ex.input.shape(), std::move(v));
  std::vector<Tensor<S>> ys = interp::evaluate_outputs(ex.model.graph, payload, std::span<const Tensor<S>>(xs));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) ys = interp::evaluate_outputs(ex.model.graph, payload, std::span<const Tensor<S>>(xs));
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / repeats;
  return {ys, us};
}

// Largest distance from a binary value to any point of the exact enclosure, as a rational.
mpq_class distance(double value, const Exact& exact) {
  mpq_class v(value);
  mpq_class a = abs(v - exact.lo), b = abs(v - exact.hi);
  return a > b ? a : b;
}

double ulp_f32(float x) {
  float ax = std::fabs(x);
  return static_cast<double>(std::nextafter(ax, INFINITY) - ax);
}

void report(const Example& ex, const std::filesystem::path& out_dir) {
  std::cout << "== " << ex.name << ": " << ex.description << "\n";
  auto [y32, t32] = timed_eval<F32>(ex, 200);
  auto [y64, t64] = timed_eval<F64>(ex, 200);
  auto [yex, tex] = timed_eval<Exact>(ex, 5);
  const auto& e = yex[0];
  double worst_ulps = 0, worst32 = 0, worst64 = 0;
  for (int64_t i = 0; i < e.numel(); ++i) {
    double d32 = distance(y32[0][i].v, e[i]).get_d();
    double d64 = distance(y64[0][i].v, e[i]).get_d();
    double ulps = d32 / ulp_f32(y32[0][i].v);
    worst32 = std::max(worst32, d32);
    worst64 = std::max(worst64, d64);
    worst_ulps = std::max(worst_ulps, ulps);
    std::cout << "  y[" << i << "]\n"
              << "    exact = " << to_string(e[i]) << "\n"
              << "    f64   = " << to_string(y64[0][i]) << "   |f64 - exact| <= " << std::setprecision(3) << d64 << "\n"
              << "    f32   = " << to_string(y32[0][i]) << "   |f32 - exact| <= " << d32 << " (" << ulps
              << " ulp of binary32)\n";
  }
  std::cout << "  worst |f32 - exact| = " << worst32 << " (" << worst_ulps << " ulp), worst |f64 - exact| = " << worst64
            << "\n  reference evaluator time per run: f32 " << std::setprecision(4) << t32 << " us, f64 " << t64
            << " us, exact " << tex << " us\n";
  std::filesystem::path dir = out_dir / ex.name;
  std::filesystem::create_directories(dir);
  io::write_graph_json_file(dir / "model.json", ex.model.graph, ex.model.payload);
  io::write_safetensors_file(dir / "weights.safetensors", io::payload_to_safetensors(ex.model.payload, io::DType::f64));
  io::write_npy_file(dir / "input.npy", ex.input);
  std::cout << "  wrote " << dir.string() << "/{model.json,weights.safetensors,input.npy}; try:\n"
            << "    torchlean run " << (dir / "model.json").string() << " --weights " << (dir / "weights.safetensors").string()
            << " --input " << (dir / "input.npy").string() << " --semantics exact\n\n";
}

int run_demo(const ParsedArgs& args) {
  std::filesystem::path out = args.get_or("--out", "out/demo");
  std::cout << "torchlean demo: one graph, three meanings (binary32, binary64, exact rationals).\n"
               "Exact values print as p/q; elementary functions have no rational value and print as a\n"
               "decimal with a rigorous [lo, hi] enclosure.\n\n";
  report(tanh_softmax_mlp(), out);
  report(relu_cnn(), out);
  return 0;
}

}  // namespace

const Command kDemo{{"demo", "[--out DIR]",
                     "Evaluate the built-in example models in f32, f64 and exact arithmetic and compare.",
                     {},
                     {{"--out", "DIR", "where to write the example models (default out/demo)"}}},
                    run_demo};

}  // namespace torchlean::cli
