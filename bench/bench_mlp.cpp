// MLP 784-256-256-10 (ReLU) inference: our compiled Programs (exact and fast mode) vs libtorch's
// C++ API (torch::nn::Linear + relu, NoGradGuard, at::set_num_threads matching ours), at batch 1
// and 256 with 1 and 2 threads, all in one process and interleaved repetition by repetition so
// every contender sees the same machine load (the machine is shared: the best of the repetitions
// is reported, with the median alongside). Also: the compiled exact Program vs the reference
// evaluator (interp::evaluate_outputs<F32>) on the same model, and each Program's arena against
// its liveness lower bound. Prints markdown tables (docs/performance.md).
//
//   bench_mlp [--reps N] [--min-time S]
//
// Every contender computes the same function on the same binary32 weights and inputs; before
// timing, the outputs are compared (ours exact == reference bit for bit; fast and libtorch within
// a loose 1e-4 relative sanity tolerance, which only guards against benchmarking a wrong model).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "torchlean/compile/compile.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/runtime/program.hpp"
#include "torchlean/scalar/f32.hpp"

namespace {

using namespace torchlean;

constexpr int64_t kIn = 784, kHidden = 256, kOut = 10;

struct Model {
  ir::Graph graph;
  ir::Payload payload;
};

// Uniform in [-s, s), rounded to binary32 (the binary64 payload then holds binary32 values).
std::vector<double> uniform(SplitMix64& rng, int64_t n, double s) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v)
    x = static_cast<float>((static_cast<double>(rng.next() >> 11) * 0x1p-53 * 2 - 1) * s);
  return v;
}

Model mlp(int64_t batch, uint64_t seed) {
  Model m;
  SplitMix64 rng(seed);
  ir::Graph& g = m.graph;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{batch, kIn});
  int64_t h = x;
  const int64_t widths[] = {kIn, kHidden, kHidden, kOut};
  for (int layer = 0; layer < 3; ++layer) {
    const int64_t in = widths[layer], out = widths[layer + 1];
    h = g.add(ir::OpKind::linear, {h}, ir::NoAttrs{}, Shape{batch, out});
    m.payload[h].emplace(
        "weight",
        Tensor<double>(Shape{out, in}, uniform(rng, out * in, 1 / std::sqrt(double(in)))));
    m.payload[h].emplace("bias", Tensor<double>(Shape{out}, uniform(rng, out, 0.1)));
    if (layer < 2) h = g.add(ir::OpKind::relu, {h}, ir::NoAttrs{}, Shape{batch, out});
  }
  g.input_ids = {x};
  g.output_ids = {h};
  return m;
}

struct Timing {
  std::vector<double> per_run;  // seconds per forward pass, one entry per repetition
  double best() const { return *std::min_element(per_run.begin(), per_run.end()); }
  double median() const {
    std::vector<double> v = per_run;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
};

// Runs f repeatedly for at least `min_time` seconds (at least once) and returns seconds per call.
double time_per_call(const std::function<void()>& f, double min_time) {
  int64_t calls = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    f();
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (elapsed < min_time);
  return elapsed / static_cast<double>(calls);
}

std::string us(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 1e-3 ? "%.1f us" : "%.3f ms", s < 1e-3 ? s * 1e6 : s * 1e3);
  return buf;
}

std::string ratio(double a, double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", a / b);
  return buf;
}

struct Contender {
  std::string name;
  std::function<void()> run;
  Timing t;
};

void check_close(const float* got, const float* want, int64_t n, const char* what) {
  for (int64_t i = 0; i < n; ++i)
    if (!(std::fabs(got[i] - want[i]) <= 1e-4f * std::max(1.0f, std::fabs(want[i])))) {
      std::fprintf(stderr, "bench_mlp: %s output %lld differs: %g vs %g\n", what,
                   static_cast<long long>(i), got[i], want[i]);
      std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  double min_time = 0.05;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--min-time") && i + 1 < argc)
      min_time = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_mlp [--reps N] [--min-time SECONDS]\n");
      return 2;
    }
  }
  torch::NoGradGuard no_grad;
  std::printf("## MLP 784-256-256-10 inference (binary32), best of %d repetitions (median)\n\n",
              reps);
  std::printf(
      "| batch | threads | ours exact | ours fast | libtorch | exact / libtorch | fast / libtorch "
      "|\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::vector<std::string> memory_rows, reference_rows;
  for (int64_t batch : {int64_t{1}, int64_t{256}}) {
    const Model m = mlp(batch, 42);
    const ir::PayloadStore<float> payload = runtime::to_runtime_payload<float>(m.payload);
    SplitMix64 rng(7);
    const std::vector<double> xd = uniform(rng, batch * kIn, 1.0);
    std::vector<float> x(xd.begin(), xd.end());
    std::vector<float> y_exact(static_cast<size_t>(batch * kOut)), y_fast(y_exact.size());

    // libtorch: the same weights in nn::Linear layers.
    torch::nn::Sequential net(torch::nn::Linear(kIn, kHidden), torch::nn::Functional(torch::relu),
                              torch::nn::Linear(kHidden, kHidden),
                              torch::nn::Functional(torch::relu), torch::nn::Linear(kHidden, kOut));
    net->eval();
    {
      int layer = 0;
      for (int64_t id : {int64_t{1}, int64_t{3}, int64_t{5}}) {
        auto lin = net[static_cast<size_t>(layer)]->as<torch::nn::Linear>();
        const auto& w = payload.at(id).at("weight");
        const auto& b = payload.at(id).at("bias");
        lin->weight.copy_(torch::from_blob(const_cast<float*>(w.data().data()),
                                           {w.shape()[0], w.shape()[1]}, torch::kFloat32));
        lin->bias.copy_(
            torch::from_blob(const_cast<float*>(b.data().data()), {b.shape()[0]}, torch::kFloat32));
        layer += 2;
      }
    }
    const torch::Tensor tx = torch::from_blob(x.data(), {batch, kIn}, torch::kFloat32).clone();
    torch::Tensor ty;

    // The reference evaluator on the same model (one repetition is plenty at these speeds).
    std::vector<Tensor<F32>> ref_in{Tensor<F32>(Shape{batch, kIn})};
    for (int64_t i = 0; i < batch * kIn; ++i) ref_in[0][i] = F32::of(x[static_cast<size_t>(i)]);
    const ir::PayloadStore<F32> ref_payload = ir::convert_payload<F32>(m.payload);
    std::vector<Tensor<F32>> ref_out;
    const double ref_time = time_per_call(
        [&] { ref_out = interp::evaluate_outputs<F32>(m.graph, ref_payload, ref_in); }, 0.2);

    for (int threads : {1, 2}) {
      at::set_num_threads(threads);
      auto exact = compile::compile<float>(
          m.graph, payload,
          compile::CompileOptions{runtime::KernelMode::exact, true, true, threads});
      auto fast = compile::compile<float>(
          m.graph, payload,
          compile::CompileOptions{runtime::KernelMode::fast, true, true, threads});
      const float* in[] = {x.data()};
      float* out_exact[] = {y_exact.data()};
      float* out_fast[] = {y_fast.data()};
      std::vector<Contender> cs;
      cs.push_back({"exact", [&] { exact.run(in, out_exact); }, {}});
      cs.push_back({"fast", [&] { fast.run(in, out_fast); }, {}});
      cs.push_back({"libtorch", [&] { ty = net->forward(tx); }, {}});
      for (auto& c : cs) c.run();  // warm-up, and outputs for the sanity check
      for (int64_t i = 0; i < batch * kOut; ++i)
        if (std::memcmp(&y_exact[static_cast<size_t>(i)], &ref_out[0][i].v, sizeof(float)) != 0) {
          std::fprintf(stderr, "bench_mlp: exact program differs from the reference at %lld\n",
                       static_cast<long long>(i));
          return 1;
        }
      check_close(y_fast.data(), y_exact.data(), batch * kOut, "fast");
      check_close(ty.contiguous().data_ptr<float>(), y_exact.data(), batch * kOut, "libtorch");
      for (int r = 0; r < reps; ++r)
        for (auto& c : cs) c.t.per_run.push_back(time_per_call(c.run, min_time));
      auto cell = [](const Timing& t) { return us(t.best()) + " (" + us(t.median()) + ")"; };
      std::printf("| %lld | %d | %s | %s | %s | %s | %s |\n", static_cast<long long>(batch),
                  threads, cell(cs[0].t).c_str(), cell(cs[1].t).c_str(), cell(cs[2].t).c_str(),
                  ratio(cs[0].t.best(), cs[2].t.best()).c_str(),
                  ratio(cs[1].t.best(), cs[2].t.best()).c_str());
      if (threads == 1) {
        char row[256];
        std::snprintf(row, sizeof row, "| %lld | %s | %s | %.0fx |", static_cast<long long>(batch),
                      us(ref_time).c_str(), us(cs[0].t.best()).c_str(), ref_time / cs[0].t.best());
        reference_rows.push_back(row);
        const auto& plan = exact.code().plan;
        std::snprintf(
            row, sizeof row, "| %lld | %lld | %lld | %.3f |", static_cast<long long>(batch),
            static_cast<long long>(plan.arena_bytes),
            static_cast<long long>(plan.lower_bound_bytes),
            static_cast<double>(plan.arena_bytes) / static_cast<double>(plan.lower_bound_bytes));
        memory_rows.push_back(row);
      }
    }
  }
  std::printf("\n## Compiled exact Program vs the reference evaluator (1 thread)\n\n");
  std::printf("| batch | reference evaluator | compiled exact | speed-up |\n|---|---|---|---|\n");
  for (const auto& r : reference_rows) std::printf("%s\n", r.c_str());
  std::printf("\n## Activation memory: arena (plan peak) vs liveness lower bound\n\n");
  std::printf("| batch | arena bytes | lower bound bytes | ratio |\n|---|---|---|---|\n");
  for (const auto& r : memory_rows) std::printf("%s\n", r.c_str());
  return 0;
}
