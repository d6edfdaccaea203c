// conv2d_nchw and its gradient ops (runtime/conv_nchw.hpp) vs libtorch's conv2d forward and
// autograd backward, binary32, in the same process, interleaved repetition by repetition so all
// see the same machine load; the best time of each is reported (the machine is shared). libtorch
// gets the same intra-op thread count as the runtime's pool. Prints a markdown table.
//
//   bench_conv [--reps N] [--threads 1,2]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "torchlean/runtime/conv_nchw.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace {

using torchlean::runtime::ConvNchwGeometry;
using torchlean::runtime::ThreadPool;

struct Case {
  const char* name;
  int64_t n, c, h, w, o, k, stride, pad, groups;
};

// A LeNet/MNIST layer, a CIFAR ResNet block conv, a strided grouped conv.
const Case kCases[] = {
    {"mnist 32x(16,14,14) -> 32, 3x3", 32, 16, 14, 14, 32, 3, 1, 1, 1},
    {"cifar 16x(64,16,16) -> 64, 3x3", 16, 64, 16, 16, 64, 3, 1, 1, 1},
    {"grouped 16x(64,16,16) -> 64, 3x3 s2 g4", 16, 64, 16, 16, 64, 3, 2, 1, 4},
};

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

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

}  // namespace

int main(int argc, char** argv) {
  int reps = 10;
  std::vector<int64_t> thread_counts{1, 2};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) thread_counts = parse_list(argv[++i]);
  }
  std::printf(
      "| case | threads | exact fwd ms | fast fwd ms | torch fwd ms | exact grad_input + "
      "grad_weight ms | torch forward + backward ms |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uni(-1, 1);
  for (const Case& cs : kCases) {
    ConvNchwGeometry g;
    g.batch = cs.n;
    g.in_c = cs.c;
    g.in_h = cs.h;
    g.in_w = cs.w;
    g.out_c = cs.o;
    g.k_h = g.k_w = cs.k;
    g.stride_h = g.stride_w = cs.stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = cs.pad;
    g.groups = cs.groups;
    g.out_h = torchlean::runtime::conv_nchw_out_extent(cs.h, cs.k, cs.stride, cs.pad, cs.pad, 1);
    g.out_w = torchlean::runtime::conv_nchw_out_extent(cs.w, cs.k, cs.stride, cs.pad, cs.pad, 1);
    auto random = [&](int64_t n) {
      std::vector<float> v(static_cast<size_t>(n));
      for (float& e : v) e = uni(rng);
      return v;
    };
    const int64_t ysize = g.batch * g.out_c * g.out_h * g.out_w;
    std::vector<float> x = random(g.batch * g.in_c * g.in_h * g.in_w);
    std::vector<float> w = random(g.out_c * g.group_in() * cs.k * cs.k), b = random(g.out_c);
    std::vector<float> gy = random(ysize), y(static_cast<size_t>(ysize)), dx(x.size()),
                       dw(w.size());
    const torch::Tensor tx = torch::from_blob(x.data(), {cs.n, cs.c, cs.h, cs.w}).clone();
    const torch::Tensor tw =
        torch::from_blob(w.data(), {cs.o, cs.c / cs.groups, cs.k, cs.k}).clone();
    const torch::Tensor tb = torch::from_blob(b.data(), {cs.o}).clone();
    const torch::Tensor tg = torch::from_blob(gy.data(), {cs.n, cs.o, g.out_h, g.out_w}).clone();
    for (int64_t threads : thread_counts) {
      ThreadPool pool(static_cast<int>(threads));
      torch::set_num_threads(static_cast<int>(threads));
      std::vector<float> ws(static_cast<size_t>(
          std::max({torchlean::runtime::conv_nchw_workspace_elems(g, static_cast<int>(threads)),
                    torchlean::runtime::conv_nchw_grad_input_workspace_elems(g),
                    torchlean::runtime::conv_nchw_grad_weight_workspace_elems(g), int64_t{1}})));
      double best[5] = {1e30, 1e30, 1e30, 1e30, 1e30};
      for (int r = 0; r < reps + 1; ++r) {  // the first repetition warms up
        const double t[5] = {
            seconds([&] {
              torchlean::runtime::conv2d_nchw_exact(g, x.data(), w.data(), b.data(), y.data(),
                                                    ws.data(), &pool);
            }),
            seconds([&] {
              torchlean::runtime::conv2d_nchw_fast(g, x.data(), w.data(), b.data(), y.data(),
                                                   ws.data(), &pool);
            }),
            seconds([&] {
              torch::NoGradGuard no_grad;
              auto out = torch::conv2d(tx, tw, tb, cs.stride, cs.pad, 1, cs.groups);
            }),
            seconds([&] {
              torchlean::runtime::conv2d_nchw_grad_input_exact(g, gy.data(), w.data(), dx.data(),
                                                               ws.data(), &pool);
              torchlean::runtime::conv2d_nchw_grad_weight_exact(g, x.data(), gy.data(), dw.data(),
                                                                ws.data(), &pool);
            }),
            seconds([&] {
              torch::Tensor ax = tx.clone().requires_grad_(true);
              torch::Tensor aw = tw.clone().requires_grad_(true);
              torch::conv2d(ax, aw, {}, cs.stride, cs.pad, 1, cs.groups).backward(tg);
            }),
        };
        if (r > 0)
          for (int k = 0; k < 5; ++k) best[k] = std::min(best[k], t[k]);
      }
      std::printf("| %s | %lld | %.2f | %.2f | %.2f | %.2f | %.2f |\n", cs.name,
                  static_cast<long long>(threads), best[0] * 1e3, best[1] * 1e3, best[2] * 1e3,
                  best[3] * 1e3, best[4] * 1e3);
    }
  }
  return 0;
}
