// Internals shared by the lowering passes (not part of the public compile API).
#pragma once
#include <cstdint>

#include "torchlean/ir/graph.hpp"
#include "torchlean/runtime/program.hpp"

namespace torchlean::compile::detail {

// The copy runs of a layout op (permute, broadcast_to, concat, swap_first_two,
// transpose3d_last_two), derived from the op's REFERENCE semantics: the op is evaluated once on
// tensors holding their own element indices, so the runtime's index logic is the reference's
// (layout_gather.cpp).
runtime::GatherParams layout_gather(const ir::Graph& g, const ir::Node& n);

// Scratch elements conv2d needs (its im2col matrix), 0 if none.
int64_t conv_workspace_elems(const runtime::ConvParams& p);

// Live intervals of the arena slots, their offsets (greedy best-fit by size over live intervals,
// or one region each when `reuse` is false), the arena size and the liveness lower bound.
void plan_memory(runtime::ProgramCode& code, bool reuse);

}  // namespace torchlean::compile::detail
