// Elementwise and reduction kernels, binary32, per instruction-set path (docs/performance.md,
// "Elementwise and reduction kernels"). Plain chrono (best of 7 runs), prints markdown tables:
// 1. the vectorised elementary functions (runtime/vmath.hpp) against the scalar correctly rounded
//    F32 functions, ns per element, exact and fast variants; inputs 2^16 values uniform in [-8, 8]
//    ((0, 8] for log);
// 2. elementwise and reduction kernels (runtime/elementwise.hpp, runtime/reduce.hpp) against the
//    plain reference-style loop (one IeeeScalar operation per element, as ops/ computes), ns per
//    element; inputs uniform in [-1, 1].
#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <vector>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/runtime/elementwise.hpp"
#include "torchlean/runtime/reduce.hpp"
#include "torchlean/runtime/vmath.hpp"
#include "torchlean/scalar/elementary.hpp"

using namespace torchlean;
using namespace torchlean::runtime;

namespace {

template <class Fn>
double ns_per_element(Fn fn, int64_t n) {
  double best = 1e30;
  for (int rep = 0; rep < 7; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n));
  }
  return best;
}

}  // namespace

// Table 2: each kernel vs a reference-style loop over IeeeScalar values.
void kernel_table() {
  constexpr int64_t n = 1 << 20;
  SplitMix64 rng(2);
  std::vector<float> a(n), b(n), y(n);
  for (float& v : a) v = static_cast<float>(static_cast<double>(rng.next() >> 11) * 0x1p-52 - 1);
  for (float& v : b) v = static_cast<float>(static_cast<double>(rng.next() >> 11) * 0x1p-52 - 1);
  const auto* fa = reinterpret_cast<const F32*>(a.data());
  const auto* fb = reinterpret_cast<const F32*>(b.data());
  auto* fy = reinterpret_cast<F32*>(y.data());
  struct Row {
    const char* name;
    double elements;
    std::function<void()> plain, kernel;
  };
  volatile float sink = 0;
  const std::vector<Row> rows = {
      {"relu (2^20)", n,
       [&] { for (int64_t i = 0; i < n; ++i) fy[i] = maximum(fa[i], F32::of(0)); },
       [&] { unary_exact(UnaryOp::relu, a.data(), y.data(), n); }},
      {"add (2^20)", n, [&] { for (int64_t i = 0; i < n; ++i) fy[i] = fa[i] + fb[i]; },
       [&] { binary_exact(BinaryOp::add, a.data(), b.data(), y.data(), n); }},
      {"max_elem (2^20)", n, [&] { for (int64_t i = 0; i < n; ++i) fy[i] = maximum(fa[i], fb[i]); },
       [&] { binary_exact(BinaryOp::maximum, a.data(), b.data(), y.data(), n); }},
      {"fused tanh(x)+b, relu (2^20)", n,
       [&] { for (int64_t i = 0; i < n; ++i) fy[i] = maximum(tanh(fa[i]) + fb[i], F32::of(0)); },
       [&] {
         ElementwiseChain c;
         c.then(ChainStep::of(UnaryOp::tanh, ChainOperand::array(0)))
             .then(ChainStep::of(BinaryOp::add, ChainOperand::value(), ChainOperand::array(1)))
             .then(ChainStep::of(UnaryOp::relu));
         const float* in[] = {a.data(), b.data()};
         chain_run(c, in, static_cast<const float*>(nullptr), y.data(), n);
       }},
      {"sum exact (2^20)", n,
       [&] { F32 s = F32::of(0); for (int64_t i = 0; i < n; ++i) s = s + fa[i]; sink = s.v; },
       [&] { sink = sum_exact(a.data(), n); }},
      {"sum fast (2^20)", n,
       [&] { F32 s = F32::of(0); for (int64_t i = 0; i < n; ++i) s = s + fa[i]; sink = s.v; },
       [&] { sink = sum_fast(a.data(), n); }},
      {"reduce_sum rows (4096, 256)", n,
       [&] { for (int64_t o = 0; o < 4096; ++o) { F32 s = F32::of(0); for (int64_t k = 0; k < 256; ++k) s = s + fa[o * 256 + k]; fy[o] = s; } },
       [&] { reduce_sum_exact(a.data(), y.data(), 4096, 256, 1); }},
      {"softmax (256, 10)", 2560,
       [&] {
         for (int64_t o = 0; o < 256; ++o) {
           F32 m = fa[o * 10], s = F32::of(0);
           for (int k = 0; k < 10; ++k) m = maximum(m, fa[o * 10 + k]);
           for (int k = 0; k < 10; ++k) { fy[o * 10 + k] = exp(fa[o * 10 + k] - m); s = s + fy[o * 10 + k]; }
           for (int k = 0; k < 10; ++k) fy[o * 10 + k] = fy[o * 10 + k] / s;
         }
       },
       [&] { softmax_exact(a.data(), y.data(), 256, 10, 1); }},
      {"softmax (64, 1000)", 64000,
       [&] {
         for (int64_t o = 0; o < 64; ++o) {
           F32 m = fa[o * 1000], s = F32::of(0);
           for (int k = 0; k < 1000; ++k) m = maximum(m, fa[o * 1000 + k]);
           for (int k = 0; k < 1000; ++k) { fy[o * 1000 + k] = exp(fa[o * 1000 + k] - m); s = s + fy[o * 1000 + k]; }
           for (int k = 0; k < 1000; ++k) fy[o * 1000 + k] = fy[o * 1000 + k] / s;
         }
       },
       [&] { softmax_exact(a.data(), y.data(), 64, 1000, 1); }},
      {"layernorm (256, 768)", 256 * 768, nullptr,
       [&] { layernorm_exact(a.data(), y.data(), 256, 768); }},
      {"avg_pool 2x2/2 (16, 64, 64)", 16 * 64 * 64, nullptr,
       [&] { avg_pool2d_exact(a.data(), y.data(), PoolGeometry{16, 64, 64, 32, 32, 2, 2, 2, 0}); }},
      {"max_pool 3x3/1 p1 (16, 64, 64)", 16 * 64 * 64, nullptr,
       [&] { max_pool2d_exact(a.data(), y.data(), PoolGeometry{16, 64, 64, 64, 64, 3, 3, 1, 1}); }},
  };
  const Isa paths[] = {Isa::portable, Isa::avx2, Isa::avx512};
  std::printf("\n| kernel | plain loop |");
  for (Isa isa : paths)
    if (isa_supported(isa)) std::printf(" %s |", std::string(isa_name(isa)).c_str());
  std::printf("\n|---|---|");
  for (Isa isa : paths)
    if (isa_supported(isa)) std::printf("---|");
  std::printf("\n");
  for (const Row& r : rows) {
    if (r.plain)
      std::printf("| %s | %.3f |", r.name, ns_per_element(r.plain, static_cast<int64_t>(r.elements)));
    else
      std::printf("| %s | - |", r.name);
    for (Isa isa : paths) {
      if (!isa_supported(isa)) continue;
      force_isa_for_testing(isa);
      std::printf(" %.3f |", ns_per_element(r.kernel, static_cast<int64_t>(r.elements)));
    }
    force_isa_for_testing(std::nullopt);
    std::printf("\n");
  }
}

int main() {
  constexpr int64_t n = 1 << 16;
  SplitMix64 rng(1);
  std::vector<float> x(n), xpos(n), y(n);
  for (int64_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(rng.next() >> 11) * 0x1p-53;
    x[i] = static_cast<float>(16 * u - 8);
    xpos[i] = static_cast<float>(8 * u + 0x1p-20);
  }
  std::printf("| function | scalar F32 | ");
  const Isa paths[] = {Isa::portable, Isa::avx2, Isa::avx512};
  for (Isa isa : paths)
    if (isa_supported(isa))
      std::printf("%s exact | %s fast | ", std::string(isa_name(isa)).c_str(), std::string(isa_name(isa)).c_str());
  std::printf("\n|---|---|");
  for (Isa isa : paths)
    if (isa_supported(isa)) std::printf("---|---|");
  std::printf("\n");
  for (Elementary f : kAllElementary) {
    const std::vector<float>& in = f == Elementary::log ? xpos : x;
    const double scalar = ns_per_element(
        [&] {
          for (int64_t i = 0; i < n; ++i) y[i] = elementary(f, F32::of(in[i])).v;
        },
        n);
    std::printf("| %s | %.2f | ", std::string(elementary_name(f)).c_str(), scalar);
    for (Isa isa : paths) {
      if (!isa_supported(isa)) continue;
      force_isa_for_testing(isa);
      const double e = ns_per_element([&] { vmath_exact(f, in.data(), y.data(), n); }, n);
      const double q = ns_per_element([&] { vmath_fast(f, in.data(), y.data(), n); }, n);
      std::printf("%.2f | %.2f | ", e, q);
    }
    force_isa_for_testing(std::nullopt);
    std::printf("\n");
  }
  kernel_table();
  return 0;
}
