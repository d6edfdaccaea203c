// log_softmax and cross_entropy in the reference's order (loss_kernels.hpp). Per line along the
// axis: m = maximum over the line (IEEE maximum: any order gives the reference's value; an empty
// line has none), s = left fold from +0 of exp(x_k - m), l = log(s), y_k = (x_k - m) - l.
// cross_entropy: per row, loss = l - (x_t - m); the loss is the left fold from +0 over rows of
// those, divided by n. exp and log are the correctly rounded functions (vmath_exact).
#include "torchlean/runtime/loss_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "torchlean/runtime/vmath.hpp"

namespace torchlean::runtime {

namespace {

constexpr int64_t kBlock = 256;

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

// m and l = log(sum exp(x_k - m)) of one strided line.
template <class T>
void line_stats(const T* x, int64_t len, int64_t stride, T* m_out, T* l_out) {
  T m = x[0];
  for (int64_t k = 1; k < len; ++k) m = maximum(m, x[k * stride]);
  alignas(64) T e[kBlock];
  T s = T(0);
  for (int64_t k0 = 0; k0 < len; k0 += kBlock) {
    const int64_t n = std::min(kBlock, len - k0);
    for (int64_t k = 0; k < n; ++k) e[k] = x[(k0 + k) * stride] - m;
    vmath_exact(Elementary::exp, e, e, n);
    for (int64_t k = 0; k < n; ++k) s = s + e[k];
  }
  T l;
  vmath_exact(Elementary::log, &s, &l, 1);
  *m_out = m;
  *l_out = l;
}

}  // namespace

template <class T>
void log_softmax_exact(const T* x, T* y, int64_t outer, int64_t len, int64_t inner) {
  if (len <= 0) return;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* line = x + o * len * inner + i;
      T* out = y + o * len * inner + i;
      T m, l;
      line_stats(line, len, inner, &m, &l);
      for (int64_t k = 0; k < len; ++k) out[k * inner] = canon((line[k * inner] - m) - l);
    }
}

template <class T>
T cross_entropy_exact(const T* logits, const T* t, int64_t n, int64_t c) {
  T acc = T(0);
  for (int64_t r = 0; r < n; ++r) {
    const T* row = logits + r * c;
    T m, l;
    line_stats(row, c, 1, &m, &l);
    const int64_t k = static_cast<int64_t>(t[r]);
    acc = acc + (l - (row[k] - m));
  }
  return canon(acc / static_cast<T>(n));
}

template void log_softmax_exact<float>(const float*, float*, int64_t, int64_t, int64_t);
template void log_softmax_exact<double>(const double*, double*, int64_t, int64_t, int64_t);
template float cross_entropy_exact<float>(const float*, const float*, int64_t, int64_t);
template double cross_entropy_exact<double>(const double*, const double*, int64_t, int64_t);

}  // namespace torchlean::runtime
