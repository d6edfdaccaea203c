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

namespace detail {
// Internal: the binary32 2x2 stride-2 max-pooling kernels of pool_nchw_avx512.cpp, over a
// rectangle of `rows` x n windows lying inside the input: x points at the first window's top-left
// cell (row pitch in_w), y and g at its output (row pitch out_w), dx at the cell x points at.
// max_2x2s2 writes the maxima; max_grad_2x2s2 writes all 2*rows x 2n cells of dx: canon(+0 + g)
// at each window's first maximiser, +0 at its other cells.
struct PoolKernels {
  void (*max_2x2s2)(const float* x, int64_t in_w, float* y, int64_t out_w, int64_t rows, int64_t n);
  void (*max_grad_2x2s2)(const float* x, const float* g, float* dx, int64_t in_w, int64_t out_w,
                         int64_t rows, int64_t n);
};
// nullptr when pool_nchw_avx512.cpp was built without AVX-512.
const PoolKernels* pool_kernels_avx512();
}  // namespace detail

}  // namespace torchlean::runtime
