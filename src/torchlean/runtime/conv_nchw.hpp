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
//
// Exact with stride 1 on AVX-512 (conv_nchw_avx512.cpp): a plane kernel instead, each output's
// accumulator held in a register while it folds (ic, kh, kw) in the same order over a zero-padded
// copy of x (padding taps are the multiplied +0 above); tasks are blocks of output planes.
#pragma once
#include <cstdint>

#include "torchlean/runtime/gemm.hpp"

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
// The exact kernels on a chosen path (a test and benchmark hook; every path gives the same bits):
// avx512 runs the vector kernels where they apply, every path runs its GEMMs on that path.
// Throws UserError when the CPU does not support it. The default path is gemm_default_path().
template <class T>
void conv2d_nchw_exact(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias, T* y,
                       T* workspace, ThreadPool* pool, GemmPath path);
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

// AVX-512F kernels (conv_nchw_avx512.cpp); call only when gemm_path_supported(avx512).
// The plane kernels (stride 1) compute `outs` <= kPlaneChannels planes of one image at once.
inline constexpr int kPlaneChannels = 3;
// conv2d_nchw: y planes o0 .. o0 + outs - 1 of image n (one group q). xpad holds the group's
// channels of image n zero-padded: Cg planes of padded_h = H + pt + pb rows, `stride` elements a
// row, row pt + ih holding x[ih] from column pl, +0 elsewhere; stride >= round_up(oW, 16) +
// (kW-1)*dw. w points at w[o0, 0, 0, 0], bias at bias[o0] or is null, y at plane (n, o0).
template <class T>
void conv_nchw_forward_planes_avx512(const ConvNchwGeometry& g, const T* xpad, int64_t padded_h,
                                     int64_t stride, const T* w, const T* bias, T* y, int64_t outs);
// conv2d_nchw, binary32, stride 1, many output channels: outputs (n, o0 .. o0 + outs - 1, oh, all
// ow), outs <= 16, lanes over the channels. xpad and stride as above; wt holds the group's weight
// transposed, row (ic, kh, kw) = w[o0 + j, ic, kh, kw] at lane j of a lanes_o-wide row, +0 past
// the group; bias at bias[o0] or null; y at plane (n, o0).
void conv_nchw_forward_channels_avx512(const ConvNchwGeometry& g, const float* xpad,
                                       int64_t padded_h, int64_t stride, const float* wt,
                                       int64_t lanes_o, const float* bias, float* y, int64_t outs,
                                       int64_t oh);
// grad_weight: the operands, x zero-padded to (N, C, Hp, Wp) = (N, C, H + pt + pb, W + pl + pr)
// (x itself without padding) and gy transposed per group to gyt (groups, N, oH*oW, lanes_o),
// lanes_o = Og rounded up to 16, gyt[q, n, p, o] = gy[n, q*Og + o, p] and +0 past Og.
template <class T>
struct GradWeightLayout {
  const T* xpad = nullptr;
  int64_t padded_h = 0, padded_w = 0, image = 0;  // image = C*Hp*Wp
  const T* gyt = nullptr;
  int64_t lanes_o = 0;
};
// Vector lanes of the AVX-512 kernels, and the most weight rows one grad_weight block holds.
template <class T>
inline constexpr int64_t kAvx512Lanes = 64 / sizeof(T);
inline constexpr int kGradWeightRows = 28;
// gyt's rows for one (group, image), binary32: dst[p*lanes_o + o] = src[o*cols + p] for
// o < planes, +0 for planes <= o < lanes_o (a multiple of 16).
void conv_nchw_transpose_gy_avx512(const float* src, int64_t planes, int64_t cols, int64_t lanes_o,
                                   float* dst);
// dw[q*Og + o0 + j, r0 + r] for j < min(lanes, Og - o0), r < rows <= kGradWeightRows (rows of
// the group's (Cg*kH*kW)-wide weight block), each the full fold over (n, oh, ow).
template <class T>
void conv_nchw_grad_weight_block_avx512(const ConvNchwGeometry& g, const GradWeightLayout<T>& l,
                                        int64_t q, int64_t o0, int64_t r0, int64_t rows, T* dw);
// grad_input, finite weights: dx planes c0 .. c0 + outs - 1 of image n (one group q). gpad holds
// the group's gy planes zero-padded: Og planes of H + (kH-1)*dh rows, `stride` elements a row,
// row t, column j holding gy[n, q*Og + o, t + pt - (kH-1)*dh, j + pl - (kW-1)*dw] where that is
// inside the output and +0 elsewhere; stride >= round_up(W, 16) + (kW-1)*dw. w points at
// w[q*Og, c0 - q*Cg, 0, 0], dx at plane (n, c0).
template <class T>
void conv_nchw_grad_input_planes_avx512(const ConvNchwGeometry& g, const T* gpad, int64_t stride,
                                        const T* w, T* dx, int64_t outs);
}  // namespace detail

// The gradient-only ops, exact order (reference: ops/conv_pool_nchw.cpp; orders and their GEMM
// forms in conv_nchw_grad.cpp). Workspace sizes as for the forward conv.
int64_t conv_nchw_grad_input_workspace_elems(const ConvNchwGeometry& g);
int64_t conv_nchw_grad_weight_workspace_elems(const ConvNchwGeometry& g);
// dx (N, C, H, W) from the output gradient gy (N, O, oH, oW) and w.
template <class T>
void conv2d_nchw_grad_input_exact(const ConvNchwGeometry& g, const T* gy, const T* w, T* dx,
                                  T* workspace, ThreadPool* pool);
template <class T>
void conv2d_nchw_grad_input_exact(const ConvNchwGeometry& g, const T* gy, const T* w, T* dx,
                                  T* workspace, ThreadPool* pool, GemmPath path);
// dw (O, C/groups, kH, kW) from x and gy.
template <class T>
void conv2d_nchw_grad_weight_exact(const ConvNchwGeometry& g, const T* x, const T* gy, T* dw,
                                   T* workspace, ThreadPool* pool);
template <class T>
void conv2d_nchw_grad_weight_exact(const ConvNchwGeometry& g, const T* x, const T* gy, T* dw,
                                   T* workspace, ThreadPool* pool, GemmPath path);

}  // namespace torchlean::runtime
