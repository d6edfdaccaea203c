// Training-step benchmark (forward + backward + SGD update): our compiled TrainStep (fast and
// exact mode) vs libtorch's C++ API, for an MLP 784-256-256-10 at batch 128 and a LeNet-style
// CNN on 1x28x28 at batch 64, with the same thread count. One contender per process, so the
// process's peak RSS (getrusage) is that contender's; scripts call it once per contender.
//
//   bench_train mlp|lenet ours-fast|ours-exact|libtorch [--threads N] [--steps N] [--reps N]
//               [--profile]
//
// Prints one markdown row: model, contender, threads, best and median ms per step over the
// repetitions (each the mean of --steps steps after one warm-up step), peak RSS in MiB, and the
// peak minus the RSS before the contender was set up (its own memory, without the libraries).
// With --profile (ours only) it first prints each instruction's mean time in the step, costliest
// first. bench/train_torch.py measures python3-torch the same way.
#include <sys/resource.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/nn/models.hpp"
#include "torchlean/nn/train_step.hpp"

namespace {

using namespace torchlean;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string model, contender;
  int threads = 1, steps = 20, reps = 5;
  bool profile = false;  // ours: per-instruction times instead of the markdown row
};

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// Resident memory now (from /proc/self/statm), to subtract the loaded libraries (libtorch's
// shared objects are mapped in every contender's process).
double rss_now_mib() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

// Times `step` (reps x steps calls after one warm-up) and returns {best, median} ms per step.
template <class F>
std::pair<double, double> time_steps(const Options& o, F&& step) {
  step();
  std::vector<double> ms;
  for (int r = 0; r < o.reps; ++r) {
    const auto t0 = Clock::now();
    for (int s = 0; s < o.steps; ++s) step();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / o.steps);
  }
  std::sort(ms.begin(), ms.end());
  return {ms.front(), ms[ms.size() / 2]};
}

// Prints each instruction's share of the step (instructions run one at a time on the buffers the
// last full step bound), costliest first: where the step's time goes.
template <class F>
void profile_step(const Options& o, runtime::Program<float>& program, F&& step) {
  step();  // binds the step's buffers
  const auto& code = program.code();
  std::vector<double> ms(code.instrs.size(), 0.0);
  for (int r = 0; r < o.reps * o.steps; ++r)
    for (size_t i = 0; i < code.instrs.size(); ++i) {
      const auto t0 = Clock::now();
      program.run_instruction(i);
      ms[i] += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
  double total = 0;
  for (double& v : ms) total += (v /= o.reps * o.steps);
  std::vector<size_t> order(ms.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ms[a] > ms[b]; });
  std::printf("total %.3f ms over %zu instructions\n", total, ms.size());
  for (size_t i : order) {
    const runtime::Instr& in = code.instrs[i];
    const ir::Node& n = code.graph.node(in.nodes.back());
    std::printf("%8.3f ms %5.1f%%  i%zu %s%s %s -> %s\n", ms[i], 100 * ms[i] / total, i,
                std::string(runtime::kernel_name(in.kernel)).c_str(),
                in.mode == runtime::KernelMode::fast ? "[fast]" : "",
                std::string(ir::op_name(n.kind)).c_str(), n.shape.str().c_str());
  }
}

std::pair<double, double> run_ours(const Options& o, int64_t batch, const Shape& example) {
  nn::StepConfig cfg;
  cfg.optimizer.lr = 0.01;
  cfg.compile.mode =
      o.contender == "ours-fast" ? runtime::KernelMode::fast : runtime::KernelMode::exact;
  cfg.compile.threads = o.threads;
  nn::ParamStore params, state;
  const nn::ModulePtr model =
      o.model == "mlp" ? nn::build_model("mlp:784-256-256-10", example) : nn::lenet(10);
  std::vector<int64_t> xd = {batch};
  xd.insert(xd.end(), example.dims().begin(), example.dims().end());
  nn::TrainStep step(*model, Shape(xd), Shape{batch}, cfg, params, state, 1);
  SplitMix64 rng(2);
  std::vector<float> x(static_cast<size_t>(Shape(xd).numel())), y(static_cast<size_t>(batch));
  for (float& v : x) v = static_cast<float>(nn::uniform01(rng));
  for (float& v : y) v = static_cast<float>(rng.next() % 10);
  int64_t t = 0;
  if (o.profile)
    profile_step(o, step.program(), [&] { step.run(x.data(), y.data(), 0.01, ++t, rng); });
  return time_steps(o, [&] { step.run(x.data(), y.data(), 0.01, ++t, rng); });
}

std::pair<double, double> run_libtorch(const Options& o, int64_t batch) {
  at::set_num_threads(o.threads);
  torch::manual_seed(1);
  torch::nn::Sequential net;
  torch::Tensor x;
  if (o.model == "mlp") {
    net = torch::nn::Sequential(torch::nn::Linear(784, 256), torch::nn::ReLU(),
                                torch::nn::Linear(256, 256), torch::nn::ReLU(),
                                torch::nn::Linear(256, 10));
    x = torch::rand({batch, 784});
  } else {
    net = torch::nn::Sequential(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 5).padding(2)), torch::nn::ReLU(),
        torch::nn::MaxPool2d(2), torch::nn::Conv2d(6, 16, 5), torch::nn::ReLU(),
        torch::nn::MaxPool2d(2), torch::nn::Flatten(), torch::nn::Linear(400, 120),
        torch::nn::ReLU(), torch::nn::Linear(120, 84), torch::nn::ReLU(),
        torch::nn::Linear(84, 10));
    x = torch::rand({batch, 1, 28, 28});
  }
  const torch::Tensor y = torch::randint(0, 10, {batch});
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.01));
  return time_steps(o, [&] {
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
  });
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: bench_train mlp|lenet ours-fast|ours-exact|libtorch [--threads N] "
                 "[--steps N] [--reps N] [--profile]\n");
    return 2;
  }
  o.model = argv[1];
  o.contender = argv[2];
  bool bad = false;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--profile")) {
      o.profile = true;
      continue;
    }
    int* target = !std::strcmp(argv[i], "--threads") ? &o.threads
                  : !std::strcmp(argv[i], "--steps") ? &o.steps
                  : !std::strcmp(argv[i], "--reps")  ? &o.reps
                                                     : nullptr;
    if (target == nullptr || i + 1 == argc) {
      bad = true;
      break;
    }
    *target = std::atoi(argv[++i]);
  }
  if (bad || (o.model != "mlp" && o.model != "lenet") ||
      (o.contender != "ours-fast" && o.contender != "ours-exact" && o.contender != "libtorch") ||
      o.threads < 1 || o.steps < 1 || o.reps < 1) {
    std::fprintf(stderr, "bench_train: bad arguments\n");
    return 2;
  }
  const int64_t batch = o.model == "mlp" ? 128 : 64;
  const double base = rss_now_mib();
  const auto [best, median] =
      o.contender == "libtorch" ? run_libtorch(o, batch) : run_ours(o, batch, Shape{28, 28});
  const double peak = peak_rss_mib();
  std::printf("| %s (batch %lld) | %s | %d | %.3f | %.3f | %.1f | %.1f |\n", o.model.c_str(),
              static_cast<long long>(batch), o.contender.c_str(), o.threads, best, median, peak,
              peak - base);
  return 0;
}
