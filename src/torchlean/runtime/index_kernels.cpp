// gather and scatter-add over float-held indices (index_kernels.hpp).
#include "torchlean/runtime/index_kernels.hpp"

#include <algorithm>
#include <cmath>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::runtime {

namespace {

// The checked index as an offset in [0, bound).
template <class T>
int64_t offset_of(T v, int64_t bound) {
  const int64_t k = static_cast<int64_t>(v);
  return k < 0 ? k + bound : k;
}

}  // namespace

template <class T>
IndexError check_indices(const T* idx, int64_t count, int64_t extent, bool allow_negative) {
  const int64_t lo = allow_negative ? -extent : 0;
  for (int64_t k = 0; k < count; ++k) {
    const T v = idx[k];
    // An integer of magnitude at most 2^53 (ops/op_util.hpp integer_value), then the range.
    const bool integer = std::fabs(v) <= T(0x1p53) && v == std::trunc(v);
    if (!integer || static_cast<int64_t>(v) < lo || static_cast<int64_t>(v) >= extent)
      return IndexError{k, to_string(IeeeScalar<T>{v}), lo, extent - 1};
  }
  return {};
}

void throw_index_error(const ir::Node& node, const char* what, const IndexError& err) {
  throw EvalError(ir::detail::node_prefix(node) + what + " at index " +
                  std::to_string(err.position) + " is " + err.value + ", expected an integer in [" +
                  std::to_string(err.lo) + ", " + std::to_string(err.hi) + "]");
}

template <class T>
void gather_exact(const IndexParams& p, const T* data, const T* idx, T* y) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t k = 0; k < p.count; ++k) {
      const T* src = data + (o * p.axis_len + offset_of(idx[k], p.axis_len)) * p.inner;
      std::copy(src, src + p.inner, y + (o * p.count + k) * p.inner);
    }
}

template <class T>
void scatter_add_exact(const IndexParams& p, const T* idx, const T* g, T* y) {
  std::fill(y, y + p.outer * p.axis_len * p.inner, T(0));
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t k = 0; k < p.count; ++k) {
      T* dst = y + (o * p.axis_len + offset_of(idx[k], p.axis_len)) * p.inner;
      const T* src = g + (o * p.count + k) * p.inner;
      for (int64_t i = 0; i < p.inner; ++i) {
        const T s = dst[i] + src[i];
        dst[i] = s != s ? std::numeric_limits<T>::quiet_NaN() : s;
      }
    }
}

#define TL_INDEX_INSTANTIATE(T)                                              \
  template IndexError check_indices<T>(const T*, int64_t, int64_t, bool);    \
  template void gather_exact<T>(const IndexParams&, const T*, const T*, T*); \
  template void scatter_add_exact<T>(const IndexParams&, const T*, const T*, T*);
TL_INDEX_INSTANTIATE(float)
TL_INDEX_INSTANTIATE(double)
#undef TL_INDEX_INSTANTIATE

}  // namespace torchlean::runtime
