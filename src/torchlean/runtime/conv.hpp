// conv2d on one CHW image (TorchLean v1 semantics, ops/conv_pool.cpp) lowered to GEMM.
// im2col writes the (inC*kH*kW) x (outH*outW) patch matrix into the workspace, rows in (ic, kh, kw)
// order and padding taps as +0 values, so Y (outC x outH*outW) = W (outC x inC*kH*kW, the OIHW
// weight as it lies in memory) . patches + bias is, element by element, the reference's fold
// acc = fma(xpad, w, acc) over (ic, kh, kw) from +0, then + bias. The exact variant is therefore
// bit-identical to the reference; the fast variant goes through gemm_fast and declares its bound.
// A 1x1 kernel with stride 1 and no padding skips im2col (the image already is the patch matrix).
#pragma once
#include <cstddef>
#include <cstdint>

namespace torchlean::runtime {

class ThreadPool;

// Output extent along one axis: (in + 2 padding - k) / stride + 1, or 0 when the window does not
// fit (the checker rejects such graphs).
int64_t conv2d_out_extent(int64_t in, int64_t k, int64_t stride, int64_t padding);

// Elements of the workspace the conv2d functions need: inC*kH*kW * outH*outW.
size_t conv2d_workspace_elems(int64_t in_c, int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w,
                              int64_t stride, int64_t padding);

// y (outC, outH, outW) from x (inC, H, W), w (outC, inC, kH, kW), bias (outC). workspace holds
// conv2d_workspace_elems(...) elements and must not overlap the others. pool may be null.
template <class T>
void conv2d_chw_exact(const T* x, int64_t in_c, int64_t in_h, int64_t in_w, const T* w,
                      const T* bias, int64_t out_c, int64_t k_h, int64_t k_w, int64_t stride,
                      int64_t padding, T* y, T* workspace, ThreadPool* pool);
template <class T>
void conv2d_chw_fast(const T* x, int64_t in_c, int64_t in_h, int64_t in_w, const T* w,
                     const T* bias, int64_t out_c, int64_t k_h, int64_t k_w, int64_t stride,
                     int64_t padding, T* y, T* workspace, ThreadPool* pool);
// The bound conv2d_chw_fast declares (gemm_fast_bound of the same product), written like y;
// within_bound (gemm.hpp) compares against it. Allocates; for the equivalence checker.
template <class T>
void conv2d_chw_fast_bound(const T* x, int64_t in_c, int64_t in_h, int64_t in_w, const T* w,
                           const T* bias, int64_t out_c, int64_t k_h, int64_t k_w, int64_t stride,
                           int64_t padding, T* bound, T* workspace, ThreadPool* pool);

}  // namespace torchlean::runtime
