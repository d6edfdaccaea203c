// AVX-512F kernels of the exact-order conv2d_nchw and its gradients (compiled with -mavx512f
// -mfma; called only after gemm_path_supported(avx512)). Vector lanes are distinct output
// elements and every lane folds its terms in the reference's order (conv_nchw.hpp,
// conv_nchw_grad.cpp), so the bits are the reference's.
// GCC 12 reports its own _mm512_undefined_ps() (a deliberate self-initialisation) as (maybe)
// uninitialised once the unpacks are inlined; the diagnostic is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "torchlean/runtime/conv_nchw.hpp"

namespace torchlean::runtime::detail {

namespace {

struct F32 {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  static constexpr int lanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V bcast(T x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static M mask(int64_t n) { return n >= lanes ? M(0xFFFF) : static_cast<M>((1u << n) - 1u); }
  static void store_canon(T* p, V v, M m) {
    v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q),
                           _mm512_set1_ps(__builtin_nanf("")));
    _mm512_mask_storeu_ps(p, m, v);
  }
};

struct F64 {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  static constexpr int lanes = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V bcast(T x) { return _mm512_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static M mask(int64_t n) { return n >= lanes ? M(0xFF) : static_cast<M>((1u << n) - 1u); }
  static void store_canon(T* p, V v, M m) {
    v = _mm512_mask_mov_pd(v, _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q),
                           _mm512_set1_pd(__builtin_nan("")));
    _mm512_mask_storeu_pd(p, m, v);
  }
};

template <class T>
struct Isa;
template <>
struct Isa<float> : F32 {};
template <>
struct Isa<double> : F64 {};

// The plane kernels (forward and grad_input, stride 1): B output planes at once, each the fold over
// source planes s, then kh, then kw, of fma(source tap, weight(b, s, kh, kw), acc). A source row
// loaded once serves the B outputs; the sources carry zero margins, so every tap is a plain load.
template <class T>
struct PlaneJob {
  const T* src = nullptr;
  int64_t src_planes = 0, src_plane = 0, stride = 0;
  // Output row r, tap (kh, kw) reads source row r + row_base + kh*kh_step, column
  // ow + col_base + kw*kw_step.
  int64_t row_base = 0, kh_step = 0, col_base = 0, kw_step = 0;
  const T* w = nullptr;
  int64_t w_b = 0, w_s = 0;  // weight(b, s, kh, kw) = w[b*w_b + s*w_s + kh*kW + kw]
  T* out = nullptr;
  int64_t out_plane = 0, out_h = 0, out_w = 0;
  const T* bias = nullptr;  // bias[b] added (one rounding) when not null
};

// Rows [r0, r0 + R), columns [i0, i0 + lanes) of the B output planes, accumulators in registers.
template <class I, int B, int R>
void plane_block(const ConvNchwGeometry& g, const PlaneJob<typename I::T>& j, int64_t r0,
                 int64_t i0) {
  using T = typename I::T;
  using V = typename I::V;
  V acc[B][R];
  for (int b = 0; b < B; ++b)
    for (int r = 0; r < R; ++r) acc[b][r] = I::zero();
  for (int64_t s = 0; s < j.src_planes; ++s) {
    const T* plane = j.src + s * j.src_plane;
    const T* ws = j.w + s * j.w_s;
    for (int64_t kh = 0; kh < g.k_h; ++kh) {
      const T* row = plane + (r0 + j.row_base + kh * j.kh_step) * j.stride + i0 + j.col_base;
      for (int64_t kw = 0; kw < g.k_w; ++kw) {
        V wv[B];
        for (int b = 0; b < B; ++b) wv[b] = I::bcast(ws[b * j.w_b + kh * g.k_w + kw]);
        const T* src = row + kw * j.kw_step;
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r, src += j.stride) {
          V v = I::load(src);
          // One load for the B products: keep GCC from folding it into each fma (B split loads).
          asm("" : "+v"(v));
          for (int b = 0; b < B; ++b) acc[b][r] = I::fma(v, wv[b], acc[b][r]);
        }
      }
    }
  }
  const auto m = I::mask(j.out_w - i0);
  for (int b = 0; b < B; ++b)
    for (int r = 0; r < R; ++r) {
      const V v = j.bias != nullptr ? I::add(acc[b][r], I::bcast(j.bias[b])) : acc[b][r];
      I::store_canon(j.out + b * j.out_plane + (r0 + r) * j.out_w + i0, v, m);
    }
}

// The most rows a plane block keeps in registers (with kPlaneChannels outputs: 24 accumulators).
constexpr int kPlaneRows = 8;

// f.template operator()<C>() with C == count, 1 <= count <= Max (register counts are
// compile-time).
template <int Max, class F>
void with_count(int64_t count, F&& f) {
  if constexpr (Max > 1) {
    if (count < Max) return with_count<Max - 1>(count, f);
  }
  f.template operator()<Max>();
}

// The job's `outs` (<= kPlaneChannels) planes, rows split evenly into blocks of <= kPlaneRows.
template <class I>
void run_planes(const ConvNchwGeometry& g, const PlaneJob<typename I::T>& j, int64_t outs) {
  const int64_t blocks = (j.out_h + kPlaneRows - 1) / kPlaneRows;
  with_count<kPlaneChannels>(outs, [&]<int B>() {
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int64_t r0 = blk * j.out_h / blocks, rows = (blk + 1) * j.out_h / blocks - r0;
      with_count<kPlaneRows>(rows, [&]<int R>() {
        for (int64_t i0 = 0; i0 < j.out_w; i0 += I::lanes) plane_block<I, B, R>(g, j, r0, i0);
      });
    }
  });
}

// S*KW weight rows (ic, kh, kw) x `lanes` output channels of dw, accumulators in registers over
// the whole fold (n, oh, ow). Rows come in S segments of KW consecutive kw (KW = 1: any rows):
// row s*KW + k's tap at output position (oh, ow) of image n is
// xpad[n*image + oh*sh*Wp + ow*sw + seg[s] + k*dw], so one offset serves a segment's KW taps.
template <class I, int KW, int S>
void grad_weight_block(const ConvNchwGeometry& g, const GradWeightLayout<typename I::T>& l,
                       const typename I::T* gyt, const int64_t* segments, typename I::T* dw,
                       int64_t dw_stride, int64_t outs) {
  using T = typename I::T;
  int64_t seg[S];
  typename I::V acc[S * KW];
  for (int s = 0; s < S; ++s) seg[s] = segments[s];
  for (int r = 0; r < S * KW; ++r) acc[r] = I::zero();
  const int64_t row_step = g.stride_h * l.padded_w, dil = g.dilation_w;
  for (int64_t n = 0; n < g.batch; ++n) {
    const T* xn = l.xpad + n * l.image;
    const T* gn = gyt + n * g.out_h * g.out_w * l.lanes_o;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const T* xr = xn + oh * row_step;
      const T* gr = gn + oh * g.out_w * l.lanes_o;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const typename I::V gv = I::load(gr + ow * l.lanes_o);
        const T* xb = xr + ow * g.stride_w;
#pragma GCC unroll 32
        for (int s = 0; s < S; ++s) {
          const T* xs = xb + seg[s];
#pragma GCC unroll 8
          for (int k = 0; k < KW; ++k)
            acc[s * KW + k] = I::fma(I::bcast(xs[k * dil]), gv, acc[s * KW + k]);
        }
      }
    }
  }
  T lane[I::lanes];
  for (int r = 0; r < S * KW; ++r) {
    I::store_canon(lane, acc[r], I::mask(I::lanes));
    for (int64_t o = 0; o < outs; ++o) dw[o * dw_stride + r] = lane[o];
  }
}

// grad_weight_block with KW and S == count as compile-time counts.
template <class I, int KW>
void grad_weight_dispatch(const ConvNchwGeometry& g, const GradWeightLayout<typename I::T>& l,
                          const typename I::T* gyt, const int64_t* segments, int64_t count,
                          typename I::T* dw, int64_t dw_stride, int64_t outs) {
  with_count<kGradWeightRows / KW>(count, [&]<int S>() {
    grad_weight_block<I, KW, S>(g, l, gyt, segments, dw, dw_stride, outs);
  });
}

// In-place 16 x 16 transpose (r[i] lane j <-> r[j] lane i): pairs of rows interleaved, then pairs
// of pairs, then 128-bit lanes.
void transpose16(__m512* r) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int g = 0; g < 16; g += 4)
    for (int h = 0; h < 2; ++h) {
      const __m512d a = _mm512_castps_pd(t[g + h]), b = _mm512_castps_pd(t[g + 2 + h]);
      r[g + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      r[g + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    }
  // r[4g + j], lane L: column j + 4L of rows 4g..4g+3.
  for (int j = 0; j < 4; ++j) {
    const __m512 v0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
    const __m512 v1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
    const __m512 w0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    const __m512 w1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    t[j] = _mm512_shuffle_f32x4(v0, w0, 0x88);
    t[j + 8] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
    t[j + 4] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    t[j + 12] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// Output positions (oh, ow0 .. ow0 + P - 1) x 16 output channels (lanes) of one image: the fold
// over the weight rows (ic, kh, kw) in order of fma(broadcast x tap, wt row, acc), then + bias,
// then a transpose so that each channel's P outputs are one masked store.
template <int P>
void channel_block(const ConvNchwGeometry& g, const float* xpad, int64_t padded_h, int64_t stride,
                   const float* wt, int64_t lanes_o, const float* bias, float* y, int64_t outs,
                   int64_t oh, int64_t ow0) {
  __m512 acc[16];
  for (int p = 0; p < 16; ++p) acc[p] = _mm512_setzero_ps();
  const float* wr = wt;
  for (int64_t ic = 0; ic < g.group_in(); ++ic)
    for (int64_t kh = 0; kh < g.k_h; ++kh) {
      const float* row =
          xpad + (ic * padded_h + oh * g.stride_h + kh * g.dilation_h) * stride + ow0;
      for (int64_t kw = 0; kw < g.k_w; ++kw, wr += lanes_o) {
        const __m512 wv = _mm512_loadu_ps(wr);
        const float* xs = row + kw * g.dilation_w;
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p) acc[p] = _mm512_fmadd_ps(_mm512_set1_ps(xs[p]), wv, acc[p]);
      }
    }
  const __mmask16 lanes = F32::mask(outs);
  const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(lanes, bias) : _mm512_setzero_ps();
  for (int p = 0; p < P; ++p) {
    __m512 v = bias != nullptr ? _mm512_add_ps(acc[p], b) : acc[p];
    acc[p] = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q),
                                _mm512_set1_ps(__builtin_nanf("")));
  }
  transpose16(acc);
  const int64_t plane = g.out_h * g.out_w;
  for (int64_t o = 0; o < outs; ++o)
    _mm512_mask_storeu_ps(y + o * plane + oh * g.out_w + ow0, F32::mask(P), acc[o]);
}

}  // namespace

template <class T>
void conv_nchw_grad_weight_block_avx512(const ConvNchwGeometry& g, const GradWeightLayout<T>& l,
                                        int64_t q, int64_t o0, int64_t r0, int64_t rows, T* dw) {
  const int64_t taps = g.k_h * g.k_w;
  // Segments of kW rows (kw = 0..kW-1 of one (ic, kh)) for the common widths, else single rows.
  const bool runs = (g.k_w == 3 || g.k_w == 5) && r0 % g.k_w == 0 && rows % g.k_w == 0;
  const int64_t run = runs ? g.k_w : 1;
  int64_t segments[kGradWeightRows];
  for (int64_t s = 0; s < rows / run; ++s) {
    const int64_t row = r0 + s * run, ic = row / taps, kh = row % taps / g.k_w, kw = row % g.k_w;
    segments[s] = (q * g.group_in() + ic) * l.padded_h * l.padded_w +
                  kh * g.dilation_h * l.padded_w + kw * g.dilation_w;
  }
  const int64_t outs = std::min<int64_t>(Isa<T>::lanes, g.group_out() - o0);
  const T* gyt = l.gyt + q * g.batch * g.out_h * g.out_w * l.lanes_o + o0;
  T* out = dw + (q * g.group_out() + o0) * g.patch_rows() + r0;
  if (run == 3)
    grad_weight_dispatch<Isa<T>, 3>(g, l, gyt, segments, rows / 3, out, g.patch_rows(), outs);
  else if (run == 5)
    grad_weight_dispatch<Isa<T>, 5>(g, l, gyt, segments, rows / 5, out, g.patch_rows(), outs);
  else
    grad_weight_dispatch<Isa<T>, 1>(g, l, gyt, segments, rows, out, g.patch_rows(), outs);
}

template <class T>
void conv_nchw_forward_planes_avx512(const ConvNchwGeometry& g, const T* xpad, int64_t padded_h,
                                     int64_t stride, const T* w, const T* bias, T* y,
                                     int64_t outs) {
  PlaneJob<T> j;
  j.src = xpad;
  j.src_planes = g.group_in();
  j.src_plane = padded_h * stride;
  j.stride = stride;
  j.kh_step = g.dilation_h;
  j.kw_step = g.dilation_w;
  j.w = w;
  j.w_b = g.group_in() * g.k_h * g.k_w;
  j.w_s = g.k_h * g.k_w;
  j.out = y;
  j.out_plane = g.out_h * g.out_w;
  j.out_h = g.out_h;
  j.out_w = g.out_w;
  j.bias = bias;
  run_planes<Isa<T>>(g, j, outs);
}

template <class T>
void conv_nchw_grad_input_planes_avx512(const ConvNchwGeometry& g, const T* gpad, int64_t stride,
                                        const T* w, T* dx, int64_t outs) {
  PlaneJob<T> j;
  j.src = gpad;
  j.src_planes = g.group_out();
  j.src_plane = (g.in_h + (g.k_h - 1) * g.dilation_h) * stride;
  j.stride = stride;
  j.row_base = (g.k_h - 1) * g.dilation_h;
  j.kh_step = -g.dilation_h;
  j.col_base = (g.k_w - 1) * g.dilation_w;
  j.kw_step = -g.dilation_w;
  j.w = w;
  j.w_b = g.k_h * g.k_w;
  j.w_s = g.group_in() * g.k_h * g.k_w;
  j.out = dx;
  j.out_plane = g.in_h * g.in_w;
  j.out_h = g.in_h;
  j.out_w = g.in_w;
  run_planes<Isa<T>>(g, j, outs);
}

void conv_nchw_transpose_gy_avx512(const float* src, int64_t planes, int64_t cols, int64_t lanes_o,
                                   float* dst) {
  for (int64_t o0 = 0; o0 < lanes_o; o0 += 16)
    for (int64_t p0 = 0; p0 < cols; p0 += 16) {
      const int64_t n = std::min<int64_t>(16, cols - p0);
      const __mmask16 m = F32::mask(n);
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = o0 + i < planes ? _mm512_maskz_loadu_ps(m, src + (o0 + i) * cols + p0)
                               : _mm512_setzero_ps();
      transpose16(r);
      for (int64_t j = 0; j < n; ++j) _mm512_storeu_ps(dst + (p0 + j) * lanes_o + o0, r[j]);
    }
}

void conv_nchw_forward_channels_avx512(const ConvNchwGeometry& g, const float* xpad,
                                       int64_t padded_h, int64_t stride, const float* wt,
                                       int64_t lanes_o, const float* bias, float* y, int64_t outs,
                                       int64_t oh) {
  for (int64_t ow0 = 0; ow0 < g.out_w; ow0 += 16)
    with_count<16>(std::min<int64_t>(16, g.out_w - ow0), [&]<int P>() {
      channel_block<P>(g, xpad, padded_h, stride, wt, lanes_o, bias, y, outs, oh, ow0);
    });
}

template void conv_nchw_forward_planes_avx512<float>(const ConvNchwGeometry&, const float*, int64_t,
                                                     int64_t, const float*, const float*, float*,
                                                     int64_t);
template void conv_nchw_forward_planes_avx512<double>(const ConvNchwGeometry&, const double*,
                                                      int64_t, int64_t, const double*,
                                                      const double*, double*, int64_t);
template void conv_nchw_grad_weight_block_avx512<float>(const ConvNchwGeometry&,
                                                        const GradWeightLayout<float>&, int64_t,
                                                        int64_t, int64_t, int64_t, float*);
template void conv_nchw_grad_weight_block_avx512<double>(const ConvNchwGeometry&,
                                                         const GradWeightLayout<double>&, int64_t,
                                                         int64_t, int64_t, int64_t, double*);
template void conv_nchw_grad_input_planes_avx512<float>(const ConvNchwGeometry&, const float*,
                                                        int64_t, const float*, float*, int64_t);
template void conv_nchw_grad_input_planes_avx512<double>(const ConvNchwGeometry&, const double*,
                                                         int64_t, const double*, double*, int64_t);

}  // namespace torchlean::runtime::detail
