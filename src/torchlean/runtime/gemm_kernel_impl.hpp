// Kernel bodies shared by the ISA files gemm_portable.cpp, gemm_avx2.cpp and gemm_avx512.cpp.
// Every template takes the file's vector traits `Isa` (declared in that file's anonymous
// namespace), so each instantiation has internal linkage and is compiled only with that file's
// flags. Include this header from ISA kernel files only.
//
// Isa provides: T (float/double), V (vector), lanes, zero(), load(p), load_n(p, n) (lanes >= n
// zero-filled), store(p, v), store_n(p, v, n), bcast(x), fma(a, b, c) = a*b + c rounded once,
// add(a, b), canon(v) (NaN lanes -> canonical quiet NaN), transpose(V* rows) (lanes x lanes, in
// place: rows[q] becomes column q).
//
// Order: every accumulator lane is one C element and receives acc = fma(a_k, b_k, acc) for k in
// increasing order, from +0; bias is added once after the last k; NaN is canonicalised last.
#pragma once
#include <cstdint>

namespace torchlean::runtime::detail {

// The micro-kernel: an MR x (NV*lanes) tile of C from a packed B sliver and an A sliver that is
// packed (PackedA) or read in place with row stride lda (see GemmKernels).
template <class Isa, int MR, int NV, bool PackedA>
void micro_kernel(int64_t kc, const typename Isa::T* a, int64_t lda, const typename Isa::T* b,
                  typename Isa::T* c, int64_t ldc, bool first, bool last,
                  const typename Isa::T* bias, bool bias_rows) {
  using V = typename Isa::V;
  constexpr int L = Isa::lanes;
  constexpr int NR = NV * L;
  V acc[MR][NV];
  if (first) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = Isa::zero();
  } else {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = Isa::load(c + i * ldc + v * L);
  }
  for (int64_t p = 0; p < kc; ++p) {
    V bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = Isa::load(b + p * NR + v * L);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      V ai = Isa::bcast(PackedA ? a[p * MR + i] : a[i * lda + p]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = Isa::fma(ai, bv[v], acc[i][v]);
    }
  }
  if (last) {
    if (bias != nullptr && bias_rows) {
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        V bb = Isa::bcast(bias[i]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = Isa::add(acc[i][v], bb);
      }
    } else if (bias != nullptr) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        V bb = Isa::load(bias + v * L);
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) acc[i][v] = Isa::add(acc[i][v], bb);
      }
    }
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = Isa::canon(acc[i][v]);
  }
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) Isa::store(c + i * ldc + v * L, acc[i][v]);
}

// Packs A[0:rows, 0:kc) (row stride lda) into dst[q*MR + i], rows >= `rows` as zeros: groups of
// `lanes` rows are transposed in registers, so each k step's MR values land contiguously.
template <class Isa, int MR>
void pack_a(const typename Isa::T* a, int64_t lda, int rows, int64_t kc, typename Isa::T* dst) {
  using V = typename Isa::V;
  constexpr int L = Isa::lanes;
  for (int g = 0; g < MR; g += L) {
    const int group = MR - g < L ? MR - g : L;
    const int valid = rows - g < 0 ? 0 : (rows - g < group ? rows - g : group);
    for (int64_t q0 = 0; q0 < kc; q0 += L) {
      const int rem = kc - q0 < L ? static_cast<int>(kc - q0) : L;
      V t[L];
#pragma GCC unroll 16
      for (int l = 0; l < L; ++l) {
        if (l >= valid) {
          t[l] = Isa::zero();
          continue;
        }
        const typename Isa::T* row = a + (g + l) * lda + q0;
        t[l] = rem == L ? Isa::load(row) : Isa::load_n(row, rem);
      }
      Isa::transpose(t);
      for (int q = 0; q < rem; ++q) {
        if (group == L)
          Isa::store(dst + (q0 + q) * MR + g, t[q]);
        else
          Isa::store_n(dst + (q0 + q) * MR + g, t[q], group);
      }
    }
  }
}

// Packs B[0:kc, 0:cols) into dst[q*NR + j] (NR = NV*lanes), columns >= `cols` as zeros. b points
// at B[0, 0]: row stride ldb, or, when transposed, B[q, j] = b[j*ldb + q] (transposed in
// registers, lanes x lanes at a time).
template <class Isa, int NV>
void pack_b(const typename Isa::T* b, int64_t ldb, bool b_transposed, int cols, int64_t kc,
            typename Isa::T* dst) {
  using V = typename Isa::V;
  constexpr int L = Isa::lanes;
  constexpr int NR = NV * L;
  int cnt[NV];
  for (int v = 0; v < NV; ++v) {
    const int left = cols - v * L;
    cnt[v] = left < 0 ? 0 : (left > L ? L : left);
  }
  if (!b_transposed) {
    if (cols == NR) {
      for (int64_t q = 0; q < kc; ++q)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
          Isa::store(dst + q * NR + v * L, Isa::load(b + q * ldb + v * L));
    } else {
      for (int64_t q = 0; q < kc; ++q)
        for (int v = 0; v < NV; ++v)
          Isa::store(dst + q * NR + v * L, Isa::load_n(b + q * ldb + v * L, cnt[v]));
    }
    return;
  }
  for (int v = 0; v < NV; ++v) {
    for (int64_t q0 = 0; q0 < kc; q0 += L) {
      const int rem = kc - q0 < L ? static_cast<int>(kc - q0) : L;
      V t[L];
#pragma GCC unroll 16
      for (int l = 0; l < L; ++l) {
        if (l >= cnt[v]) {
          t[l] = Isa::zero();
          continue;
        }
        const typename Isa::T* row = b + (v * L + l) * ldb + q0;
        t[l] = rem == L ? Isa::load(row) : Isa::load_n(row, rem);
      }
      Isa::transpose(t);
      for (int q = 0; q < rem; ++q) Isa::store(dst + (q0 + q) * NR + v * L, t[q]);
    }
  }
}

// Unpacked kernel for R rows of A and up to NV*lanes columns j .. j+cols of C, whole k range.
// B is read in place; when transposed (B[k, j] = b[j*ldb + k]) lanes x lanes blocks are
// transposed in registers. Columns >= j + cols are neither read nor written.
template <class Isa, int R, int NV>
void small_block(int64_t j, int cols, int64_t k, const typename Isa::T* a, int64_t lda,
                 const typename Isa::T* b, int64_t ldb, bool b_transposed, typename Isa::T* c,
                 int64_t ldc, const typename Isa::T* bias, bool bias_rows) {
  using V = typename Isa::V;
  constexpr int L = Isa::lanes;
  int cnt[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    int left = cols - v * L;
    cnt[v] = left < 0 ? 0 : (left > L ? L : left);
  }
  const bool full = cols == NV * L;
  V acc[R][NV];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = Isa::zero();

  if (!b_transposed) {
    const typename Isa::T* bj = b + j;
    if (full) {
      for (int64_t p = 0; p < k; ++p) {
        V bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) bv[v] = Isa::load(bj + p * ldb + v * L);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
          V ai = Isa::bcast(a[i * lda + p]);
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[i][v] = Isa::fma(ai, bv[v], acc[i][v]);
        }
      }
    } else {
      for (int64_t p = 0; p < k; ++p) {
        V bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) bv[v] = Isa::load_n(bj + p * ldb + v * L, cnt[v]);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
          V ai = Isa::bcast(a[i * lda + p]);
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[i][v] = Isa::fma(ai, bv[v], acc[i][v]);
        }
      }
    }
  } else {
    for (int64_t p0 = 0; p0 < k; p0 += L) {
      const int rem = k - p0 < L ? static_cast<int>(k - p0) : L;
#pragma GCC unroll 1
      for (int v = 0; v < NV; ++v) {
        if (cnt[v] == 0) continue;
        const typename Isa::T* rows = b + (j + v * L) * ldb + p0;
        V t[L];
        if (rem == L && cnt[v] == L) {
#pragma GCC unroll 16
          for (int l = 0; l < L; ++l) t[l] = Isa::load(rows + l * ldb);
        } else {
#pragma GCC unroll 16
          for (int l = 0; l < L; ++l)
            t[l] = l < cnt[v] ? Isa::load_n(rows + l * ldb, rem) : Isa::zero();
        }
        Isa::transpose(t);
        if (rem == L) {
#pragma GCC unroll 16
          for (int q = 0; q < L; ++q) {
#pragma GCC unroll 8
            for (int i = 0; i < R; ++i)
              acc[i][v] = Isa::fma(Isa::bcast(a[i * lda + p0 + q]), t[q], acc[i][v]);
          }
        } else {
          // The tail: only real k steps; an extra fma(a, +0, acc) could turn -0 into +0.
          for (int q = 0; q < rem; ++q) {
#pragma GCC unroll 8
            for (int i = 0; i < R; ++i)
              acc[i][v] = Isa::fma(Isa::bcast(a[i * lda + p0 + q]), t[q], acc[i][v]);
          }
        }
      }
    }
  }

#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    if (bias != nullptr && bias_rows) {
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) acc[i][v] = Isa::add(acc[i][v], Isa::bcast(bias[i]));
    } else if (bias != nullptr) {
      V bb = full ? Isa::load(bias + j + v * L) : Isa::load_n(bias + j + v * L, cnt[v]);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) acc[i][v] = Isa::add(acc[i][v], bb);
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      V out = Isa::canon(acc[i][v]);
      if (full)
        Isa::store(c + i * ldc + j + v * L, out);
      else if (cnt[v] > 0)
        Isa::store_n(c + i * ldc + j + v * L, out, cnt[v]);
    }
  }
}

// C[0:m, j0:j1) in row groups of at most 4 and column blocks of NV*lanes (NV1*lanes for a single
// row, whose only parallelism is across column vectors: each lane's fold is one long chain).
template <class Isa, int NV1, int NV>
void small_m_kernel(int64_t m, int64_t j0, int64_t j1, int64_t k, const typename Isa::T* a,
                    int64_t lda, const typename Isa::T* b, int64_t ldb, bool b_transposed,
                    typename Isa::T* c, int64_t ldc, const typename Isa::T* bias, bool bias_rows) {
  for (int64_t i0 = 0; i0 < m; i0 += 4) {
    const int64_t rows = m - i0 < 4 ? m - i0 : 4;
    const typename Isa::T* ai = a + i0 * lda;
    typename Isa::T* ci = c + i0 * ldc;
    const typename Isa::T* bi = (bias != nullptr && bias_rows) ? bias + i0 : bias;
    const int64_t NR = (rows == 1 ? NV1 : NV) * Isa::lanes;
    for (int64_t j = j0; j < j1; j += NR) {
      const int cols = static_cast<int>(j1 - j < NR ? j1 - j : NR);
      switch (rows) {
        case 1:
          small_block<Isa, 1, NV1>(j, cols, k, ai, lda, b, ldb, b_transposed, ci, ldc, bi,
                                   bias_rows);
          break;
        case 2:
          small_block<Isa, 2, NV>(j, cols, k, ai, lda, b, ldb, b_transposed, ci, ldc, bi,
                                  bias_rows);
          break;
        case 3:
          small_block<Isa, 3, NV>(j, cols, k, ai, lda, b, ldb, b_transposed, ci, ldc, bi,
                                  bias_rows);
          break;
        default:
          small_block<Isa, 4, NV>(j, cols, k, ai, lda, b, ldb, b_transposed, ci, ldc, bi,
                                  bias_rows);
          break;
      }
    }
  }
}

}  // namespace torchlean::runtime::detail
