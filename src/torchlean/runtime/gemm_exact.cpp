// The exact-order GEMM driver: CPU dispatch, packing, cache blocking and the split into tasks.
// The loops follow the usual BLIS order (column block nc, k block kc, row block mc, then register
// tiles); the only change for exact order is that the first k block starts every accumulator at
// +0 and later blocks reload the partial sum the previous block stored in C. Tasks are output
// tiles, chosen from the shape alone, so the thread count never changes a result.
#include <algorithm>
#include <limits>
#include <new>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/gemm_kernels.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {

namespace {

bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && cpu_has_avx2_fma();
}

template <class T>
const detail::GemmKernels<T>& kernels_for(GemmPath path) {
  if constexpr (sizeof(T) == 4) {
    switch (path) {
      case GemmPath::avx512:
        return detail::gemm_kernels_avx512_f32();
      case GemmPath::avx2:
        return detail::gemm_kernels_avx2_f32();
      case GemmPath::portable:
        break;
    }
    return detail::gemm_kernels_portable_f32();
  } else {
    switch (path) {
      case GemmPath::avx512:
        return detail::gemm_kernels_avx512_f64();
      case GemmPath::avx2:
        return detail::gemm_kernels_avx2_f64();
      case GemmPath::portable:
        break;
    }
    return detail::gemm_kernels_portable_f64();
  }
}

// A 64-byte aligned buffer that only grows: packing memory is reused across calls, so a steady
// state of same-sized products allocates nothing.
template <class T>
class GrowBuffer {
 public:
  GrowBuffer() = default;
  GrowBuffer(const GrowBuffer&) = delete;
  GrowBuffer& operator=(const GrowBuffer&) = delete;
  ~GrowBuffer() { release(); }
  T* get(int64_t elems) {
    if (elems > cap_) {
      release();
      data_ = static_cast<T*>(
          ::operator new(static_cast<size_t>(elems) * sizeof(T), std::align_val_t(64)));
      cap_ = elems;
    }
    return data_;
  }

 private:
  void release() {
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t(64));
    data_ = nullptr;
    cap_ = 0;
  }
  T* data_ = nullptr;
  int64_t cap_ = 0;
};

template <class T>
struct PackBuffers {
  GrowBuffer<T> a, b;
};

// Per calling thread; the pool's workers read them while the caller waits in parallel_for.
template <class T>
PackBuffers<T>& pack_buffers() {
  thread_local PackBuffers<T> buffers;
  return buffers;
}

template <class T>
T canonical(T x) {
  return x == x ? x : std::numeric_limits<T>::quiet_NaN();
}

// k == 0: every fold is empty, so C = +0 (+ bias) exactly as the reference.
template <class T>
void gemm_empty_k(const GemmProblem<T>& p) {
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j)
      p.c[i * p.ldc + j] =
          canonical(p.bias != nullptr ? T(0) + p.bias[p.bias_per_row ? i : j] : T(0));
}

// B[pc .. pc+kc, j0 .. j0+nr) into the kernel's panel layout, zero beyond n.
template <class T>
void pack_b_panel(const detail::GemmKernels<T>& kern, const GemmProblem<T>& p, int64_t pc,
                  int64_t kc, int64_t j0, T* dst) {
  const int cols = static_cast<int>(p.n - j0 < kern.nr ? p.n - j0 : kern.nr);
  const T* b = p.b_transposed ? p.b + j0 * p.ldb + pc : p.b + pc * p.ldb + j0;
  kern.pack_b(b, p.ldb, p.b_transposed, cols, kc, dst);
}

// A[i0 .. i0+mr, pc .. pc+kc) into the kernel's sliver layout, zero beyond m.
template <class T>
void pack_a_sliver(const detail::GemmKernels<T>& kern, const GemmProblem<T>& p, int64_t pc,
                   int64_t kc, int64_t i0, T* dst) {
  const int rows = static_cast<int>(p.m - i0 < kern.mr ? p.m - i0 : kern.mr);
  kern.pack_a(p.a + i0 * p.lda + pc, p.lda, rows, kc, dst);
}

// Runs the micro-kernel on one tile (A packed, or read in place when direct_a); a tile that sticks
// out of C goes through a full-size copy.
template <class T>
void run_tile(const detail::GemmKernels<T>& kern, const GemmProblem<T>& p, int64_t kc, const T* a,
              bool direct_a, const T* b, int64_t i0, int64_t j0, bool first, bool last) {
  const int mr = kern.mr, nr = kern.nr;
  const auto micro = direct_a ? kern.micro_direct_a : kern.micro;
  const bool rows_bias = p.bias_per_row;
  const T* bias = (last && p.bias != nullptr) ? p.bias + (rows_bias ? i0 : j0) : nullptr;
  T* c = p.c + i0 * p.ldc + j0;
  const int rows = static_cast<int>(p.m - i0 < mr ? p.m - i0 : mr);
  const int cols = static_cast<int>(p.n - j0 < nr ? p.n - j0 : nr);
  if (rows == mr && cols == nr) {
    micro(kc, a, p.lda, b, c, p.ldc, first, last, bias, rows_bias);
    return;
  }
  constexpr int kMaxTile = 512;
  alignas(64) T tile[kMaxTile];
  alignas(64) T tile_bias[64];
  TL_INTERNAL_CHECK(mr * nr <= kMaxTile && nr <= 64 && mr <= 64,
                    "gemm: register tile larger than the edge buffer");
  if (!first)
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) tile[i * nr + j] = c[i * p.ldc + j];
  if (bias != nullptr) {
    const int len = rows_bias ? mr : nr, valid = rows_bias ? rows : cols;
    for (int e = 0; e < len; ++e) tile_bias[e] = e < valid ? bias[e] : T(0);
    bias = tile_bias;
  }
  micro(kc, a, p.lda, b, tile, nr, first, last, bias, rows_bias);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) c[i * p.ldc + j] = tile[i * nr + j];
}

template <class F>
void for_tasks(ThreadPool* pool, int64_t n, F&& fn) {
  if (pool != nullptr && pool->size() > 1 && n > 1)
    pool->parallel_for(n, fn);
  else
    for (int64_t i = 0; i < n; ++i) fn(i);
}

template <class T>
void gemm_packed(const detail::GemmKernels<T>& wide, const GemmProblem<T>& p, ThreadPool* pool) {
  const detail::GemmKernels<T>& kern =
      (wide.narrow != nullptr && p.n <= wide.narrow->nr) ? *wide.narrow : wide;
  const int mr = kern.mr, nr = kern.nr;
  // With at most two B panels, each A sliver is used at most twice: read A in place instead of
  // packing it (only a partial last sliver, whose missing rows must read as zeros, is packed).
  const bool direct_a = (p.n + nr - 1) / nr <= 2;
  PackBuffers<T>& buf = pack_buffers<T>();
  const int64_t nc_max = p.n < kern.nc ? p.n : kern.nc;
  const int64_t kc_max = p.k < kern.kc ? p.k : kern.kc;
  const int64_t mc_max = p.m < kern.mc ? p.m : kern.mc;
  T* bpack = buf.b.get(((nc_max + nr - 1) / nr) * nr * kc_max);
  T* apack = buf.a.get(((mc_max + mr - 1) / mr) * mr * kc_max);
  for (int64_t jc = 0; jc < p.n; jc += kern.nc) {
    const int64_t nc = p.n - jc < kern.nc ? p.n - jc : kern.nc;
    const int64_t panels = (nc + nr - 1) / nr;
    for (int64_t pc = 0; pc < p.k; pc += kern.kc) {
      const int64_t kc = p.k - pc < kern.kc ? p.k - pc : kern.kc;
      const bool first = pc == 0, last = pc + kc == p.k;
      for_tasks(pool, panels, [&](int64_t q) {
        pack_b_panel(kern, p, pc, kc, jc + q * nr, bpack + q * nr * kc);
      });
      for (int64_t ic = 0; ic < p.m; ic += kern.mc) {
        const int64_t mc = p.m - ic < kern.mc ? p.m - ic : kern.mc;
        const int64_t slivers = (mc + mr - 1) / mr;
        const bool last_partial = mc % mr != 0;
        if (!direct_a) {
          for_tasks(pool, slivers, [&](int64_t s) {
            pack_a_sliver(kern, p, pc, kc, ic + s * mr, apack + s * mr * kc);
          });
        } else if (last_partial) {
          pack_a_sliver(kern, p, pc, kc, ic + (slivers - 1) * mr, apack + (slivers - 1) * mr * kc);
        }
        // Tasks: each B panel (kept in L1 across the A slivers), the slivers split into groups
        // when there are too few panels to occupy the threads. Depends on the shape only.
        constexpr int64_t kTargetTasks = 16;
        const int64_t groups_per_panel =
            panels >= kTargetTasks
                ? 1
                : std::min<int64_t>(slivers, (kTargetTasks + panels - 1) / panels);
        const int64_t per_group = (slivers + groups_per_panel - 1) / groups_per_panel;
        for_tasks(pool, panels * groups_per_panel, [&](int64_t t) {
          const int64_t q = t / groups_per_panel;
          const int64_t s0 = (t % groups_per_panel) * per_group;
          const int64_t s1 = std::min<int64_t>(slivers, s0 + per_group);
          for (int64_t s = s0; s < s1; ++s) {
            const int64_t i0 = ic + s * mr;
            const bool in_place = direct_a && !(last_partial && s == slivers - 1);
            const T* a = in_place ? p.a + i0 * p.lda + pc : apack + s * mr * kc;
            run_tile(kern, p, kc, a, in_place, bpack + q * nr * kc, i0, jc + q * nr, first, last);
          }
        });
      }
    }
  }
}

template <class T>
void gemm_small_m(const detail::GemmKernels<T>& kern, const GemmProblem<T>& p, ThreadPool* pool) {
  const int64_t chunk = kern.small_n_chunk;
  const int64_t chunks = (p.n + chunk - 1) / chunk;
  for_tasks(pool, chunks, [&](int64_t t) {
    const int64_t j0 = t * chunk;
    const int64_t j1 = std::min<int64_t>(p.n, j0 + chunk);
    kern.small_m(p.m, j0, j1, p.k, p.a, p.lda, p.b, p.ldb, p.b_transposed, p.c, p.ldc, p.bias,
                 p.bias_per_row);
  });
}

// Below this many multiply-adds a product runs on the calling thread: waking the pool costs more.
constexpr double kParallelMinFlops = 1 << 17;

template <class T>
void gemm_exact_on(const detail::GemmKernels<T>& kern, const GemmProblem<T>& p, ThreadPool* pool) {
  if (p.m <= 0 || p.n <= 0) return;
  if (p.k <= 0) {
    gemm_empty_k(p);
    return;
  }
  if (static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k) <
      kParallelMinFlops)
    pool = nullptr;
  if (kern.small_m != nullptr && p.m <= kern.small_m_max)
    gemm_small_m(kern, p, pool);
  else
    gemm_packed(kern, p, pool);
}

}  // namespace

const char* gemm_path_name(GemmPath path) {
  switch (path) {
    case GemmPath::portable:
      return "portable";
    case GemmPath::avx2:
      return "avx2";
    case GemmPath::avx512:
      return "avx512";
  }
  return "unknown";
}

bool gemm_path_supported(GemmPath path) {
  switch (path) {
    case GemmPath::portable:
      return true;
    case GemmPath::avx2:
      return cpu_has_avx2_fma();
    case GemmPath::avx512:
      return cpu_has_avx512();
  }
  return false;
}

GemmPath gemm_default_path() {
  static const GemmPath best = cpu_has_avx512()     ? GemmPath::avx512
                               : cpu_has_avx2_fma() ? GemmPath::avx2
                                                    : GemmPath::portable;
  return best;
}

template <class T>
void gemm_exact(const GemmProblem<T>& p, ThreadPool* pool) {
  gemm_exact_on(kernels_for<T>(gemm_default_path()), p, pool);
}

template <class T>
void gemm_exact(const GemmProblem<T>& p, ThreadPool* pool, GemmPath path) {
  if (!gemm_path_supported(path))
    throw UserError(std::string("gemm: the ") + gemm_path_name(path) +
                    " path is not supported by this CPU");
  gemm_exact_on(kernels_for<T>(path), p, pool);
}

template void gemm_exact<float>(const GemmProblem<float>&, ThreadPool*);
template void gemm_exact<double>(const GemmProblem<double>&, ThreadPool*);
template void gemm_exact<float>(const GemmProblem<float>&, ThreadPool*, GemmPath);
template void gemm_exact<double>(const GemmProblem<double>&, ThreadPool*, GemmPath);

}  // namespace torchlean::runtime
