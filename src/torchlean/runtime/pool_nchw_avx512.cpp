// The binary32 2x2 stride-2 max-pooling kernels (pool_nchw.hpp's detail::PoolKernels), 16 windows
// per step (two output rows per step when a row has at most 8): the input rows are loaded, split
// into even and odd columns, and compared through pool_nchw.cpp's order keys (maximum's order as
// integers, every NaN at the canonical NaN's key).
// Built with -mavx512f on x86-64 (CMakeLists.txt); pool_nchw.cpp calls them only when the CPU
// supports AVX-512.
#include "torchlean/runtime/pool_nchw.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>

// GCC 12 reports its own _mm512_undefined_epi32() (a deliberate self-initialisation) inside
// _mm512_srai_epi32 and _mm512_max_epi32 as maybe uninitialised.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace torchlean::runtime::detail {

namespace {

constexpr int kNanKey = 0x7fc00000;  // the canonical quiet NaN's bits, a positive key

__m512i keys(__m512 v) {
  const __m512i b = _mm512_castps_si512(v);
  const __m512i k = _mm512_xor_si512(
      b, _mm512_and_si512(_mm512_srai_epi32(b, 31), _mm512_set1_epi32(0x7fffffff)));
  return _mm512_mask_mov_epi32(k, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q),
                               _mm512_set1_epi32(kNanKey));
}
__m512 values(__m512i k) {
  return _mm512_castsi512_ps(_mm512_xor_si512(
      k, _mm512_and_si512(_mm512_srai_epi32(k, 31), _mm512_set1_epi32(0x7fffffff))));
}

__mmask16 first_lanes(int64_t count) {
  return static_cast<__mmask16>(count >= 16 ? 0xffff : count <= 0 ? 0 : (1u << count) - 1);
}

// One step of 16 lanes: lanes 0-7 and 8-15 are windows of a "low" and a "high" part. A part's
// 2x2 cells are read from `cells` 2-row strips (in_w apart): the low part's top row at top_lo (up
// to 16 cells), the high part's at top_hi. A wide row uses both halves of one strip (top_hi =
// top_lo + 16); a narrow plane (n <= 8) puts two output rows in one step.
struct Step {
  const float *top_lo, *top_hi;
  __mmask16 cells_lo, cells_hi;  // the cells read in each part
};

// The even- and odd-column keys of one row of a step: even lane j is cell 2j of the part's row.
void split_keys(const float* lo, const float* hi, const Step& s, __m512i* even, __m512i* odd) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i a = keys(_mm512_maskz_loadu_ps(s.cells_lo, lo));
  const __m512i b = keys(_mm512_maskz_loadu_ps(s.cells_hi, hi));
  *even = _mm512_permutex2var_epi32(a, ie, b);
  *odd = _mm512_permutex2var_epi32(a, io, b);
}

// The keys of a step's four cells per window (row-major) and their maximum.
struct Window4 {
  __m512i k00, k01, k10, k11, max;
};
Window4 window_keys(const Step& s, int64_t in_w) {
  Window4 w;
  split_keys(s.top_lo, s.top_hi, s, &w.k00, &w.k01);
  split_keys(s.top_lo + in_w, s.top_hi + in_w, s, &w.k10, &w.k11);
  w.max = _mm512_max_epi32(_mm512_max_epi32(w.k00, w.k01), _mm512_max_epi32(w.k10, w.k11));
  return w;
}

// The step for windows [j, j + 16) of a wide row (n > 8) starting at x.
Step wide_step(const float* x, int64_t j, int64_t n) {
  const int64_t m = n - j < 16 ? n - j : 16;
  return {x + 2 * j, x + 2 * j + 16, first_lanes(2 * m), first_lanes(2 * m - 16)};
}
// The step for output rows r and r + 1 (if r + 1 < rows) of a narrow plane (n <= 8).
Step pair_step(const float* x, int64_t in_w, int64_t r, int64_t rows, int64_t n) {
  const bool two = r + 1 < rows;
  const float* top = x + 2 * r * in_w;
  return {top, two ? top + 2 * in_w : top, first_lanes(2 * n), first_lanes(two ? 2 * n : 0)};
}

void max_2x2s2(const float* x, int64_t in_w, float* y, int64_t out_w, int64_t rows, int64_t n) {
  if (n > 8) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; j += 16) {
        const Window4 w = window_keys(wide_step(x + 2 * r * in_w, j, n), in_w);
        _mm512_mask_storeu_ps(y + r * out_w + j, first_lanes(n - j), values(w.max));
      }
    return;
  }
  for (int64_t r = 0; r < rows; r += 2) {
    const __m512 v = values(window_keys(pair_step(x, in_w, r, rows, n), in_w).max);
    _mm512_mask_storeu_ps(y + r * out_w, first_lanes(n), v);
    if (r + 1 < rows)
      _mm512_mask_compressstoreu_ps(y + (r + 1) * out_w,
                                    static_cast<__mmask16>(first_lanes(n) << 8), v);
  }
}

// The gradient of a step: q = canon(+0 + g) at each window's first maximiser (row-major: (0,0),
// (0,1), (1,0), else (1,1)), +0 at its other cells, written to the top and bottom dx rows of
// each part (d_lo and d_hi point at the parts' top rows).
void grad_step(const Step& s, int64_t in_w, __m512 g, float* d_lo, float* d_hi) {
  const Window4 w = window_keys(s, in_w);
  const __mmask16 s00 = _mm512_cmpeq_epi32_mask(w.k00, w.max);
  const __mmask16 s01 = _mm512_mask_cmpeq_epi32_mask(static_cast<__mmask16>(~s00), w.k01, w.max);
  const __mmask16 s10 =
      _mm512_mask_cmpeq_epi32_mask(static_cast<__mmask16>(~(s00 | s01)), w.k10, w.max);
  const __mmask16 s11 = static_cast<__mmask16>(~(s00 | s01 | s10));
  __m512 q = _mm512_add_ps(_mm512_setzero_ps(), g);
  q = _mm512_mask_mov_ps(q, _mm512_cmp_ps_mask(q, q, _CMP_UNORD_Q),
                         _mm512_castsi512_ps(_mm512_set1_epi32(kNanKey)));
  // Interleaving even and odd columns back: the low part's cells, then the high part's.
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512 e0 = _mm512_maskz_mov_ps(s00, q), o0 = _mm512_maskz_mov_ps(s01, q);
  const __m512 e1 = _mm512_maskz_mov_ps(s10, q), o1 = _mm512_maskz_mov_ps(s11, q);
  _mm512_mask_storeu_ps(d_lo, s.cells_lo, _mm512_permutex2var_ps(e0, ilo, o0));
  _mm512_mask_storeu_ps(d_hi, s.cells_hi, _mm512_permutex2var_ps(e0, ihi, o0));
  _mm512_mask_storeu_ps(d_lo + in_w, s.cells_lo, _mm512_permutex2var_ps(e1, ilo, o1));
  _mm512_mask_storeu_ps(d_hi + in_w, s.cells_hi, _mm512_permutex2var_ps(e1, ihi, o1));
}

void max_grad_2x2s2(const float* x, const float* g, float* dx, int64_t in_w, int64_t out_w,
                    int64_t rows, int64_t n) {
  if (n > 8) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; j += 16) {
        const int64_t at = 2 * r * in_w + 2 * j;
        const __m512 gv = _mm512_maskz_loadu_ps(first_lanes(n - j), g + r * out_w + j);
        grad_step(wide_step(x + 2 * r * in_w, j, n), in_w, gv, dx + at, dx + at + 16);
      }
    return;
  }
  for (int64_t r = 0; r < rows; r += 2) {
    const bool two = r + 1 < rows;
    __m512 gv = _mm512_maskz_loadu_ps(first_lanes(n), g + r * out_w);
    if (two)
      gv = _mm512_mask_expandloadu_ps(gv, static_cast<__mmask16>(first_lanes(n) << 8),
                                      g + (r + 1) * out_w);
    float* d = dx + 2 * r * in_w;
    grad_step(pair_step(x, in_w, r, rows, n), in_w, gv, d, two ? d + 2 * in_w : d);
  }
}

constexpr PoolKernels kKernels{max_2x2s2, max_grad_2x2s2};

}  // namespace

const PoolKernels* pool_kernels_avx512() { return &kKernels; }

}  // namespace torchlean::runtime::detail
#else
namespace torchlean::runtime::detail {
const PoolKernels* pool_kernels_avx512() { return nullptr; }
}  // namespace torchlean::runtime::detail
#endif
