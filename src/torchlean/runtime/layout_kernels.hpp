// Kernels of the ops that only move or draw values: the run-based gather (permute, broadcast_to,
// concat, swap_first_two, transpose3d_last_two, output copies; the runs come from the reference
// semantics at compile time, compile/layout_gather.cpp) and the SplitMix64 random ops. Copies move
// bits unchanged, as the reference's layout ops do.
#pragma once
#include <cstdint>
#include <span>

#include "torchlean/runtime/program.hpp"

namespace torchlean::runtime {

// out[run.dst + t] = in[run.src][run.offset + t * run.step] for every run; fill for kFillRun runs.
template <class T>
void gather_runs(std::span<const GatherRun> runs, const T* const* in, T* out, T fill = T(0));

// ops/random.cpp's stream: out[j] = T(u_j / 2^32), u_j = splitmix64(key + j) mod 2^32, where
// key = splitmix64(seed + node id) (the U_j of docs/ops.md, rounded once to T).
template <class T>
void rand_uniform(uint64_t key, T* out, int64_t n);
// out[j] = keep > U_j ? 1 : 0 (NaN keep gives 0), no rescaling.
template <class T>
void bernoulli_mask(uint64_t key, T keep, T* out, int64_t n);

}  // namespace torchlean::runtime
