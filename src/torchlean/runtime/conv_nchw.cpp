// conv2d_nchw via im2col + GEMM per (image, group), or, exact with stride 1 on AVX-512, a plane
// kernel (conv_nchw_avx512.cpp) that keeps each output's accumulator in a register while it folds
// (ic, kh, kw) in order over a zero-padded copy of x; the order argument is in conv_nchw.hpp.
#include "torchlean/runtime/conv_nchw.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {

namespace detail {

template <class T>
void conv_nchw_im2col_row(const ConvNchwGeometry& g, const T* group_x, int64_t r, T* dst) {
  const int64_t kw = r % g.k_w;
  const int64_t kh = (r / g.k_w) % g.k_h;
  const int64_t ic = r / (g.k_w * g.k_h);
  const T* plane = group_x + ic * g.in_h * g.in_w;
  const int64_t shift = kw * g.dilation_w - g.pad_left;  // iw = ow*sw + shift
  // Output columns whose tap lies inside [0, in_w): [ow_lo, ow_hi).
  int64_t ow_lo = shift >= 0 ? 0 : (-shift + g.stride_w - 1) / g.stride_w;
  int64_t ow_hi = g.in_w - shift <= 0 ? 0 : (g.in_w - shift + g.stride_w - 1) / g.stride_w;
  ow_hi = std::min(ow_hi, g.out_w);
  ow_lo = std::min(ow_lo, ow_hi);
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    T* d = dst + oh * g.out_w;
    const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
    if (ih < 0 || ih >= g.in_h) {
      std::fill(d, d + g.out_w, T(0));
      continue;
    }
    const T* src = plane + ih * g.in_w;
    std::fill(d, d + ow_lo, T(0));
    if (g.stride_w == 1)
      std::copy(src + ow_lo + shift, src + ow_hi + shift, d + ow_lo);
    else
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) d[ow] = src[ow * g.stride_w + shift];
    std::fill(d + ow_hi, d + g.out_w, T(0));
  }
}

template void conv_nchw_im2col_row<float>(const ConvNchwGeometry&, const float*, int64_t, float*);
template void conv_nchw_im2col_row<double>(const ConvNchwGeometry&, const double*, int64_t,
                                           double*);

}  // namespace detail

namespace {

// The GEMM of item (image n, group q), after writing its patch matrix into `ws` (unless direct).
// `pool` parallelises im2col only; the caller decides the GEMM's threads.
template <class T>
GemmProblem<T> item_problem(const ConvNchwGeometry& g, int64_t item, const T* x, const T* w,
                            const T* bias, T* y, T* ws, ThreadPool* pool) {
  const int64_t n = item / g.groups, q = item % g.groups;
  const int64_t rows = g.patch_rows(), cols = g.patch_cols();
  const T* group_x = x + (n * g.in_c + q * g.group_in()) * g.in_h * g.in_w;
  const T* patches = group_x;
  if (!g.direct()) {
    auto task = [&](int64_t r) { detail::conv_nchw_im2col_row(g, group_x, r, ws + r * cols); };
    if (pool != nullptr && pool->size() > 1 && rows * cols >= (int64_t{1} << 15))
      pool->parallel_for(rows, task);
    else
      for (int64_t r = 0; r < rows; ++r) task(r);
    patches = ws;
  }
  GemmProblem<T> p;
  p.m = g.group_out();
  p.n = cols;
  p.k = rows;
  p.a = w + q * g.group_out() * rows;
  p.lda = rows;
  p.b = patches;
  p.ldb = cols;
  p.c = y + (n * g.out_c + q * g.group_out()) * cols;
  p.ldc = cols;
  p.bias = bias != nullptr ? bias + q * g.group_out() : nullptr;
  p.bias_per_row = true;
  return p;
}

int64_t items(const ConvNchwGeometry& g) { return g.batch * g.groups; }

// Whether the items are split across the pool (each task single-threaded) rather than run in
// order with threaded GEMMs.
bool item_parallel(const ConvNchwGeometry& g, int threads) { return threads > 1 && items(g) >= 2; }

template <class T, class Gemm>
void run_conv(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias, T* y, T* ws,
              ThreadPool* pool, Gemm gemm) {
  if (g.out_c <= 0 || g.patch_cols() <= 0 || items(g) <= 0) return;
  const int threads = pool != nullptr ? pool->size() : 1;
  const int64_t per_item = g.direct() ? 0 : g.patch_rows() * g.patch_cols();
  if (!item_parallel(g, threads)) {
    for (int64_t i = 0; i < items(g); ++i) gemm(item_problem(g, i, x, w, bias, y, ws, pool), pool);
    return;
  }
  const int64_t tasks = std::min<int64_t>(threads, items(g));
  pool->parallel_for(tasks, [&](int64_t t) {
    for (int64_t i = t; i < items(g); i += tasks)
      gemm(item_problem<T>(g, i, x, w, bias, y, ws + t * per_item, nullptr), nullptr);
  });
}

// The AVX-512 kernels of the exact conv (stride 1, not the 1x1 direct case): lanes over output
// columns (the plane kernel) or, binary32, over output channels (the channel kernel), whichever
// fills its vectors: channels when a 16-lane row would leave more than a quarter of its lanes idle
// and the group's channels fill at least three quarters of theirs; columns when the rows are at
// least half a vector wide; else the GEMM, which packs narrow planes better.
enum class ConvKernel { gemm, planes, channels };

int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

template <class T>
ConvKernel conv_kernel(const ConvNchwGeometry& g, GemmPath path) {
  if (path != GemmPath::avx512 || g.stride_h != 1 || g.stride_w != 1 || g.direct() ||
      g.group_out() <= 0 || g.out_h <= 0 || g.out_w <= 0 || g.batch <= 0)
    return ConvKernel::gemm;
  if (std::is_same_v<T, float> && 4 * g.out_w < 3 * round16(g.out_w) &&
      4 * g.group_out() >= 3 * round16(g.group_out()))
    return ConvKernel::channels;
  return g.out_w >= 8 ? ConvKernel::planes : ConvKernel::gemm;
}

int64_t padded_rows(const ConvNchwGeometry& g) { return g.in_h + g.pad_top + g.pad_bottom; }

// Row stride of the plane kernel's padded x: a vector's reach past oW plus the kernel extent.
int64_t padded_stride(const ConvNchwGeometry& g) {
  return (g.out_w + 15) / 16 * 16 + (g.k_w - 1) * g.dilation_w;
}

template <class T>
void conv_vectorised(const ConvNchwGeometry& g, ConvKernel kernel, const T* x, const T* w,
                     const T* bias, T* y, T* ws, ThreadPool* pool) {
  const int64_t hp = padded_rows(g), stride = padded_stride(g), cg = g.group_in();
  auto split = [&](int64_t n, auto&& f) {
    if (pool != nullptr && pool->size() > 1 && n > 1)
      pool->parallel_for(n, f);
    else
      for (int64_t i = 0; i < n; ++i) f(i);
  };
  split(g.batch * g.in_c, [&](int64_t p) {
    T* d = ws + p * hp * stride;
    std::fill(d, d + hp * stride, T(0));
    for (int64_t ih = 0; ih < g.in_h; ++ih)
      std::copy(x + (p * g.in_h + ih) * g.in_w, x + (p * g.in_h + ih + 1) * g.in_w,
                d + (ih + g.pad_top) * stride + g.pad_left);
  });
  if constexpr (std::is_same_v<T, float>) {
    if (kernel == ConvKernel::channels) {
      // The weight transposed per group (rows (ic, kh, kw), lanes o), then tasks (image, group,
      // block of 16 output channels, output row).
      const int64_t og = g.group_out(), rows = g.patch_rows(), lanes_o = round16(og);
      float* wt = ws + g.batch * g.in_c * hp * stride;
      for (int64_t q = 0; q < g.groups; ++q)
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t o = 0; o < lanes_o; ++o)
            wt[(q * rows + r) * lanes_o + o] = o < og ? w[(q * og + o) * rows + r] : 0.0f;
      const int64_t blocks = lanes_o / 16;
      split(g.batch * g.groups * blocks * g.out_h, [&](int64_t t) {
        const int64_t oh = t % g.out_h, b = t / g.out_h % blocks;
        const int64_t q = t / (g.out_h * blocks) % g.groups, n = t / (g.out_h * blocks * g.groups);
        const int64_t o0 = q * og + 16 * b;
        detail::conv_nchw_forward_channels_avx512(
            g, ws + (n * g.in_c + q * cg) * hp * stride, hp, stride,
            wt + q * rows * lanes_o + 16 * b, lanes_o, bias != nullptr ? bias + o0 : nullptr,
            y + (n * g.out_c + o0) * g.out_h * g.out_w, std::min<int64_t>(16, og - 16 * b), oh);
      });
      return;
    }
  }
  // Tasks: (image, group, block of <= kPlaneChannels of the group's output channels).
  const int64_t og = g.group_out();
  const int64_t blocks = (og + detail::kPlaneChannels - 1) / detail::kPlaneChannels;
  split(g.batch * g.groups * blocks, [&](int64_t t) {
    const int64_t b = t % blocks, q = t / blocks % g.groups, n = t / (blocks * g.groups);
    const int64_t o0 = q * og + b * og / blocks, o1 = q * og + (b + 1) * og / blocks;
    detail::conv_nchw_forward_planes_avx512(
        g, ws + (n * g.in_c + q * cg) * hp * stride, hp, stride, w + o0 * cg * g.k_h * g.k_w,
        bias != nullptr ? bias + o0 : nullptr, y + (n * g.out_c + o0) * g.out_h * g.out_w, o1 - o0);
  });
}

}  // namespace

bool ConvNchwGeometry::direct() const {
  return k_h == 1 && k_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
         pad_bottom == 0 && pad_right == 0;
}

int64_t conv_nchw_out_extent(int64_t in, int64_t k, int64_t stride, int64_t pad_begin,
                             int64_t pad_end, int64_t dilation) {
  const int64_t span = in + pad_begin + pad_end - dilation * (k - 1) - 1;
  if (span < 0 || stride <= 0) return 0;
  return span / stride + 1;
}

int64_t conv_nchw_workspace_elems(const ConvNchwGeometry& g, int threads) {
  if (g.direct() || g.out_c <= 0 || items(g) <= 0) return 0;
  const int64_t per_item = g.patch_rows() * g.patch_cols();
  const int64_t gemm =
      item_parallel(g, threads) ? per_item * std::min<int64_t>(threads, items(g)) : per_item;
  if (g.stride_h != 1 || g.stride_w != 1) return gemm;
  // The padded x, then (channel kernel) the transposed weight.
  return std::max(gemm, g.batch * g.in_c * padded_rows(g) * padded_stride(g) +
                            g.groups * g.patch_rows() * round16(g.group_out()));
}

template <class T>
void conv2d_nchw_exact(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias, T* y,
                       T* workspace, ThreadPool* pool) {
  conv2d_nchw_exact(g, x, w, bias, y, workspace, pool, gemm_default_path());
}

template <class T>
void conv2d_nchw_exact(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias, T* y,
                       T* workspace, ThreadPool* pool, GemmPath path) {
  if (!gemm_path_supported(path))
    throw UserError(std::string("conv2d_nchw: the ") + gemm_path_name(path) +
                    " path is not supported by this CPU");
  if (const ConvKernel kernel = conv_kernel<T>(g, path); kernel != ConvKernel::gemm) {
    conv_vectorised(g, kernel, x, w, bias, y, workspace, pool);
    return;
  }
  run_conv(g, x, w, bias, y, workspace, pool,
           [path](const GemmProblem<T>& p, ThreadPool* tp) { gemm_exact(p, tp, path); });
}

template <class T>
void conv2d_nchw_fast(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias, T* y,
                      T* workspace, ThreadPool* pool) {
  run_conv(g, x, w, bias, y, workspace, pool,
           [](const GemmProblem<T>& p, ThreadPool* tp) { gemm_fast(p, tp); });
}

template <class T>
void conv2d_nchw_fast_bound(const ConvNchwGeometry& g, const T* x, const T* w, const T* bias,
                            T* bound) {
  if (g.out_c <= 0 || g.patch_cols() <= 0 || items(g) <= 0) return;
  std::vector<T> ws(static_cast<size_t>(conv_nchw_workspace_elems(g, 1)));
  for (int64_t i = 0; i < items(g); ++i) {
    const GemmProblem<T> p = item_problem<T>(g, i, x, w, bias, bound, ws.data(), nullptr);
    gemm_fast_bound(p, p.c, p.ldc, nullptr);
  }
}

#define TL_CONV_NCHW_INSTANTIATE(T)                                                                \
  template void conv2d_nchw_exact<T>(const ConvNchwGeometry&, const T*, const T*, const T*, T*,    \
                                     T*, ThreadPool*);                                             \
  template void conv2d_nchw_exact<T>(const ConvNchwGeometry&, const T*, const T*, const T*, T*,    \
                                     T*, ThreadPool*, GemmPath);                                   \
  template void conv2d_nchw_fast<T>(const ConvNchwGeometry&, const T*, const T*, const T*, T*, T*, \
                                    ThreadPool*);                                                  \
  template void conv2d_nchw_fast_bound<T>(const ConvNchwGeometry&, const T*, const T*, const T*,   \
                                          T*);
TL_CONV_NCHW_INSTANTIATE(float)
TL_CONV_NCHW_INSTANTIATE(double)
#undef TL_CONV_NCHW_INSTANTIATE

}  // namespace torchlean::runtime
