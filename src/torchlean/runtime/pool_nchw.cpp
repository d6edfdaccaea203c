// NCHW pools and their gradients in the reference's order (pool_nchw.hpp). Output (oh, ow) reads
// the window of input rows ih = oh*stride_h - pad_top + kh (kh < k_h) and columns
// iw = ow*stride_w - pad_left + kw; cells outside the input are padding.
//   max:      maximum (IEEE 754-2019) over the window's input cells, row-major, seeded with the
//             first (every window has one: the shape rule keeps pads below the kernel).
//   avg:      per window column kw, the left fold from +0 over kh of the input cells (padding
//             adds nothing); then the left fold from +0 of those column sums over kw; then one
//             division by the window's count: its cells inside the padded extent
//             [-pad_top, in_h + pad_bottom) x [-pad_left, in_w + pad_right) when
//             count_include_pad, else its input cells.
//   max grad: dx = +0, then for each output in row-major order, dx[first maximiser] += g, the
//             first maximiser being the row-major scan's best, replaced only by a cell strictly
//             above it (NaN above everything, +0 above -0).
//   avg grad: dx = +0, then for each output in row-major order, q = g / count, and dx[cell] += q
//             for each input cell of the window, row-major.
#include "torchlean/runtime/pool_nchw.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace torchlean::runtime {

namespace {

template <class T>
T canon(T v) {
  return v != v ? std::numeric_limits<T>::quiet_NaN() : v;
}
template <class T>
T maximum(T a, T b) {
  if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

// Whether v comes strictly after best in max-pooling's order: NaN above everything, +0 above -0.
template <class T>
bool above(T v, T best) {
  if (best != best) return false;
  if (v != v) return true;
  if (v == best) return std::signbit(best) && !std::signbit(v);
  return v > best;
}

// The input-cell ranges [r0, r1) x [c0, c1) of window (oh, ow), and its divisor.
struct Win {
  int64_t r0, r1, c0, c1;
  int64_t count;
};

Win window(const PoolNchwParams& p, int64_t oh, int64_t ow) {
  const int64_t h0 = oh * p.stride_h - p.pad_top, w0 = ow * p.stride_w - p.pad_left;
  const int64_t h1 = h0 + p.k_h, w1 = w0 + p.k_w;
  Win w{std::max<int64_t>(h0, 0), std::min(h1, p.in_h), std::max<int64_t>(w0, 0),
        std::min(w1, p.in_w), 0};
  if (w.r1 < w.r0) w.r1 = w.r0;
  if (w.c1 < w.c0) w.c1 = w.c0;
  if (p.count_include_pad) {
    const int64_t ph = std::min(h1, p.in_h + p.pad_bottom) - std::max(h0, -p.pad_top);
    const int64_t pw = std::min(w1, p.in_w + p.pad_right) - std::max(w0, -p.pad_left);
    w.count = std::max<int64_t>(ph, 0) * std::max<int64_t>(pw, 0);
  } else {
    w.count = (w.r1 - w.r0) * (w.c1 - w.c0);
  }
  return w;
}

}  // namespace

template <class T>
void max_pool2d_nchw_exact(const PoolNchwParams& p, const T* x, T* y, int64_t plane_begin,
                           int64_t plane_end) {
  for (int64_t c = plane_begin; c < plane_end; ++c) {
    const T* xp = x + c * p.in_h * p.in_w;
    T* yp = y + c * p.out_h * p.out_w;
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const Win w = window(p, oh, ow);
        T best = xp[w.r0 * p.in_w + w.c0];
        for (int64_t ih = w.r0; ih < w.r1; ++ih)
          for (int64_t iw = w.c0; iw < w.c1; ++iw)
            if (ih != w.r0 || iw != w.c0) best = maximum(best, xp[ih * p.in_w + iw]);
        yp[oh * p.out_w + ow] = best;
      }
  }
}

template <class T>
void avg_pool2d_nchw_exact(const PoolNchwParams& p, const T* x, T* y, int64_t plane_begin,
                           int64_t plane_end) {
  for (int64_t c = plane_begin; c < plane_end; ++c) {
    const T* xp = x + c * p.in_h * p.in_w;
    T* yp = y + c * p.out_h * p.out_w;
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const Win w = window(p, oh, ow);
        T total = T(0);
        for (int64_t iw = w.c0; iw < w.c1; ++iw) {
          T column = T(0);
          for (int64_t ih = w.r0; ih < w.r1; ++ih) column = column + xp[ih * p.in_w + iw];
          total = total + column;
        }
        yp[oh * p.out_w + ow] = canon(total / static_cast<T>(w.count));
      }
  }
}

template <class T>
void max_pool2d_nchw_grad_exact(const PoolNchwParams& p, const T* x, const T* g, T* dx,
                                int64_t plane_begin, int64_t plane_end) {
  for (int64_t c = plane_begin; c < plane_end; ++c) {
    const T* xp = x + c * p.in_h * p.in_w;
    const T* gp = g + c * p.out_h * p.out_w;
    T* dp = dx + c * p.in_h * p.in_w;
    std::fill(dp, dp + p.in_h * p.in_w, T(0));
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const Win w = window(p, oh, ow);
        int64_t at = w.r0 * p.in_w + w.c0;
        for (int64_t ih = w.r0; ih < w.r1; ++ih)
          for (int64_t iw = w.c0; iw < w.c1; ++iw)
            if (above(xp[ih * p.in_w + iw], xp[at])) at = ih * p.in_w + iw;
        dp[at] = canon(dp[at] + gp[oh * p.out_w + ow]);
      }
  }
}

template <class T>
void avg_pool2d_nchw_grad_exact(const PoolNchwParams& p, const T* g, T* dx, int64_t plane_begin,
                                int64_t plane_end) {
  for (int64_t c = plane_begin; c < plane_end; ++c) {
    const T* gp = g + c * p.out_h * p.out_w;
    T* dp = dx + c * p.in_h * p.in_w;
    std::fill(dp, dp + p.in_h * p.in_w, T(0));
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        const Win w = window(p, oh, ow);
        const T q = gp[oh * p.out_w + ow] / static_cast<T>(w.count);
        for (int64_t ih = w.r0; ih < w.r1; ++ih)
          for (int64_t iw = w.c0; iw < w.c1; ++iw) {
            T& d = dp[ih * p.in_w + iw];
            d = canon(d + q);
          }
      }
  }
}

#define TL_POOL_NCHW_INSTANTIATE(T)                                                              \
  template void max_pool2d_nchw_exact<T>(const PoolNchwParams&, const T*, T*, int64_t, int64_t); \
  template void avg_pool2d_nchw_exact<T>(const PoolNchwParams&, const T*, T*, int64_t, int64_t); \
  template void max_pool2d_nchw_grad_exact<T>(const PoolNchwParams&, const T*, const T*, T*,     \
                                              int64_t, int64_t);                                 \
  template void avg_pool2d_nchw_grad_exact<T>(const PoolNchwParams&, const T*, T*, int64_t,      \
                                              int64_t);
TL_POOL_NCHW_INSTANTIATE(float)
TL_POOL_NCHW_INSTANTIATE(double)
#undef TL_POOL_NCHW_INSTANTIATE

}  // namespace torchlean::runtime
