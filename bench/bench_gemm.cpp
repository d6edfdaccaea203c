// Exact-order GEMM (gemm_exact, default ISA path) vs OpenBLAS cblas_sgemm/dgemm, in the same
// process, interleaved repetition by repetition so both see the same machine load; the best time
// of each is reported (the machine is shared). OpenBLAS gets the same thread count as the pool
// (openblas_set_num_threads). Prints a markdown table: GFLOP/s of each and exact / OpenBLAS by
// wall clock, and for one thread also the ratio by the thread's CPU time (which does not count
// time the process was preempted by other jobs).
//
//   bench_gemm [--reps N] [--sizes 256,1024,2048] [--threads 1,2] [--double] [--extra]
//
// --extra adds the shapes the runtime meets in linear layers (B transposed, as x . W^T) and the
// MLP 784-256-256-10's first layer at batch 1 and 256.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace {

using torchlean::runtime::GemmProblem;
using torchlean::runtime::ThreadPool;

std::vector<int64_t> parse_list(const char* s) {
  std::vector<int64_t> out;
  std::string text(s);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(std::stoll(text.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

void blas(const GemmProblem<float>& p) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, p.b_transposed ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(p.m), static_cast<blasint>(p.n), static_cast<blasint>(p.k), 1.0f,
              p.a, static_cast<blasint>(p.lda), p.b, static_cast<blasint>(p.ldb), 0.0f, p.c,
              static_cast<blasint>(p.ldc));
}
void blas(const GemmProblem<double>& p) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, p.b_transposed ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(p.m), static_cast<blasint>(p.n), static_cast<blasint>(p.k), 1.0,
              p.a, static_cast<blasint>(p.lda), p.b, static_cast<blasint>(p.ldb), 0.0, p.c,
              static_cast<blasint>(p.ldc));
}

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Wall-clock and (for one thread, where all work runs on this thread) CPU-time seconds of f.
struct Timing {
  double wall, cpu;
};
template <class F>
Timing timed(F&& f) {
  const double c0 = thread_cpu_seconds();
  const double w = seconds(f);
  return Timing{w, thread_cpu_seconds() - c0};
}

template <class T>
void bench_shape(int64_t m, int64_t n, int64_t k, bool bt, int threads, int reps,
                 const char* label) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)),
      c(static_cast<size_t>(m * n));
  for (T& x : a) x = static_cast<T>(u(rng));
  for (T& x : b) x = static_cast<T>(u(rng));
  GemmProblem<T> p{m, n, k, a.data(), k, b.data(), bt ? k : n, bt, c.data(), n, nullptr};
  ThreadPool pool(threads);
  openblas_set_num_threads(threads);
  const double flops =
      2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  // Enough inner iterations that one timed sample lasts >= ~20 ms.
  int inner = 1;
  const double one = seconds([&] { torchlean::runtime::gemm_exact(p, &pool); });
  if (one < 0.02) inner = static_cast<int>(std::min(100000.0, 0.02 / std::max(one, 1e-7)));
  blas(p);
  Timing best_exact{1e30, 1e30}, best_blas{1e30, 1e30};
  auto keep_best = [inner](Timing& best, Timing t) {
    best.wall = std::min(best.wall, t.wall / inner);
    best.cpu = std::min(best.cpu, t.cpu / inner);
  };
  for (int r = 0; r < reps; ++r) {
    keep_best(best_exact, timed([&] {
                for (int i = 0; i < inner; ++i) torchlean::runtime::gemm_exact(p, &pool);
              }));
    keep_best(best_blas, timed([&] {
                for (int i = 0; i < inner; ++i) blas(p);
              }));
  }
  const double g_exact = flops / best_exact.wall * 1e-9, g_blas = flops / best_blas.wall * 1e-9;
  char cpu_ratio[32] = "-";
  if (threads == 1)
    std::snprintf(cpu_ratio, sizeof cpu_ratio, "%.2f", best_blas.cpu / best_exact.cpu);
  std::printf("| %s | %lld x %lld x %lld%s | %d | %.1f | %.1f | %.2f | %s | %.1f | %.1f |\n", label,
              static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k),
              bt ? " (B^T)" : "", threads, g_exact, g_blas, g_exact / g_blas, cpu_ratio,
              best_exact.wall * 1e6, best_blas.wall * 1e6);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  std::vector<int64_t> sizes = {256, 1024, 2048};
  std::vector<int64_t> threads = {1, 2};
  bool use_double = false, extra = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (arg == "--sizes" && i + 1 < argc) {
      sizes = parse_list(argv[++i]);
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = parse_list(argv[++i]);
    } else if (arg == "--double") {
      use_double = true;
    } else if (arg == "--extra") {
      extra = true;
    } else {
      std::fprintf(stderr, "bench_gemm: unknown argument '%s'\n", arg.c_str());
      return 2;
    }
  }
  const char* type = use_double ? "f64" : "f32";
  std::printf("exact-order path: %s; OpenBLAS core: %s\n\n",
              torchlean::runtime::gemm_path_name(torchlean::runtime::gemm_default_path()),
              openblas_get_corename());
  std::printf(
      "| type | m x n x k | threads | exact GFLOP/s | OpenBLAS GFLOP/s | exact / OpenBLAS | "
      "same, by CPU time | exact us | OpenBLAS us |\n|---|---|---|---|---|---|---|---|---|\n");
  auto run = [&](int64_t m, int64_t n, int64_t k, bool bt, int t) {
    if (use_double)
      bench_shape<double>(m, n, k, bt, t, reps, type);
    else
      bench_shape<float>(m, n, k, bt, t, reps, type);
  };
  for (int64_t t : threads)
    for (int64_t s : sizes) run(s, s, s, false, static_cast<int>(t));
  if (extra) {
    for (int64_t t : threads) {
      run(1024, 1024, 1024, true, static_cast<int>(t));
      run(1, 256, 784, true, static_cast<int>(t));
      run(256, 256, 784, true, static_cast<int>(t));
      run(256, 10, 256, true, static_cast<int>(t));
    }
  }
  return 0;
}
