// Reduction, normalisation, pooling and loss kernels of the compiled runtime, for T = float or
// double, over contiguous row-major arrays.
//
// *_exact kernels keep the reference's evaluation order (ops/reduction.cpp, ops/normalization.cpp,
// ops/conv_pool.cpp; each function names its reference) and are bit-identical to it, NaN results
// canonical. They vectorise only across independent outputs (each lane's fold stays in order),
// or where the reference's operation is associative and commutative (IEEE maximum).
//
// *_fast kernels reorder sums (vector accumulators) and declare a bound: for the same inputs,
// |fast - exact| <= *_fast_bound element by element, the bound computed with upward rounding
// (docs/runtime.md derives each). A bound of 0 means the fast kernel took the exact path and the
// results are the same bits. softmax, layernorm, batch norm and the pools have no fast variant:
// in fast mode the exact kernel runs (bound 0).
//
// Kernels allocate nothing (stack buffers only), check no shapes, never throw, and run on the
// calling thread; independent outer rows may be given to different threads by offsetting the
// pointers, which changes no result. y must not overlap x except where noted.
#pragma once
#include <cstdint>

namespace torchlean::runtime {

// ---- exact ----------------------------------------------------------------------------------
// sum: the fold from +0 over x[0..n) in index order.
template <class T>
T sum_exact(const T* x, int64_t n);
// reduce_sum over the middle axis of the (outer, len, inner) view of x; y has outer * inner
// elements, y[o * inner + i] = fold over k of x[(o * len + k) * inner + i].
template <class T>
void reduce_sum_exact(const T* x, T* y, int64_t outer, int64_t len, int64_t inner);
// reduce_mean: reduce_sum, then one division by (T)len (len 0: 0/0 = NaN).
template <class T>
void reduce_mean_exact(const T* x, T* y, int64_t outer, int64_t len, int64_t inner);
// mse_loss: fold of fl(d * d), d = fl(y - t), divided by (T)n (by 1 when n == 0).
template <class T>
T mse_loss_exact(const T* y, const T* t, int64_t n);
// softmax along the middle axis of (outer, len, inner). y may equal x.
template <class T>
void softmax_exact(const T* x, T* y, int64_t outer, int64_t len, int64_t inner);
// layernorm of each row of the (rows, width) view (eps = the nearest T to 1e-6). y may equal x.
template <class T>
void layernorm_exact(const T* x, T* y, int64_t rows, int64_t width);
// batch_norm2d_nchw_eval on x of shape (batch, channels, plane = H * W), per-channel parameters
// of length `channels` and the scalar eps. y may equal x.
template <class T>
void batch_norm_exact(const T* x, const T* gamma, const T* beta, const T* mean, const T* var,
                      T eps, T* y, int64_t batch, int64_t channels, int64_t plane);

// A pooling window over a CHW image: output (channels, out_h, out_w); padding 0 for the unpadded
// ops. The caller has checked the geometry (the IR checker's shape rule).
struct PoolGeometry {
  int64_t channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t k_h = 1, k_w = 1, stride = 1, padding = 0;
};
template <class T>
void max_pool2d_exact(const T* x, T* y, const PoolGeometry& g);
template <class T>
void avg_pool2d_exact(const T* x, T* y, const PoolGeometry& g);

// ---- fast -----------------------------------------------------------------------------------
template <class T>
T sum_fast(const T* x, int64_t n);
template <class T>
void reduce_sum_fast(const T* x, T* y, int64_t outer, int64_t len, int64_t inner);
template <class T>
void reduce_mean_fast(const T* x, T* y, int64_t outer, int64_t len, int64_t inner);
template <class T>
T mse_loss_fast(const T* y, const T* t, int64_t n);

// Declared bounds (binary64, rounded upward), from the kernels' inputs.
template <class T>
double sum_fast_bound(const T* x, int64_t n);
// One bound per output element (outer * inner of them).
template <class T>
void reduce_sum_fast_bound(const T* x, double* bound, int64_t outer, int64_t len, int64_t inner);
template <class T>
void reduce_mean_fast_bound(const T* x, double* bound, int64_t outer, int64_t len, int64_t inner);
template <class T>
double mse_loss_fast_bound(const T* y, const T* t, int64_t n);

// The comparison a checker applies to one element: the same bits, or a positive bound, both
// finite and |fast - exact| <= bound (the difference enclosed with outward rounding, so no
// rounding of the comparison can accept a result outside the bound). Bound 0 demands the bits.
template <class T>
bool within_fast_bound(T fast, T exact, double bound);

}  // namespace torchlean::runtime
