// conv2d via im2col + GEMM. The patch matrix row r = (ic*kH + kh)*kW + kw, column oh*outW + ow,
// holds x[ic, oh*s + kh - p, ow*s + kw - p], or +0 for a padding tap: the GEMM's k order is then
// the reference's (ic, kh, kw) order and a padding tap is fma(w, +0, acc), as in ops/conv_pool.cpp.
#include "torchlean/runtime/conv.hpp"

#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {

namespace {

struct ConvGeom {
  int64_t in_c, in_h, in_w, out_c, k_h, k_w, stride, padding, out_h, out_w;
  int64_t patch_rows() const { return in_c * k_h * k_w; }
  int64_t patch_cols() const { return out_h * out_w; }
  bool direct() const { return k_h == 1 && k_w == 1 && stride == 1 && padding == 0; }
};

ConvGeom geom(int64_t in_c, int64_t in_h, int64_t in_w, int64_t out_c, int64_t k_h, int64_t k_w,
              int64_t stride, int64_t padding) {
  return ConvGeom{in_c,
                  in_h,
                  in_w,
                  out_c,
                  k_h,
                  k_w,
                  stride,
                  padding,
                  conv2d_out_extent(in_h, k_h, stride, padding),
                  conv2d_out_extent(in_w, k_w, stride, padding)};
}

// One row (ic, kh, kw) of the patch matrix.
template <class T>
void im2col_row(const ConvGeom& g, const T* x, int64_t r, T* dst) {
  const int64_t kw = r % g.k_w;
  const int64_t kh = (r / g.k_w) % g.k_h;
  const int64_t ic = r / (g.k_w * g.k_h);
  const T* plane = x + ic * g.in_h * g.in_w;
  // Output columns ow whose tap iw = ow*s + kw - p lies inside [0, in_w): [ow_lo, ow_hi).
  const int64_t shift = kw - g.padding;
  int64_t ow_lo = shift >= 0 ? 0 : (-shift + g.stride - 1) / g.stride;
  int64_t ow_hi = g.in_w - shift <= 0 ? 0 : (g.in_w - shift + g.stride - 1) / g.stride;
  if (ow_hi > g.out_w) ow_hi = g.out_w;
  if (ow_lo > ow_hi) ow_lo = ow_hi;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    T* d = dst + oh * g.out_w;
    const int64_t ih = oh * g.stride + kh - g.padding;
    if (ih < 0 || ih >= g.in_h) {
      for (int64_t ow = 0; ow < g.out_w; ++ow) d[ow] = T(0);
      continue;
    }
    const T* src = plane + ih * g.in_w;
    for (int64_t ow = 0; ow < ow_lo; ++ow) d[ow] = T(0);
    if (g.stride == 1) {
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) d[ow] = src[ow + shift];
    } else {
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) d[ow] = src[ow * g.stride + shift];
    }
    for (int64_t ow = ow_hi; ow < g.out_w; ++ow) d[ow] = T(0);
  }
}

// The GEMM problem of the convolution; runs im2col into the workspace first unless direct.
template <class T>
GemmProblem<T> lower(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y, T* workspace,
                     ThreadPool* pool) {
  const int64_t rows = g.patch_rows(), cols = g.patch_cols();
  const T* patches = x;
  if (!g.direct()) {
    auto task = [&](int64_t r) { im2col_row(g, x, r, workspace + r * cols); };
    if (pool != nullptr && pool->size() > 1 && rows * cols >= (int64_t{1} << 15))
      pool->parallel_for(rows, task);
    else
      for (int64_t r = 0; r < rows; ++r) task(r);
    patches = workspace;
  }
  GemmProblem<T> p;
  p.m = g.out_c;
  p.n = cols;
  p.k = rows;
  p.a = w;
  p.lda = rows;
  p.b = patches;
  p.ldb = cols;
  p.b_transposed = false;
  p.c = y;
  p.ldc = cols;
  p.bias = bias;
  p.bias_per_row = true;  // one bias per output channel = per row of Y
  return p;
}

}  // namespace

int64_t conv2d_out_extent(int64_t in, int64_t k, int64_t stride, int64_t padding) {
  const int64_t span = in + 2 * padding - k;
  if (span < 0 || stride <= 0) return 0;
  return span / stride + 1;
}

size_t conv2d_workspace_elems(int64_t in_c, int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w,
                              int64_t stride, int64_t padding) {
  const int64_t oh = conv2d_out_extent(in_h, k_h, stride, padding);
  const int64_t ow = conv2d_out_extent(in_w, k_w, stride, padding);
  return static_cast<size_t>(in_c * k_h * k_w * oh * ow);
}

template <class T>
void conv2d_chw_exact(const T* x, int64_t in_c, int64_t in_h, int64_t in_w, const T* w,
                      const T* bias, int64_t out_c, int64_t k_h, int64_t k_w, int64_t stride,
                      int64_t padding, T* y, T* workspace, ThreadPool* pool) {
  const ConvGeom g = geom(in_c, in_h, in_w, out_c, k_h, k_w, stride, padding);
  if (g.out_c <= 0 || g.patch_cols() <= 0) return;
  gemm_exact(lower(g, x, w, bias, y, workspace, pool), pool);
}

template <class T>
void conv2d_chw_fast(const T* x, int64_t in_c, int64_t in_h, int64_t in_w, const T* w,
                     const T* bias, int64_t out_c, int64_t k_h, int64_t k_w, int64_t stride,
                     int64_t padding, T* y, T* workspace, ThreadPool* pool) {
  const ConvGeom g = geom(in_c, in_h, in_w, out_c, k_h, k_w, stride, padding);
  if (g.out_c <= 0 || g.patch_cols() <= 0) return;
  gemm_fast(lower(g, x, w, bias, y, workspace, pool), pool);
}

template <class T>
void conv2d_chw_fast_bound(const T* x, int64_t in_c, int64_t in_h, int64_t in_w, const T* w,
                           const T* bias, int64_t out_c, int64_t k_h, int64_t k_w, int64_t stride,
                           int64_t padding, T* bound, T* workspace, ThreadPool* pool) {
  const ConvGeom g = geom(in_c, in_h, in_w, out_c, k_h, k_w, stride, padding);
  if (g.out_c <= 0 || g.patch_cols() <= 0) return;
  const GemmProblem<T> p = lower(g, x, w, bias, bound, workspace, pool);
  gemm_fast_bound(p, bound, p.ldc, pool);
}

#define TL_CONV_INSTANTIATE(T)                                                                    \
  template void conv2d_chw_exact<T>(const T*, int64_t, int64_t, int64_t, const T*, const T*,      \
                                    int64_t, int64_t, int64_t, int64_t, int64_t, T*, T*,          \
                                    ThreadPool*);                                                 \
  template void conv2d_chw_fast<T>(const T*, int64_t, int64_t, int64_t, const T*, const T*,       \
                                   int64_t, int64_t, int64_t, int64_t, int64_t, T*, T*,           \
                                   ThreadPool*);                                                  \
  template void conv2d_chw_fast_bound<T>(const T*, int64_t, int64_t, int64_t, const T*, const T*, \
                                         int64_t, int64_t, int64_t, int64_t, int64_t, T*, T*,     \
                                         ThreadPool*);
TL_CONV_INSTANTIATE(float)
TL_CONV_INSTANTIATE(double)
#undef TL_CONV_INSTANTIATE

}  // namespace torchlean::runtime
