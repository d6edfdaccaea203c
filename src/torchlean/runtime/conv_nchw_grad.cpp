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
//   grad_input:  dx[n, c, ih, iw] = left fold from +0 over (o in group q, kh, kw), in that order,
//                of fma(gy[n, o, oh, ow], w[o, c - q*Cg, kh, kw]) over the taps whose output
//                position oh = (ih + pt - kh*dh) / sh (ow likewise) is an integer inside the
//                output; the other taps are skipped. Per (image, group) this is the GEMM
//                dx_block (Cg x H*W) = Wt (Cg x Og*kH*kW) . G (Og*kH*kW x H*W), Wt[ic, (o,kh,kw)] =
//                w[o, ic, kh, kw] and G holding gy at the hit taps and +0 elsewhere: k runs in the
//                reference's (o, kh, kw) order, and a +0 tap is fma(+0, w, acc) = acc exactly when
//                w is finite (acc starts at +0 and a fold from +0 is never -0). A group with an
//                infinite or NaN weight (where +0 * w would be NaN instead of a skipped tap) runs
//                the direct loop instead.
// Threads: the GEMMs split their output tiles, the direct loop its (image, channel) planes; no
// element's fold is split, so the bits do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

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

}  // namespace

int64_t conv_nchw_grad_input_workspace_elems(const ConvNchwGeometry& g) {
  return g.group_in() * kernel_taps(g) + kernel_taps(g) * g.in_h * g.in_w;
}

int64_t conv_nchw_grad_weight_workspace_elems(const ConvNchwGeometry& g) {
  const int64_t k = g.batch * g.patch_cols();
  return (g.patch_rows() + g.group_out()) * k;
}

template <class T>
void conv2d_nchw_grad_input_exact(const ConvNchwGeometry& g, const T* gy, const T* w, T* dx,
                                  T* workspace, ThreadPool* pool) {
  const int64_t cg = g.group_in(), og = g.group_out(), taps = kernel_taps(g);
  const int64_t plane = g.in_h * g.in_w;
  if (g.batch * g.in_c * plane == 0) return;
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
      gemm_exact(p, pool);
    }
  }
}

template <class T>
void conv2d_nchw_grad_weight_exact(const ConvNchwGeometry& g, const T* x, const T* gy, T* dw,
                                   T* workspace, ThreadPool* pool) {
  const int64_t cg = g.group_in(), og = g.group_out(), rows = g.patch_rows();
  const int64_t cols = g.patch_cols(), k = g.batch * cols;
  if (g.out_c * rows == 0) return;
  if (k == 0) {  // an empty fold: +0
    std::fill(dw, dw + g.out_c * rows, T(0));
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
    gemm_exact(p, pool);
  }
}

#define TL_CONV_GRAD_INSTANTIATE(T)                                                               \
  template void conv2d_nchw_grad_input_exact<T>(const ConvNchwGeometry&, const T*, const T*, T*,  \
                                                T*, ThreadPool*);                                 \
  template void conv2d_nchw_grad_weight_exact<T>(const ConvNchwGeometry&, const T*, const T*, T*, \
                                                 T*, ThreadPool*);
TL_CONV_GRAD_INSTANTIATE(float)
TL_CONV_GRAD_INSTANTIATE(double)
#undef TL_CONV_GRAD_INSTANTIATE

}  // namespace torchlean::runtime
