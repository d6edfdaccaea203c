// NCHW pooling kernels (max_pool2d_nchw, avg_pool2d_nchw) and their gradient-only ops, exact
// order (reference: ops/pool_nchw.cpp; the order is spelled out in pool_nchw.cpp). Every plane
// (n, c) is independent: a call handles planes [plane_begin, plane_end) of the whole arrays, so
// the executor may split planes among threads without changing a bit.
#pragma once
#include <cstdint>

#include "torchlean/runtime/program.hpp"

namespace torchlean::runtime {

// y (planes, out_h, out_w) from x (planes, in_h, in_w).
template <class T>
void max_pool2d_nchw_exact(const PoolNchwParams& p, const T* x, T* y, int64_t plane_begin,
                           int64_t plane_end);
template <class T>
void avg_pool2d_nchw_exact(const PoolNchwParams& p, const T* x, T* y, int64_t plane_begin,
                           int64_t plane_end);
// dx (planes, in_h, in_w) from x and the output gradient g (planes, out_h, out_w).
template <class T>
void max_pool2d_nchw_grad_exact(const PoolNchwParams& p, const T* x, const T* g, T* dx,
                                int64_t plane_begin, int64_t plane_end);
// dx (planes, in_h, in_w) from the output gradient g (planes, out_h, out_w).
template <class T>
void avg_pool2d_nchw_grad_exact(const PoolNchwParams& p, const T* g, T* dx, int64_t plane_begin,
                                int64_t plane_end);

}  // namespace torchlean::runtime
