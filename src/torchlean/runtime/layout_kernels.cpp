// The layout and random kernels (see layout_kernels.hpp).
#include "torchlean/runtime/layout_kernels.hpp"

#include <cmath>
#include <cstring>

#include "torchlean/core/splitmix.hpp"

namespace torchlean::runtime {

template <class T>
void gather_runs(std::span<const GatherRun> runs, const T* const* in, T* out, T fill) {
  for (const GatherRun& r : runs) {
    if (r.src == kFillRun) {
      for (int64_t t = 0; t < r.count; ++t) out[r.dst + t] = fill;
      continue;
    }
    const T* src = in[r.src] + r.offset;
    T* dst = out + r.dst;
    if (r.step == 1) {
      std::memcpy(dst, src, static_cast<size_t>(r.count) * sizeof(T));
    } else if (r.step == 0) {
      const T v = *src;
      for (int64_t t = 0; t < r.count; ++t) dst[t] = v;
    } else {
      for (int64_t t = 0; t < r.count; ++t) dst[t] = src[t * r.step];
    }
  }
}

namespace {

// U_j as a binary64 (exact: at most 32 significant bits), rounded once to T by the cast.
inline double draw(uint64_t key, int64_t j) {
  const uint64_t u = SplitMix64(key + static_cast<uint64_t>(j)).next() & 0xFFFFFFFFull;
  return std::ldexp(static_cast<double>(u), -32);
}

}  // namespace

template <class T>
void rand_uniform(uint64_t key, T* out, int64_t n) {
  for (int64_t j = 0; j < n; ++j) out[j] = static_cast<T>(draw(key, j));
}

template <class T>
void bernoulli_mask(uint64_t key, T keep, T* out, int64_t n) {
  for (int64_t j = 0; j < n; ++j) out[j] = keep > static_cast<T>(draw(key, j)) ? T(1) : T(0);
}

template void gather_runs(std::span<const GatherRun>, const float* const*, float*, float);
template void gather_runs(std::span<const GatherRun>, const double* const*, double*, double);
template void rand_uniform(uint64_t, float*, int64_t);
template void rand_uniform(uint64_t, double*, int64_t);
template void bernoulli_mask(uint64_t, float, float*, int64_t);
template void bernoulli_mask(uint64_t, double, double*, int64_t);

}  // namespace torchlean::runtime
