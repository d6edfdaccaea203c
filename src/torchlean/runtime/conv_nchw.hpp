// conv2d_nchw (batched, grouped, dilated, per-axis stride, asymmetric padding) lowered to GEMM,
// one GEMM per (image, group). Reference: ops/ (eval_conv2d_nchw): each output element is the
// fold acc = fma(xpad[n, g*Cg + ic, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw], W[o, ic, kh, kw], acc)
// over (ic, kh, kw) of its group, in that order, from +0, padding taps being the value +0, then
// + bias[o] (one rounding) when there is a bias. im2col writes the group's (Cg*kH*kW) x (oH*oW)
// patch matrix with rows in (ic, kh, kw) order, so the GEMM with the group's OIHW weight block as A
// keeps that order element by element: the exact variant is bit-identical to the reference (and,
// for N = 1, groups = 1, dilation 1, symmetric padding and equal strides, to v1 conv2d, which
// runs the same GEMM). The fast variant runs the same GEMMs through gemm_fast and declares
// gemm_fast_bound per (image, group).
//
// Threads: with several (image, group) items and a pool, items are split statically into
// pool-size tasks, task t using workspace block t and single-threaded GEMMs; otherwise items run
// in order with pool-threaded GEMMs. Each output element is computed by one task with the same
// sequence of roundings either way, so the bits do not depend on the thread count.
#pragma once
#include <cstdint>

namespace torchlean::runtime {

class ThreadPool;

struct ConvNchwGeometry {
  int64_t batch = 0, in_c = 0, in_h = 0, in_w = 0;
  int64_t out_c = 0, out_h = 0, out_w = 0;
  int64_t k_h = 1, k_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1, groups = 1;

  int64_t group_in() const { return in_c / groups; }
  int64_t group_out() const { return out_c / groups; }
  int64_t patch_rows() const { return group_in() * k_h * k_w; }
  int64_t patch_cols() const { return out_h * out_w; }
  // A 1x1 kernel, stride 1, no padding: the image block already is the patch matrix.
  bool direct() const;
};

// Output extent along one axis: floor((in + pads - dilation*(k-1) - 1) / stride) + 1, or 0 when
// the dilated window does not fit.
int64_t conv_nchw_out_extent(int64_t in, int64_t k, int64_t stride, int64_t pad_begin,
                             int64_t pad_end, int64_t dilation);

// Workspace elements the kernels need with a pool of `threads` participants.
int64_t conv_nchw_workspace_elems(const ConvNchwGeometry& g, int threads);

// y (N, O, oH, oW) from x (N, C, H, W), w (O, C/groups, kH, kW), bias (O) or null. The workspace
// holds conv_nchw_workspace_elems(g, pool size) elements. pool may be null.
template <class T>
void conv2d_nchw_exact(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias, T* y,
                       T* workspace, ThreadPool* pool);
template <class T>
void conv2d_nchw_fast(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias, T* y,
                      T* workspace, ThreadPool* pool);
// The bound conv2d_nchw_fast declares, laid out like y (gemm_fast_bound of each GEMM). Allocates;
// for the equivalence checker.
template <class T>
void conv2d_nchw_fast_bound(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias,
                            T* bound);

namespace detail {
// Row r = (ic, kh, kw) of one image's group patch matrix: dst[oh*oW + ow] = the tap
// x[ic, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw] of group_x (the group's first channel), or +0.
template <class T>
void conv_nchw_im2col_row(const ConvNchwGeometry& g, const T* group_x, int64_t r, T* dst);
}  // namespace detail

// The gradient-only ops, exact order (reference: ops/conv_pool_nchw.cpp; orders and their GEMM
// forms in conv_nchw_grad.cpp). Workspace sizes as for the forward conv.
int64_t conv_nchw_grad_input_workspace_elems(const ConvNchwGeometry& g);
int64_t conv_nchw_grad_weight_workspace_elems(const ConvNchwGeometry& g);
// dx (N, C, H, W) from the output gradient gy (N, O, oH, oW) and w.
template <class T>
void conv2d_nchw_grad_input_exact(const ConvNchwGeometry& g, const T* gy, const T* w, T* dx,
                                  T* workspace, ThreadPool* pool);
// dw (O, C/groups, kH, kW) from x and gy.
template <class T>
void conv2d_nchw_grad_weight_exact(const ConvNchwGeometry& g, const T* x, const T* gy, T* dw,
                                   T* workspace, ThreadPool* pool);

}  // namespace torchlean::runtime
