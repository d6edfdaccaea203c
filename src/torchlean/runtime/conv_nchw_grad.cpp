// The gradient-only conv ops in the reference's order (conv_nchw.hpp; reference
// ops/conv_pool_nchw.cpp). With Cg = C/groups and Og = O/groups, channel c belongs to group
// q = c / Cg, output channel o to group o / Og.
//   grad_weight: dw[o, ic, kh, kw] = left fold from +0 over (n, oh, ow), in that order, of
//                fma(xpad[n, q*Cg + ic, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw], gy[n, o, oh, ow]),
//                padding taps being the value +0 (multiplied, as in the forward conv).
//                Per group this is one GEMM with k = (n, oh, ow): A = the group's gy rows packed
//                as (Og x N*oH*oW), B^T = the patch matrices of all images side by side
//                ((Cg*kH*kW) x N*oH*oW, padding taps +0), C = the group's block of dw. fma is
//                symmetric in its two factors, so gemm_exact keeps every element's roundings.
//                With AVX-512 a dedicated kernel runs instead: vector lanes are output channels
//                o (gy transposed so that a (n, oh, ow) position's channels are contiguous), one
//                accumulator per weight row (ic, kh, kw) stays in a register for the whole fold
//                and takes fma(broadcast x tap, gy lanes, acc) at each (n, oh, ow) in order; a
//                zero-padded copy of x supplies the +0 padding taps.
//   grad_input:  dx[n, c, ih, iw] = left fold from +0 over (o in group q, kh, kw), in that order,
//                of fma(gy[n, o, oh, ow], w[o, c - q*Cg, kh, kw]) over the taps whose output
//                position oh = (ih + pt - kh*dh) / sh (ow likewise) is an integer inside the
//                output; the other taps are skipped. Per (image, group) this is the GEMM
//                dx_block (Cg x H*W) = Wt (Cg x Og*kH*kW) . G (Og*kH*kW x H*W), Wt[ic, (o,kh,kw)] =
//                w[o, ic, kh, kw] and G holding gy at the hit taps and +0 elsewhere: k runs in the
//                reference's (o, kh, kw) order, and a +0 tap is fma(+0, w, acc) = acc exactly when
//                w is finite (acc starts at +0 and a fold from +0 is never -0). A group with an
//                infinite or NaN weight (where +0 * w would be NaN instead of a skipped tap) runs
//                the direct loop instead. With stride 1 and AVX-512 the same fold runs without
//                the GEMM: per dx plane, vectors across iw accumulate in registers over (o, kh,
//                kw), reading a copy of gy with zero margins (the missed taps, +0 as above) around
//                each plane (conv_nchw_avx512.cpp).
// Threads: the GEMMs split their output tiles, the direct loop its (image, channel) planes, the
// AVX-512 kernels their blocks of output planes (grad_input) or of weight rows x output channels
// (grad_weight); no element's fold is split, so the bits do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "torchlean/core/error.hpp"
#include "torchlean/runtime/conv_nchw.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {

namespace {

template <class T>
T canon(T v) {
  return v != v ? std::numeric_limits<T>::quiet_NaN() : v;
}

template <class F>
void split(ThreadPool* pool, int64_t n, F&& f) {
  if (pool != nullptr && pool->size() > 1 && n > 1)
    pool->parallel_for(n, f);
  else
    for (int64_t i = 0; i < n; ++i) f(i);
}

// The output position whose tap `k` reads input position `i` along one axis, or -1.
int64_t tap_source(int64_t i, int64_t k, int64_t pad, int64_t dilation, int64_t stride,
                   int64_t out) {
  const int64_t t = i + pad - k * dilation;
  if (t < 0 || t % stride != 0 || t / stride >= out) return -1;
  return t / stride;
}

int64_t kernel_taps(const ConvNchwGeometry& g) { return g.group_out() * g.k_h * g.k_w; }

// The reference's loop for the planes of group q (used when a weight of the group is not finite).
template <class T>
void grad_input_direct(const ConvNchwGeometry& g, const T* gy, const T* w, T* dx, int64_t n,
                       int64_t q) {
  const int64_t cg = g.group_in(), og = g.group_out();
  for (int64_t ic = 0; ic < cg; ++ic) {
    T* out = dx + (n * g.in_c + q * cg + ic) * g.in_h * g.in_w;
    for (int64_t ih = 0; ih < g.in_h; ++ih)
      for (int64_t iw = 0; iw < g.in_w; ++iw) {
        T acc = T(0);
        for (int64_t o = q * og; o < (q + 1) * og; ++o) {
          const T* gp = gy + (n * g.out_c + o) * g.out_h * g.out_w;
          const T* wp = w + (o * cg + ic) * g.k_h * g.k_w;
          for (int64_t kh = 0; kh < g.k_h; ++kh) {
            const int64_t oh = tap_source(ih, kh, g.pad_top, g.dilation_h, g.stride_h, g.out_h);
            if (oh < 0) continue;
            for (int64_t kw = 0; kw < g.k_w; ++kw) {
              const int64_t ow = tap_source(iw, kw, g.pad_left, g.dilation_w, g.stride_w, g.out_w);
              if (ow < 0) continue;
              acc = std::fma(gp[oh * g.out_w + ow], wp[kh * g.k_w + kw], acc);
            }
          }
        }
        out[ih * g.in_w + iw] = canon(acc);
      }
  }
}

// Row (o, kh, kw) of G for image n: gy[n, o, oh, ow] at the input positions the tap hits, +0
// elsewhere.
template <class T>
void scatter_row(const ConvNchwGeometry& g, const T* gy, int64_t n, int64_t o, int64_t kh,
                 int64_t kw, T* dst) {
  const T* gp = gy + (n * g.out_c + o) * g.out_h * g.out_w;
  for (int64_t ih = 0; ih < g.in_h; ++ih) {
    T* d = dst + ih * g.in_w;
    const int64_t oh = tap_source(ih, kh, g.pad_top, g.dilation_h, g.stride_h, g.out_h);
    if (oh < 0) {
      std::fill(d, d + g.in_w, T(0));
      continue;
    }
    const T* src = gp + oh * g.out_w;
    if (g.stride_w == 1) {  // ow = iw + shift: the hit columns are one contiguous range
      const int64_t shift = g.pad_left - kw * g.dilation_w;
      const int64_t lo = std::clamp<int64_t>(-shift, 0, g.in_w);
      const int64_t hi = std::clamp<int64_t>(g.out_w - shift, lo, g.in_w);
      std::fill(d, d + lo, T(0));
      std::copy(src + lo + shift, src + hi + shift, d + lo);
      std::fill(d + hi, d + g.in_w, T(0));
      continue;
    }
    for (int64_t iw = 0; iw < g.in_w; ++iw) {
      const int64_t ow = tap_source(iw, kw, g.pad_left, g.dilation_w, g.stride_w, g.out_w);
      d[iw] = ow < 0 ? T(0) : src[ow];
    }
  }
}

// Whether grad_input runs the AVX-512 plane kernel (when the weights are finite as well).
bool grad_input_vectorised(const ConvNchwGeometry& g, GemmPath path) {
  return path == GemmPath::avx512 && g.stride_h == 1 && g.stride_w == 1;
}

void check_path(const char* op, GemmPath path) {
  if (!gemm_path_supported(path))
    throw UserError(std::string(op) + ": the " + gemm_path_name(path) +
                    " path is not supported by this CPU");
}

// Row stride of that kernel's padded gy copy: a vector's reach past the width plus the margin of
// the dilated kernel extent; and its rows a plane: the input's plus the same vertical margin.
int64_t gpad_stride(const ConvNchwGeometry& g) {
  return (g.in_w + 15) / 16 * 16 + (g.k_w - 1) * g.dilation_w;
}
int64_t gpad_rows(const ConvNchwGeometry& g) { return g.in_h + (g.k_h - 1) * g.dilation_h; }

// Plane p = (n, o) of gy into gpad (layout in conv_nchw.hpp): row t, column j hold gy at
// oh = t + pt - (kH-1)*dh, ow = j + pl - (kW-1)*dw, or +0 outside the output.
template <class T>
void pad_gy_plane(const ConvNchwGeometry& g, const T* gy, int64_t p, T* gpad) {
  const int64_t stride = gpad_stride(g), rows = gpad_rows(g);
  const int64_t oh_min = g.pad_top - (g.k_h - 1) * g.dilation_h;
  const int64_t ow_min = g.pad_left - (g.k_w - 1) * g.dilation_w;
  const int64_t lo = std::clamp<int64_t>(-ow_min, 0, stride);
  const int64_t hi = std::clamp<int64_t>(g.out_w - ow_min, lo, stride);
  for (int64_t t = 0; t < rows; ++t) {
    T* d = gpad + (p * rows + t) * stride;
    const int64_t oh = t + oh_min;
    if (oh < 0 || oh >= g.out_h) {
      std::fill(d, d + stride, T(0));
      continue;
    }
    const T* src = gy + (p * g.out_h + oh) * g.out_w;
    std::fill(d, d + lo, T(0));
    std::copy(src + lo + ow_min, src + hi + ow_min, d + lo);
    std::fill(d + hi, d + stride, T(0));
  }
}

bool has_padding(const ConvNchwGeometry& g) {
  return g.pad_top != 0 || g.pad_left != 0 || g.pad_bottom != 0 || g.pad_right != 0;
}

// The AVX-512 grad_weight kernel's workspace: the padded x (when padded), then gyt.
int64_t grad_weight_vector_elems(const ConvNchwGeometry& g) {
  const int64_t xpad = has_padding(g) ? g.batch * g.in_c * (g.in_h + g.pad_top + g.pad_bottom) *
                                            (g.in_w + g.pad_left + g.pad_right)
                                      : 0;
  return xpad + g.groups * g.batch * g.patch_cols() * ((g.group_out() + 15) / 16 * 16);
}

template <class T>
void grad_weight_vectorised(const ConvNchwGeometry& g, const T* x, const T* gy, T* dw, T* workspace,
                            ThreadPool* pool) {
  detail::GradWeightLayout<T> l;
  l.padded_h = g.in_h + g.pad_top + g.pad_bottom;
  l.padded_w = g.in_w + g.pad_left + g.pad_right;
  l.image = g.in_c * l.padded_h * l.padded_w;
  l.lanes_o = (g.group_out() + 15) / 16 * 16;
  T* gyt = workspace;
  if (has_padding(g)) {
    T* xpad = workspace;
    split(pool, g.batch * g.in_c, [&](int64_t p) {
      T* d = xpad + p * l.padded_h * l.padded_w;
      std::fill(d, d + l.padded_h * l.padded_w, T(0));
      for (int64_t ih = 0; ih < g.in_h; ++ih)
        std::copy(x + (p * g.in_h + ih) * g.in_w, x + (p * g.in_h + ih + 1) * g.in_w,
                  d + (ih + g.pad_top) * l.padded_w + g.pad_left);
    });
    l.xpad = xpad;
    gyt += g.batch * l.image;
  } else {
    l.xpad = x;
  }
  l.gyt = gyt;
  const int64_t og = g.group_out(), cols = g.patch_cols();
  split(pool, g.groups * g.batch, [&](int64_t t) {
    const int64_t q = t / g.batch, n = t % g.batch;
    T* d = gyt + t * cols * l.lanes_o;
    const T* src = gy + (n * g.out_c + q * og) * cols;
    if constexpr (std::is_same_v<T, float>) {
      detail::conv_nchw_transpose_gy_avx512(src, og, cols, l.lanes_o, d);
      return;
    }
    // Row by row of gyt (contiguous writes), reading the Og planes in step.
    for (int64_t p = 0; p < cols; ++p, d += l.lanes_o) {
      for (int64_t o = 0; o < og; ++o) d[o] = src[o * cols + p];
      std::fill(d + og, d + l.lanes_o, T(0));
    }
  });
  // Row blocks of whole kw runs (units of kW rows) when kW fits a block, so the kernel can share
  // one offset between a run's taps.
  const int64_t rows = g.patch_rows(), lanes = detail::kAvx512Lanes<T>;
  const int64_t unit = g.k_w <= detail::kGradWeightRows ? g.k_w : 1, units = rows / unit;
  const int64_t per_block = detail::kGradWeightRows / unit;
  const int64_t o_blocks = (og + lanes - 1) / lanes;
  const int64_t r_blocks = (units + per_block - 1) / per_block;
  split(pool, g.groups * o_blocks * r_blocks, [&](int64_t t) {
    const int64_t b = t % r_blocks, ob = t / r_blocks % o_blocks, q = t / (r_blocks * o_blocks);
    const int64_t r0 = b * units / r_blocks * unit, r1 = (b + 1) * units / r_blocks * unit;
    detail::conv_nchw_grad_weight_block_avx512(g, l, q, ob * lanes, r0, r1 - r0, dw);
  });
}

}  // namespace

int64_t conv_nchw_grad_input_workspace_elems(const ConvNchwGeometry& g) {
  const int64_t gemm = g.group_in() * kernel_taps(g) + kernel_taps(g) * g.in_h * g.in_w;
  if (g.stride_h != 1 || g.stride_w != 1) return gemm;
  return std::max(gemm, g.batch * g.out_c * gpad_rows(g) * gpad_stride(g));
}

int64_t conv_nchw_grad_weight_workspace_elems(const ConvNchwGeometry& g) {
  const int64_t k = g.batch * g.patch_cols();
  return std::max((g.patch_rows() + g.group_out()) * k, grad_weight_vector_elems(g));
}

template <class T>
void conv2d_nchw_grad_input_exact(const ConvNchwGeometry& g, const T* gy, const T* w, T* dx,
                                  T* workspace, ThreadPool* pool) {
  conv2d_nchw_grad_input_exact(g, gy, w, dx, workspace, pool, gemm_default_path());
}

template <class T>
void conv2d_nchw_grad_input_exact(const ConvNchwGeometry& g, const T* gy, const T* w, T* dx,
                                  T* workspace, ThreadPool* pool, GemmPath path) {
  check_path("conv2d_nchw_grad_input", path);
  const int64_t cg = g.group_in(), og = g.group_out(), taps = kernel_taps(g);
  const int64_t plane = g.in_h * g.in_w;
  if (g.batch * g.in_c * plane == 0) return;
  if (grad_input_vectorised(g, path) &&
      std::all_of(w, w + g.out_c * cg * g.k_h * g.k_w, [](T v) { return std::isfinite(v); })) {
    split(pool, g.batch * g.out_c, [&](int64_t p) { pad_gy_plane(g, gy, p, workspace); });
    // Tasks: (image, group, block of <= kPlaneChannels of the group's channels).
    const int64_t blocks = (cg + detail::kPlaneChannels - 1) / detail::kPlaneChannels;
    split(pool, g.batch * g.groups * blocks, [&](int64_t t) {
      const int64_t b = t % blocks, q = t / blocks % g.groups, n = t / (blocks * g.groups);
      const int64_t c0 = q * cg + b * cg / blocks, c1 = q * cg + (b + 1) * cg / blocks;
      detail::conv_nchw_grad_input_planes_avx512(
          g, workspace + (n * g.out_c + q * og) * gpad_rows(g) * gpad_stride(g), gpad_stride(g),
          w + (q * og * cg + c0 - q * cg) * g.k_h * g.k_w, dx + (n * g.in_c + c0) * plane, c1 - c0);
    });
    return;
  }
  T* wt = workspace;            // (Cg x taps)
  T* patches = wt + cg * taps;  // (taps x H*W)
  for (int64_t q = 0; q < g.groups; ++q) {
    const T* wq = w + q * og * cg * g.k_h * g.k_w;
    const bool finite =
        std::all_of(wq, wq + og * cg * g.k_h * g.k_w, [](T v) { return std::isfinite(v); });
    if (!finite || taps == 0) {
      split(pool, g.batch, [&](int64_t n) { grad_input_direct(g, gy, w, dx, n, q); });
      continue;
    }
    for (int64_t ic = 0; ic < cg; ++ic)
      for (int64_t o = 0; o < og; ++o)
        for (int64_t k = 0; k < g.k_h * g.k_w; ++k)
          wt[ic * taps + o * g.k_h * g.k_w + k] = wq[(o * cg + ic) * g.k_h * g.k_w + k];
    for (int64_t n = 0; n < g.batch; ++n) {
      split(pool, taps, [&](int64_t r) {
        const int64_t kw = r % g.k_w, kh = (r / g.k_w) % g.k_h, o = q * og + r / (g.k_h * g.k_w);
        scatter_row(g, gy, n, o, kh, kw, patches + r * plane);
      });
      GemmProblem<T> p;
      p.m = cg;
      p.n = plane;
      p.k = taps;
      p.a = wt;
      p.lda = taps;
      p.b = patches;
      p.ldb = plane;
      p.c = dx + (n * g.in_c + q * cg) * plane;
      p.ldc = plane;
      gemm_exact(p, pool, path);
    }
  }
}

template <class T>
void conv2d_nchw_grad_weight_exact(const ConvNchwGeometry& g, const T* x, const T* gy, T* dw,
                                   T* workspace, ThreadPool* pool) {
  conv2d_nchw_grad_weight_exact(g, x, gy, dw, workspace, pool, gemm_default_path());
}

template <class T>
void conv2d_nchw_grad_weight_exact(const ConvNchwGeometry& g, const T* x, const T* gy, T* dw,
                                   T* workspace, ThreadPool* pool, GemmPath path) {
  check_path("conv2d_nchw_grad_weight", path);
  const int64_t cg = g.group_in(), og = g.group_out(), rows = g.patch_rows();
  const int64_t cols = g.patch_cols(), k = g.batch * cols;
  if (g.out_c * rows == 0) return;
  if (k == 0) {  // an empty fold: +0
    std::fill(dw, dw + g.out_c * rows, T(0));
    return;
  }
  if (path == GemmPath::avx512) {
    grad_weight_vectorised(g, x, gy, dw, workspace, pool);
    return;
  }
  T* patches = workspace;       // (rows x N*cols): image n's patch matrix in columns [n*cols, ...)
  T* a = workspace + rows * k;  // (Og x N*cols): the group's gy rows, image after image
  for (int64_t q = 0; q < g.groups; ++q) {
    split(pool, rows, [&](int64_t r) {
      for (int64_t n = 0; n < g.batch; ++n)
        detail::conv_nchw_im2col_row(g, x + (n * g.in_c + q * cg) * g.in_h * g.in_w, r,
                                     patches + r * k + n * cols);
    });
    for (int64_t o = 0; o < og; ++o)
      for (int64_t n = 0; n < g.batch; ++n)
        std::memcpy(a + o * k + n * cols, gy + (n * g.out_c + q * og + o) * cols,
                    static_cast<size_t>(cols) * sizeof(T));
    GemmProblem<T> p;
    p.m = og;
    p.n = rows;
    p.k = k;
    p.a = a;
    p.lda = k;
    p.b = patches;
    p.ldb = k;
    p.b_transposed = true;
    p.c = dw + q * og * rows;
    p.ldc = rows;
    gemm_exact(p, pool, path);
  }
}

#define TL_CONV_GRAD_INSTANTIATE(T)                                                               \
  template void conv2d_nchw_grad_input_exact<T>(const ConvNchwGeometry&, const T*, const T*, T*,  \
                                                T*, ThreadPool*);                                 \
  template void conv2d_nchw_grad_input_exact<T>(const ConvNchwGeometry&, const T*, const T*, T*,  \
                                                T*, ThreadPool*, GemmPath);                       \
  template void conv2d_nchw_grad_weight_exact<T>(const ConvNchwGeometry&, const T*, const T*, T*, \
                                                 T*, ThreadPool*);                                \
  template void conv2d_nchw_grad_weight_exact<T>(const ConvNchwGeometry&, const T*, const T*, T*, \
                                                 T*, ThreadPool*, GemmPath);
TL_CONV_GRAD_INSTANTIATE(float)
TL_CONV_GRAD_INSTANTIATE(double)
#undef TL_CONV_GRAD_INSTANTIATE

}  // namespace torchlean::runtime
