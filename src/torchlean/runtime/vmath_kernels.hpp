// Internal: the vectorised binary32 elementary functions, written once over vmath_simd.hpp and
// compiled per instruction set by vmath_<isa>.cpp. Reference: scalar/elementary.cpp (the correctly
// rounded F32 functions); docs/runtime.md derives every bound quoted here.
//
// Method (exact variant). Each lane's binary32 input x is widened to binary64 (exactly), and
// f(x) is approximated in binary64 by our own range reduction and polynomial with a relative
// error below 2^-47 (the per-function bounds below; the tests measure them against MPFR). Then the
// same test as scalar/elementary.cpp: with e = |y| * 2^-42, if y - e and y + e round to the same
// binary32 number, that number is the correctly rounded f(x) (rounding is monotone and the true
// value lies within 2^-47 |y| < e of y). The remaining lanes (about 10 in a million) and inputs
// outside the vector code's range call the scalar function. So the result is bit-identical to
// the scalar F32 function on every path. Inputs with a fixed answer (NaN, infinities, zeros,
// saturation thresholds) are answered directly, exactly as the scalar function answers them.
//
// Fast variant: lower-degree polynomials (relative error below 2^-28) and no test. Rounding y,
// whose distance to f(x) is below 2^-28 |f(x)|, gives the correctly rounded value or one of its
// two neighbours (the interval [f(1 - 2^-28), f(1 + 2^-28)] contains at most one rounding
// boundary of binary32), i.e. at most 1 ulp from the exact variant. Lanes where that argument
// fails (exp near the overflow threshold, sin/cos of huge arguments) use the scalar function.
//
// Unit roundoff u = 2^-53 below. Polynomials are evaluated by Horner's rule with fma (two
// roundings per step on the portable path; the stated bounds cover both).
#pragma once
#include "torchlean/runtime/vmath_erf_table.hpp"
#include "torchlean/runtime/vmath_isa.hpp"
#include "torchlean/runtime/vmath_simd.hpp"

namespace torchlean::runtime::detail {
namespace {  // NOLINT(google-build-namespaces): per-TU copies, see vmath_simd.hpp

enum Fn : int { kExp = 0, kLog, kTanh, kSigmoid, kSin, kCos, kErf };

constexpr double kInf = __builtin_inf();
constexpr double kNaN = __builtin_nan("");  // the canonical quiet NaN
// Relative radius of the rounding test. The tested interval keeps a radius above
// (2^-42 - 2^-52)|y| after its own two roundings, more than 32 times every bound below.
constexpr double kAllowance = 0x1p-42;

// The binary64 approximation of one register of lanes.
struct Approx {
  Dv y;       // f(x) approximated, or the exact answer on `direct` lanes
  Lv direct;  // y is the exact answer and a binary32 value: no rounding test
  Lv scalar;  // the vector code does not handle this lane: use the scalar function
};

template <int N>
inline Dv horner(Dv x, const double* c) {
  Dv p = splat<Dv>(c[N - 1]);
  for (int i = N - 2; i >= 0; --i) p = madd(p, x, splat<Dv>(c[i]));
  return p;
}

// ---- exp -----------------------------------------------------------------------------------
// t = k ln2 + r with k = rint(t / ln2), |r| <= 0.3466 (plus a hair when t / ln2 rounds), and
// e^t = 2^k e^r. ln2 = kLn2Hi + kLn2Lo where kLn2Hi has 29 significant bits: for a binary32 t
// with |t| <= 128, k kLn2Hi is exact (|k| <= 185), and so is t - k kLn2Hi (when k != 0, |t| >=
// 0.34, so both are multiples of 2^-29, and the difference is below 1); r = fma(-k, kLn2Lo,
// t - k kLn2Hi) carries one rounding (<= u |r|) plus |k| |ln2 - kLn2Hi - kLn2Lo| < 2^-81.
constexpr double kLog2e = 0x1.71547652b82fep+0;
constexpr double kLn2Hi = 0x1.62e42ff000000p-1;
constexpr double kLn2Lo = -0x1.718432a1b0e26p-35;
// Taylor coefficients 1/n! (each a correctly rounded quotient of exact integers).
constexpr double kExpPoly[14] = {1.0,
                                 1.0,
                                 1.0 / 2,
                                 1.0 / 6,
                                 1.0 / 24,
                                 1.0 / 120,
                                 1.0 / 720,
                                 1.0 / 5040,
                                 1.0 / 40320,
                                 1.0 / 362880,
                                 1.0 / 3628800,
                                 1.0 / 39916800,
                                 1.0 / 479001600,
                                 1.0 / 6227020800.0};
// e^r on |r| <= 0.35: degree 13 leaves a truncation below 2^-57 relative; Horner's rounding
// errors sum to below 2u (1.95u absolute against e^r >= 0.707), 4u on the portable path.
// Degree 8 (fast): truncation below 2^-31.
template <bool Fast>
inline Dv exp_poly(Dv r) {
  return horner<Fast ? 9 : 14>(r, kExpPoly);
}
struct Reduced {
  Dv r, k;
  Lv k_bits;  // rint_bits of t / ln2
};
inline Reduced exp_reduce(Dv t) {
  const Lv kb = rint_bits(t * kLog2e);
  const Dv k = rint_of_bits(kb);
  const Dv r = madd(-k, splat<Dv>(kLn2Lo), t - k * kLn2Hi);
  return {r, k, kb};
}
// e^t for binary32 values t with |t| <= 128. Error: 2u (poly) + 0.35u (r's rounding, scaled by
// |r|) + truncation < 2.5u relative (5u portable): below 2^-50. Scaling by 2^k is exact.
template <bool Fast>
inline Dv exp_core(Dv t) {
  const Reduced red = exp_reduce(t);
  return exp_poly<Fast>(red.r) * pow2(red.k_bits - kShifterBits);
}

template <bool Fast>
inline Approx approx_exp(Dv x) {
  const Lv nan = x != x;
  const Lv over = x > 100.0;    // e^100 > 2^128: +inf (scalar/elementary.cpp's threshold)
  const Lv under = x < -110.0;  // e^-110 < 2^-150: +0
  const Lv direct = nan | over | under;
  Dv y = exp_core<Fast>(direct ? splat<Dv>(0.0) : x);
  // Only exp can round to +inf; near that edge the fast result could differ from the exact one
  // by more than a neighbour (FLT_MAX vs inf), so those lanes take the scalar function.
  const Lv scalar = Fast ? ((y >= 0x1.ffffp127) & ~direct) : Lv{};
  y = over ? splat<Dv>(kInf) : y;
  y = under ? splat<Dv>(0.0) : y;
  y = nan ? splat<Dv>(kNaN) : y;
  return {y, direct, scalar};
}

// ---- sigmoid --------------------------------------------------------------------------------
// 1 / (1 + e^-x): e^-x within 2.5u, the sum within that plus u, the quotient one more u: below
// 5u (8u portable) relative.
template <bool Fast>
inline Approx approx_sigmoid(Dv x) {
  const Lv nan = x != x;
  // 1 - sigmoid(x) < e^-x <= e^-17.4 < 2^-25 for x >= 17.4: every such value rounds to 1.
  const Lv one = x >= 17.4;
  const Lv zero = x < -110.0;  // sigmoid(x) < e^x < 2^-150: +0 (the scalar threshold)
  const Lv direct = nan | one | zero;
  const Dv e = exp_core<Fast>(-(direct ? splat<Dv>(0.0) : x));
  Dv y = 1.0 / (e + 1.0);
  y = one ? splat<Dv>(1.0) : y;
  y = zero ? splat<Dv>(0.0) : y;
  y = nan ? splat<Dv>(kNaN) : y;
  return {y, direct, Lv{}};
}

// ---- tanh -----------------------------------------------------------------------------------
// tanh|x| = -m / (2 + m) with m = e^t - 1, t = -2|x| (exact).
//   k == 0 (|t| < 0.35): m = t + t^2 Q(t), Q(t) = sum_j t^j / (j+2)!; the correction is below
//     0.18 |t|, so m is within 2u relative (truncation of degree 11: 2^-56).
//   k != 0: m = e^t - 1 with e^t <= 0.707 from exp_core: its 2.5u error is amplified by at most
//     e^t / (1 - e^t) <= 2.42, plus the subtraction: below 7.1u (13.2u portable).
// Then -m / (2 + m): m's error counts twice (numerator and denominator, |m| < 2 + m), plus two
// roundings: below 16.2u (28.4u portable) < 2^-47.
constexpr double kExpm1Poly[12] = {1.0 / 2,         1.0 / 6,          1.0 / 24,
                                   1.0 / 120,       1.0 / 720,        1.0 / 5040,
                                   1.0 / 40320,     1.0 / 362880,     1.0 / 3628800,
                                   1.0 / 39916800,  1.0 / 479001600,  1.0 / 6227020800.0};
template <bool Fast>
inline Dv expm1_nonpositive(Dv t) {
  const Reduced red = exp_reduce(t);
  // Degree 11 in Q (fast: 6, truncation below 2^-30).
  const Dv small = madd(t * t, horner<Fast ? 7 : 12>(t, kExpm1Poly), t);
  const Dv big = exp_poly<Fast>(red.r) * pow2(red.k_bits - kShifterBits) - 1.0;
  return red.k == 0.0 ? small : big;
}

template <bool Fast>
inline Approx approx_tanh(Dv x) {
  const Lv nan = x != x;
  const Dv a = vabs(x);
  // 1 - tanh(a) < 2 e^-2a <= 2 e^-18.2 < 2^-25 for a >= 9.1: rounds to +-1.
  const Lv sat = a >= 9.1;
  const Lv zero = x == 0.0;  // tanh(+-0) = +-0
  const Lv direct = nan | sat | zero;
  const Dv m = expm1_nonpositive<Fast>(-2.0 * (direct ? splat<Dv>(0.0) : a));
  Dv y = copysign(-m / (m + 2.0), x);
  y = sat ? copysign(splat<Dv>(1.0), x) : y;
  y = zero ? x : y;
  y = nan ? splat<Dv>(kNaN) : y;
  return {y, direct, Lv{}};
}

// ---- log ------------------------------------------------------------------------------------
// x = 2^e m with m in [sqrt(2)/2, sqrt(2)] (binary32 subnormals are normal binary64 numbers).
// log m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.1716: m - 1 is exact (Sterbenz), so s is
// within 2u relative; log m = 2s + s z R(z), z = s^2, R(z) = sum_j 2 z^j / (2j + 3), whose
// correction is below 0.0101 |2s|: log m within 3.1u relative (degree 9 in R: truncation 2^-59;
// fast: degree 5, 2^-34). log x = e kLn2Hi + (log m + e kLn2Lo), e kLn2Hi exact: for e != 0 the
// absolute error is below 1.43u against |log x| >= 0.346, so below 5.2u relative (9u portable).
constexpr double kSqrt2 = 0x1.6a09e667f3bcdp+0;
constexpr double kLogPoly[10] = {2.0 / 3,  2.0 / 5,  2.0 / 7,  2.0 / 9,  2.0 / 11,
                                 2.0 / 13, 2.0 / 15, 2.0 / 17, 2.0 / 19, 2.0 / 21};
template <bool Fast>
inline Approx approx_log(Dv x) {
  const Lv nan = x != x;
  const Lv zero = x == 0.0;       // log(+-0) = -inf
  const Lv negative = x < 0.0;    // NaN (the elementwise kernel reports these as errors)
  const Lv inf = x == kInf;       // +inf
  const Lv one = x == 1.0;        // +0 exactly
  const Lv direct = nan | zero | negative | inf | one;
  const Lv b = bits(x);
  Lv e = ((b >> 52) & 0x7ff) - 1023;
  Dv m = from_bits((b & 0x000fffffffffffffll) | 0x3ff0000000000000ll);
  const Lv big = m > kSqrt2;
  m = big ? m * 0.5 : m;
  e = e - big;  // big lanes are -1
  const Dv s = (m - 1.0) / (m + 1.0);
  const Dv z = s * s;
  const Dv lm = madd(s, z * horner<Fast ? 6 : 10>(z, kLogPoly), s + s);
  const Dv ed = to_double(e);
  Dv y = madd(ed, splat<Dv>(kLn2Hi), madd(ed, splat<Dv>(kLn2Lo), lm));
  y = one ? splat<Dv>(0.0) : y;
  y = zero ? splat<Dv>(-kInf) : y;
  y = inf ? splat<Dv>(kInf) : y;
  y = (nan | negative) ? splat<Dv>(kNaN) : y;
  return {y, direct, Lv{}};
}

// ---- sin, cos -------------------------------------------------------------------------------
// For binary32 |x| < 2^24: k = rint(x 2/pi), r = x - k pi/2 with pi/2 = P1 + P2 + P3, P1 and P2
// of 29 significant bits: k P1 and k P2 are exact (|k| < 2^24), x - k P1 is exact (multiples of
// 2^-28 below 1 in magnitude), the next subtraction is an exact TwoSum, and k P3 rounds by at most
// 2^-87; with |pi/2 - P1 - P2 - P3| < 2^-114 the reduction error is below 2^-85 absolute. An
// exhaustive scan of the binary32 inputs in [pi/4, 2^24) finds |r| >= 2^-27.8 whenever k != 0
// (at x = 0x1.f9cbe2p+7), so r carries at most u + 2^-57 relative error. Larger |x| use the scalar
// function (Payne-Hanek reduction in glibc / MPFR).
// On |r| <= pi/4: sin r = r + r z S(z), cos r = 1 + z C(z), z = r^2, Taylor to r^17 and r^16
// (truncation below 2^-58; fast: r^11 and r^12, below 2^-32). Rounding: sin within 2.5u, cos
// within 2.3u, each plus the reduction's u: below 4u (8u portable).
constexpr double kTwoOverPi = 0x1.45f306dc9c883p-1;
constexpr double kPio2_1 = 0x1.921fb54000000p+0;
constexpr double kPio2_2 = 0x1.10b4612000000p-30;
constexpr double kPio2_3 = -0x1.676733ae8fe48p-60;
constexpr double kSinPoly[8] = {-1.0 / 6,           1.0 / 120,           -1.0 / 5040,
                                1.0 / 362880,       -1.0 / 39916800,     1.0 / 6227020800.0,
                                -1.0 / 1307674368000.0, 1.0 / 355687428096000.0};
constexpr double kCosPoly[8] = {-1.0 / 2,          1.0 / 24,             -1.0 / 720,
                                1.0 / 40320,       -1.0 / 3628800,       1.0 / 479001600,
                                -1.0 / 87178291200.0, 1.0 / 20922789888000.0};

template <bool Fast, bool Cos>
inline Approx approx_sincos(Dv x) {
  const Lv nan = x != x;
  const Dv a = vabs(x);
  const Lv inf = a == kInf;              // NaN
  const Lv huge = (a >= 0x1p24) & ~inf;  // scalar
  const Lv zero = x == 0.0;              // sin(+-0) = +-0, cos(+-0) = 1
  const Lv direct = nan | inf | zero;
  const Dv xc = (direct | huge) ? splat<Dv>(0.0) : x;
  const Lv kb = rint_bits(xc * kTwoOverPi);
  const Dv k = rint_of_bits(kb);
  const Dv r1 = xc - k * kPio2_1;  // exact
  const Dv p2 = k * kPio2_2;       // exact
  const Dv s = r1 - p2;            // TwoSum(r1, -p2): s + err == r1 - p2 exactly
  const Dv bv = s - r1;
  const Dv err = (r1 - (s - bv)) + (-p2 - bv);
  const Dv r = s + (err - k * kPio2_3);
  const Dv z = r * r;
  const Dv sin_r = madd(r * z, horner<Fast ? 5 : 8>(z, kSinPoly), r);
  const Dv cos_r = madd(z, horner<Fast ? 6 : 8>(z, kCosPoly), splat<Dv>(1.0));
  // Quadrant k mod 4 (the low bits of the shifted integer); cos(x) = sin(x + pi/2).
  const Lv q = (Cos ? kb + 1 : kb) & 3;
  Dv y = (q & 1) != 0 ? cos_r : sin_r;
  y = (q & 2) != 0 ? -y : y;
  y = zero ? (Cos ? splat<Dv>(1.0) : x) : y;
  y = (nan | inf) ? splat<Dv>(kNaN) : y;
  return {y, direct, huge};
}

// ---- erf ------------------------------------------------------------------------------------
// a = |x|, erf odd.
//   a < 0.5: erf(a) = a P(a^2), P(z) = (2/sqrt(pi)) sum_n (-1)^n z^n / (n! (2n+1)) to n = 12
//     (truncation 2^-63; fast: n = 7, 2^-35); P >= 1.03 and its terms shrink by 4x, so within 4u.
//   0.5 <= a < 4: the Taylor expansion at the nearest centre x_j (vmath_erf_table.hpp) in
//     t = a - x_j (exact, |t| <= 1/16), degree 12 (fast 6): within 4u against erf(a) >= 0.52.
//   a >= 4: 1 - erf(a) = erfc(a) <= erfc(4) < 2^-25, so the result rounds to +-1.
// Bound: 4u (8u portable) < 2^-50.
constexpr double kErfSmall[13] = {
    0x1.20dd750429b6dp+0,  -0x1.812746b0379e7p-2, 0x1.ce2f21a042be2p-4,  -0x1.b82ce31288b51p-6,
    0x1.565bcd0e6a53fp-8,  -0x1.c02db40040b86p-11, 0x1.f9a326f9b89b7p-14, -0x1.f4d25c3e0c2ebp-17,
    0x1.b9e6c9dc651a3p-20, -0x1.5f742ec43e71ap-23, 0x1.fcc5720624c1cp-27, -0x1.51d7181c5d36dp-30,
    0x1.9e6ad5e55a730p-34};

template <bool Fast>
inline Approx approx_erf(Dv x) {
  const Lv nan = x != x;
  const Dv a0 = vabs(x);
  const Lv sat = a0 >= 4.0;
  const Lv zero = x == 0.0;  // erf(+-0) = +-0
  const Lv direct = nan | sat | zero;
  const Dv a = direct ? splat<Dv>(0.0) : a0;
  const Dv ys = a * horner<Fast ? 8 : 13>(a * a, kErfSmall);
  // Piece index j = floor((a - 0.5) * 8), clamped so the gathers stay inside the table.
  const Dv v = (a - 0.5) * 8.0;
  const Lv jb = rint_bits(v);
  Lv j = (jb - kShifterBits) + (rint_of_bits(jb) > v);  // rint rounded up: subtract 1
  j = j < 0 ? Lv{} : j;
  j = j > kErfPieces - 1 ? splat<Lv>(int64_t{kErfPieces - 1}) : j;
  const Dv t = a - (to_double(j) * 0.125 + 0.5625);
  constexpr int kDeg = Fast ? 6 : kErfDegree;
  Dv yt = lookup32(kErfTaylor[kDeg], j);
  for (int n = kDeg - 1; n >= 0; --n) yt = madd(yt, t, lookup32(kErfTaylor[n], j));
  Dv y = copysign(a < 0.5 ? ys : yt, x);
  y = sat ? copysign(splat<Dv>(1.0), x) : y;
  y = zero ? x : y;
  y = nan ? splat<Dv>(kNaN) : y;
  return {y, direct, Lv{}};
}

// ---- drivers --------------------------------------------------------------------------------
template <int F, bool Fast>
inline Approx approx(Dv x) {
  if constexpr (F == kExp) return approx_exp<Fast>(x);
  if constexpr (F == kLog) return approx_log<Fast>(x);
  if constexpr (F == kTanh) return approx_tanh<Fast>(x);
  if constexpr (F == kSigmoid) return approx_sigmoid<Fast>(x);
  if constexpr (F == kSin) return approx_sincos<Fast, false>(x);
  if constexpr (F == kCos) return approx_sincos<Fast, true>(x);
  if constexpr (F == kErf) return approx_erf<Fast>(x);
}

// kUnroll registers per step: the polynomials are latency-bound chains, so independent registers
// in flight keep the FMA units busy.
constexpr int kUnroll = 4;
constexpr int kBlock = kUnroll * kLanesD;

// One block of lanes; x and y may be the same array (the inputs are held in xf).
template <int F, bool Fast>
inline void block(const float* x, float* y) {
  Fh xf[kUnroll];
  Approx a[kUnroll];
  for (int u = 0; u < kUnroll; ++u) xf[u] = load<Fh>(x + u * kLanesD);
  for (int u = 0; u < kUnroll; ++u) a[u] = approx<F, Fast>(widen(xf[u]));
  unsigned redo[kUnroll];
  for (int u = 0; u < kUnroll; ++u) {
    if constexpr (Fast) {
      redo[u] = mask_bits(a[u].scalar);
    } else {
      const Dv ay = vabs(a[u].y);
      const Dv e = ay * kAllowance;
      const Ih same =
          reinterpret_cast<Ih>(narrow(a[u].y - e)) == reinterpret_cast<Ih>(narrow(a[u].y + e));
      // The relative test needs a normal y whose radius e is normal too.
      const Lv ok =
          a[u].direct | (widen_mask(same) & (ay >= 0x1p-900) & (ay <= 0x1p900) & ~a[u].scalar);
      redo[u] = mask_bits(~ok) & ((1u << kLanesD) - 1);
    }
    store(y + u * kLanesD, narrow(a[u].y));
  }
  for (int u = 0; u < kUnroll; ++u) {
    while (redo[u] != 0) {
      const int j = __builtin_ctz(redo[u]);
      redo[u] &= redo[u] - 1;
      y[u * kLanesD + j] = vmath_scalar_fallback(F, xf[u][j]);
    }
  }
}

template <int F, bool Fast>
void span(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) block<F, Fast>(x + i, y + i);
  if (i < n) {
    float xin[kBlock], yout[kBlock];
    for (int j = 0; j < kBlock; ++j) xin[j] = i + j < n ? x[i + j] : 0.5f;
    block<F, Fast>(xin, yout);
    for (int j = 0; i + j < n; ++j) y[i + j] = yout[j];
  }
}

template <int F, bool Fast>
void approx_span(const float* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesD) {
    float xin[kLanesD];
    for (int j = 0; j < kLanesD; ++j) xin[j] = i + j < n ? x[i + j] : 0.5f;
    const Approx a = approx<F, Fast>(widen(load<Fh>(xin)));
    const Dv yv = (a.direct | a.scalar) ? splat<Dv>(kNaN) : a.y;
    for (int j = 0; j < kLanesD && i + j < n; ++j) y[i + j] = yv[j];
  }
}

constexpr VmathTable kVmathTable = {
    {span<kExp, false>, span<kLog, false>, span<kTanh, false>, span<kSigmoid, false>,
     span<kSin, false>, span<kCos, false>, span<kErf, false>},
    {span<kExp, true>, span<kLog, true>, span<kTanh, true>, span<kSigmoid, true>, span<kSin, true>,
     span<kCos, true>, span<kErf, true>},
    {approx_span<kExp, false>, approx_span<kLog, false>, approx_span<kTanh, false>,
     approx_span<kSigmoid, false>, approx_span<kSin, false>, approx_span<kCos, false>,
     approx_span<kErf, false>},
    {approx_span<kExp, true>, approx_span<kLog, true>, approx_span<kTanh, true>,
     approx_span<kSigmoid, true>, approx_span<kSin, true>, approx_span<kCos, true>,
     approx_span<kErf, true>},
};

}  // namespace
}  // namespace torchlean::runtime::detail
