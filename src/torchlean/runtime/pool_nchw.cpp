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
//
// Max pooling's fast path. Windows entirely inside the input (no padding cell) go through order
// keys: integers ordered as the maximum orders values (-inf < ... < -0 < +0 < ... < +inf), every
// NaN mapped to the canonical NaN's key, above all of them. The maximum over two or more cells is
// the key maximum taken in any order (maximum is associative and commutative, with any NaN giving
// the canonical NaN), and the reference's first maximiser (replaced only by a cell strictly above
// it) is the first cell, row-major, whose key equals that maximum. Border windows and one-cell
// windows (whose maximum is the cell's bits, NaN payload included) take the general loops. On
// AVX-512 CPUs the binary32 2x2 stride-2 windows run 16 outputs at a time (pool_nchw_avx512.cpp).
#include "torchlean/runtime/pool_nchw.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>

#include "torchlean/runtime/vmath.hpp"

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

// The outputs [lo, hi) along one axis whose window lies inside the input.
struct Span {
  int64_t lo, hi;
};
Span inside(int64_t out, int64_t in, int64_t k, int64_t stride, int64_t pad) {
  Span s{0, out};
  while (s.lo < out && s.lo * stride - pad < 0) ++s.lo;
  while (s.hi > s.lo && (s.hi - 1) * stride - pad + k > in) --s.hi;
  return s;
}

template <class T>
using Key = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;

// v's order key (see the top of the file). The transform flips the magnitude bits of negative
// values, so the integer order follows the value order, -0 (key -1) just below +0 (key 0).
template <class T>
Key<T> order_key(T v) {
  using K = Key<T>;
  const K b = std::bit_cast<K>(v);
  const K k = b ^ ((b >> (8 * sizeof(K) - 1)) & std::numeric_limits<K>::max());
  return v != v ? std::bit_cast<K>(std::numeric_limits<T>::quiet_NaN()) : k;
}
// The value of a key (the transform is its own inverse).
template <class T>
T from_key(Key<T> k) {
  using K = Key<T>;
  return std::bit_cast<T>(K(k ^ ((k >> (8 * sizeof(K) - 1)) & std::numeric_limits<K>::max())));
}

// The key maximum of the kh x kw window at x (row pitch `pitch`); KH, KW > 0 fix the sizes at
// compile time.
template <int KH, int KW, class T>
Key<T> window_key_max(const T* x, int64_t pitch, int64_t kh, int64_t kw) {
  if constexpr (KH > 0) kh = KH;
  if constexpr (KW > 0) kw = KW;
  Key<T> m = order_key(x[0]);
  for (int64_t r = 0; r < kh; ++r)
    for (int64_t c = 0; c < kw; ++c) m = std::max(m, order_key(x[r * pitch + c]));
  return m;
}
// The offset (r * pitch + c) of the window's first cell, row-major, whose key is m.
template <int KH, int KW, class T>
int64_t window_first_key(const T* x, int64_t pitch, int64_t kh, int64_t kw, Key<T> m) {
  if constexpr (KH > 0) kh = KH;
  if constexpr (KW > 0) kw = KW;
  int64_t at = 0;
  for (int64_t r = kh - 1; r >= 0; --r)
    for (int64_t c = kw - 1; c >= 0; --c)
      at = order_key(x[r * pitch + c]) == m ? r * pitch + c : at;
  return at;
}

// The reference's loops for window (oh, ow): its maximum, and its first maximiser's offset.
template <class T>
T general_max(const PoolNchwParams& p, const T* xp, int64_t oh, int64_t ow) {
  const Win w = window(p, oh, ow);
  T best = xp[w.r0 * p.in_w + w.c0];
  for (int64_t ih = w.r0; ih < w.r1; ++ih)
    for (int64_t iw = w.c0; iw < w.c1; ++iw)
      if (ih != w.r0 || iw != w.c0) best = maximum(best, xp[ih * p.in_w + iw]);
  return best;
}
template <class T>
int64_t general_first_maximiser(const PoolNchwParams& p, const T* xp, int64_t oh, int64_t ow) {
  const Win w = window(p, oh, ow);
  int64_t at = w.r0 * p.in_w + w.c0;
  for (int64_t ih = w.r0; ih < w.r1; ++ih)
    for (int64_t iw = w.c0; iw < w.c1; ++iw)
      if (above(xp[ih * p.in_w + iw], xp[at])) at = ih * p.in_w + iw;
  return at;
}

// Interior outputs [ow0, ow1) of row oh through the keys, with the window size fixed at compile
// time for the common 2x2 and 3x3.
template <int KH, int KW, class T>
void max_row_fast(const PoolNchwParams& p, const T* xp, T* yrow, int64_t oh, int64_t ow0,
                  int64_t ow1) {
  const int64_t row0 = (oh * p.stride_h - p.pad_top) * p.in_w - p.pad_left;
  for (int64_t ow = ow0; ow < ow1; ++ow)
    yrow[ow] =
        from_key<T>(window_key_max<KH, KW>(xp + (row0 + ow * p.stride_w), p.in_w, p.k_h, p.k_w));
}
template <int KH, int KW, class T>
void max_grad_row_fast(const PoolNchwParams& p, const T* xp, const T* grow, T* dp, int64_t oh,
                       int64_t ow0, int64_t ow1) {
  const int64_t row0 = (oh * p.stride_h - p.pad_top) * p.in_w - p.pad_left;
  for (int64_t ow = ow0; ow < ow1; ++ow) {
    const int64_t w0 = row0 + ow * p.stride_w;
    const Key<T> m = window_key_max<KH, KW>(xp + w0, p.in_w, p.k_h, p.k_w);
    T& d = dp[w0 + window_first_key<KH, KW>(xp + w0, p.in_w, p.k_h, p.k_w, m)];
    d = canon(d + grow[ow]);
  }
}

// Whether the binary32 2x2 stride-2 AVX-512 kernels apply.
template <class T>
bool use_2x2s2_avx512(const PoolNchwParams& p) {
  return std::is_same_v<T, float> && p.k_h == 2 && p.k_w == 2 && p.stride_h == 2 &&
         p.stride_w == 2 && detail::pool_kernels_avx512() != nullptr && active_isa() == Isa::avx512;
}

}  // namespace

template <class T>
void max_pool2d_nchw_exact(const PoolNchwParams& p, const T* x, T* y, int64_t plane_begin,
                           int64_t plane_end) {
  const Span rows = inside(p.out_h, p.in_h, p.k_h, p.stride_h, p.pad_top);
  const Span cols = inside(p.out_w, p.in_w, p.k_w, p.stride_w, p.pad_left);
  const bool keys = p.k_h * p.k_w >= 2;
  const bool avx512 = use_2x2s2_avx512<T>(p) && rows.lo < rows.hi && cols.lo < cols.hi;
  for (int64_t c = plane_begin; c < plane_end; ++c) {
    const T* xp = x + c * p.in_h * p.in_w;
    T* yp = y + c * p.out_h * p.out_w;
    if (avx512) {
      if constexpr (std::is_same_v<T, float>)
        detail::pool_kernels_avx512()->max_2x2s2(
            xp + (2 * rows.lo - p.pad_top) * p.in_w + 2 * cols.lo - p.pad_left, p.in_w,
            yp + rows.lo * p.out_w + cols.lo, p.out_w, rows.hi - rows.lo, cols.hi - cols.lo);
    }
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      T* yrow = yp + oh * p.out_w;
      if (!keys || oh < rows.lo || oh >= rows.hi) {
        for (int64_t ow = 0; ow < p.out_w; ++ow) yrow[ow] = general_max(p, xp, oh, ow);
        continue;
      }
      for (int64_t ow = 0; ow < cols.lo; ++ow) yrow[ow] = general_max(p, xp, oh, ow);
      if (avx512) {  // the kernel above covered these windows
      } else if (p.k_h == 2 && p.k_w == 2) {
        max_row_fast<2, 2>(p, xp, yrow, oh, cols.lo, cols.hi);
      } else if (p.k_h == 3 && p.k_w == 3) {
        max_row_fast<3, 3>(p, xp, yrow, oh, cols.lo, cols.hi);
      } else {
        max_row_fast<0, 0>(p, xp, yrow, oh, cols.lo, cols.hi);
      }
      for (int64_t ow = std::max(cols.hi, cols.lo); ow < p.out_w; ++ow)
        yrow[ow] = general_max(p, xp, oh, ow);
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
  const Span rows = inside(p.out_h, p.in_h, p.k_h, p.stride_h, p.pad_top);
  const Span cols = inside(p.out_w, p.in_w, p.k_w, p.stride_w, p.pad_left);
  const bool avx512 = use_2x2s2_avx512<T>(p) && rows.lo < rows.hi && cols.lo < cols.hi;
  // The interior windows' input cells [r0, r1) x [c0, c1) (used by the AVX-512 path).
  const int64_t r0 = 2 * rows.lo - p.pad_top, r1 = 2 * rows.hi - p.pad_top;
  const int64_t c0 = 2 * cols.lo - p.pad_left, c1 = 2 * cols.hi - p.pad_left;
  for (int64_t c = plane_begin; c < plane_end; ++c) {
    const T* xp = x + c * p.in_h * p.in_w;
    const T* gp = g + c * p.out_h * p.out_w;
    T* dp = dx + c * p.in_h * p.in_w;
    if (avx512) {
      // Disjoint windows: the kernel writes every interior cell once, +0 + g or +0, so +0 goes
      // everywhere else (where border windows then add their g).
      std::fill(dp, dp + r0 * p.in_w, T(0));
      for (int64_t r = r0; r < r1; ++r) {
        std::fill(dp + r * p.in_w, dp + r * p.in_w + c0, T(0));
        std::fill(dp + r * p.in_w + c1, dp + (r + 1) * p.in_w, T(0));
      }
      std::fill(dp + r1 * p.in_w, dp + p.in_h * p.in_w, T(0));
      if constexpr (std::is_same_v<T, float>)
        detail::pool_kernels_avx512()->max_grad_2x2s2(
            xp + r0 * p.in_w + c0, gp + rows.lo * p.out_w + cols.lo, dp + r0 * p.in_w + c0, p.in_w,
            p.out_w, rows.hi - rows.lo, cols.hi - cols.lo);
    } else {
      std::fill(dp, dp + p.in_h * p.in_w, T(0));
    }
    // Outputs in row-major order, so a cell shared by overlapping windows sums its g's in the
    // reference's order.
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      const T* grow = gp + oh * p.out_w;
      auto general = [&](int64_t ow0, int64_t ow1) {
        for (int64_t ow = ow0; ow < ow1; ++ow) {
          T& d = dp[general_first_maximiser(p, xp, oh, ow)];
          d = canon(d + grow[ow]);
        }
      };
      if (oh < rows.lo || oh >= rows.hi) {
        general(0, p.out_w);
        continue;
      }
      general(0, cols.lo);
      if (avx512) {  // the kernel above covered these windows
      } else if (p.k_h == 2 && p.k_w == 2) {
        max_grad_row_fast<2, 2>(p, xp, grow, dp, oh, cols.lo, cols.hi);
      } else if (p.k_h == 3 && p.k_w == 3) {
        max_grad_row_fast<3, 3>(p, xp, grow, dp, oh, cols.lo, cols.hi);
      } else {
        max_grad_row_fast<0, 0>(p, xp, grow, dp, oh, cols.lo, cols.hi);
      }
      general(std::max(cols.hi, cols.lo), p.out_w);
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
