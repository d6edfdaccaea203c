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

// ---- instruction parameters (params.cpp), from checked shapes and attributes ----
// Product of dims [begin, end).
int64_t product(const Shape& s, int64_t begin, int64_t end);
// The (outer, len, inner) view of s reducing over `axis`.
runtime::AxisParams axis_view(const Shape& s, int64_t axis);
// A v1 CHW pool over input `in` producing node n.
runtime::PoolParams pool_params(const ir::Node& n, const Shape& in, int64_t k_h, int64_t k_w,
                                int64_t stride, int64_t padding);
// An NCHW pool with input x (N, C, H, W) and output y (N, C, oH, oW).
runtime::PoolNchwParams pool_nchw_params(const ir::PoolNchwAttrs& a, const Shape& x,
                                         const Shape& y);
// conv2d_nchw with input x (N, C, H, W), weight w (O, C/groups, kH, kW), output y (N, O, oH, oW).
runtime::ConvNchwGeometry conv_nchw_geometry(const ir::Conv2dNchwAttrs& a, const Shape& x,
                                             const Shape& w, const Shape& y);
// gather's (outer, axis, inner) view of `data` with `indices`.
runtime::IndexParams index_params(const Shape& data, const Shape& indices, int64_t axis);

// Scratch elements conv2d needs (its im2col matrix), 0 if none.
int64_t conv_workspace_elems(const runtime::ConvParams& p);

// Live intervals of the arena slots, their offsets (greedy best-fit by size over live intervals,
// or one region each when `reuse` is false), the arena size and the liveness lower bound.
void plan_memory(runtime::ProgramCode& code, bool reuse);

}  // namespace torchlean::compile::detail
