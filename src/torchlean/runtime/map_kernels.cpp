// The map kernel (map_kernels.hpp). Blocks of kBlock elements: the elementary function of a block
// is computed first with vmath_exact (vectorised, correctly rounded), then the scalar steps of the
// op follow in the reference's order. Plain T arithmetic is IEEE arithmetic rounded once per
// operation here (the project builds with -ffp-contract=off and no fast-math); NaN results are
// canonicalised at the end, and no step lets a NaN's payload or sign reach a non-NaN result.
#include "torchlean/runtime/map_kernels.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "torchlean/core/error.hpp"
#include "torchlean/runtime/vmath.hpp"

namespace torchlean::runtime {

namespace {

constexpr int64_t kBlock = 256;

template <class T>
T canon(T v) {
  return v != v ? std::numeric_limits<T>::quiet_NaN() : v;
}
// IEEE 754-2019 maximum/minimum (NaN-propagating, -0 < +0), as scalar/f32.hpp's.
template <class T>
T maximum(T a, T b) {
  if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
template <class T>
T minimum(T a, T b) {
  if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
// A double attribute as the reference converts it (S::from_double: one rounding, NaN canonical).
template <class T>
T attr(double v) {
  return canon(static_cast<T>(v));
}

// pow_const's three forms: an integer |p| <= 1024 (repeated multiplication), 0.5 (sqrt), and
// every other p (exp(p * log x), defined for x > 0).
bool is_small_integer(double p) { return p == std::trunc(p) && std::fabs(p) <= 1024; }
bool uses_exp_log(double p) { return !is_small_integer(p) && p != 0.5; }

template <class T, class F>
void blocks(int64_t begin, int64_t end, F&& f) {
  for (int64_t b = begin; b < end; b += kBlock) f(b, std::min(kBlock, end - b));
}

}  // namespace

template <class T>
int64_t map_domain_error(const MapParams& p, const T* x, int64_t n) {
  if (p.op != ir::OpKind::pow_const || !uses_exp_log(std::get<ir::PowAttrs>(p.attrs).exponent))
    return -1;
  for (int64_t i = 0; i < n; ++i)
    if (!(x[i] > T(0)) && x[i] == x[i]) return i;
  return -1;
}

template <class T>
void map_exact(const MapParams& p, const T* const* in, T* y, int64_t begin, int64_t end) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;  // T's bits
  const T* x = in[0];
  alignas(64) T e[kBlock];
  switch (p.op) {
    case ir::OpKind::leaky_relu: {  // x >= 0 ? x : alpha * x
      const T alpha = attr<T>(std::get<ir::LeakyReluAttrs>(p.attrs).alpha);
      for (int64_t i = begin; i < end; ++i) {
        const T scaled = canon(alpha * x[i]);  // computed either way, so the loop is branchless
        y[i] = x[i] >= T(0) ? x[i] : scaled;
      }
      return;
    }
    case ir::OpKind::clamp: {  // minimum(maximum(x, lo), hi), a bound only when set and finite
      const auto& a = std::get<ir::ClampAttrs>(p.attrs);
      const bool use_lo = a.has_lo && a.lo != -std::numeric_limits<double>::infinity();
      const bool use_hi = a.has_hi && a.hi != std::numeric_limits<double>::infinity();
      const T lo = attr<T>(a.lo), hi = attr<T>(a.hi);
      for (int64_t i = begin; i < end; ++i) {
        T v = x[i];
        if (use_lo) v = maximum(v, lo);
        if (use_hi) v = minimum(v, hi);
        y[i] = v;
      }
      return;
    }
    case ir::OpKind::compare: {  // 1 where a cmp b, else +0
      const std::string& c = std::get<ir::CompareAttrs>(p.attrs).cmp;
      const T* b = in[1];
      auto run = [&](auto pred) {  // 1's bits under an all-ones or all-zeros mask: vectorises
        const U one = std::bit_cast<U>(T(1));
        if (p.scalar_inputs & 2u) {
          const T b0 = b[0];
          for (int64_t i = begin; i < end; ++i)
            y[i] = std::bit_cast<T>(one & (U(0) - U(pred(x[i], b0))));
          return;
        }
        for (int64_t i = begin; i < end; ++i)
          y[i] = std::bit_cast<T>(one & (U(0) - U(pred(x[i], b[i]))));
      };
      if (c == "lt")
        run([](T u, T v) { return u < v; });
      else if (c == "le")
        run([](T u, T v) { return u <= v; });
      else if (c == "gt")
        run([](T u, T v) { return u > v; });
      else if (c == "ge")
        run([](T u, T v) { return u >= v; });
      else if (c == "eq")
        run([](T u, T v) { return u == v; });
      else if (c == "ne")
        run([](T u, T v) { return u != v; });
      else
        throw InternalError("map: compare '" + c + "' passed the checker");
      return;
    }
    case ir::OpKind::where: {  // c != 0 ? a : b, the chosen value's bits unchanged
      // A bit select rather than a branch: the condition is data, often random (relu masks).
      const T *a = in[1], *b = in[2];
      auto select = [&](auto a_at, auto b_at) {
        for (int64_t i = begin; i < end; ++i) {
          const U m = U(0) - U(x[i] != T(0));
          y[i] =
              std::bit_cast<T>((std::bit_cast<U>(a_at(i)) & m) | (std::bit_cast<U>(b_at(i)) & ~m));
        }
      };
      const T a0 = p.scalar_inputs & 2u ? a[0] : T(0), b0 = p.scalar_inputs & 4u ? b[0] : T(0);
      auto array_a = [&](int64_t i) { return a[i]; };
      auto array_b = [&](int64_t i) { return b[i]; };
      auto scalar_a = [&](int64_t) { return a0; };
      auto scalar_b = [&](int64_t) { return b0; };
      switch (p.scalar_inputs & 6u) {
        case 0:
          select(array_a, array_b);
          break;
        case 2:
          select(scalar_a, array_b);
          break;
        case 4:
          select(array_a, scalar_b);
          break;
        default:
          select(scalar_a, scalar_b);
          break;
      }
      return;
    }
    case ir::OpKind::silu:  // x * sigmoid(x)
      blocks<T>(begin, end, [&](int64_t b, int64_t n) {
        vmath_exact(Elementary::sigmoid, x + b, e, n);
        for (int64_t i = 0; i < n; ++i) y[b + i] = canon(x[b + i] * e[i]);
      });
      return;
    case ir::OpKind::softplus:  // maximum(x, +0) + log(1 + exp(-|x|))
      blocks<T>(begin, end, [&](int64_t b, int64_t n) {
        for (int64_t i = 0; i < n; ++i) e[i] = -std::fabs(x[b + i]);
        vmath_exact(Elementary::exp, e, e, n);
        for (int64_t i = 0; i < n; ++i) e[i] = T(1) + e[i];
        vmath_exact(Elementary::log, e, e, n);
        for (int64_t i = 0; i < n; ++i) y[b + i] = canon(maximum(x[b + i], T(0)) + e[i]);
      });
      return;
    case ir::OpKind::gelu: {  // (x * 0.5) * (1 + erf(x * c)), c = 1/sqrt(2) rounded to T
      const T c = static_cast<T>(0.70710678118654752440);
      blocks<T>(begin, end, [&](int64_t b, int64_t n) {
        for (int64_t i = 0; i < n; ++i) e[i] = x[b + i] * c;
        vmath_exact(Elementary::erf, e, e, n);
        for (int64_t i = 0; i < n; ++i) y[b + i] = canon((x[b + i] * T(0.5)) * (T(1) + e[i]));
      });
      return;
    }
    case ir::OpKind::pow_const: {
      const double pe = std::get<ir::PowAttrs>(p.attrs).exponent;
      if (is_small_integer(pe)) {  // r = x, then |p|-1 times r = r * x; 1/r for p < 0; p = 0: 1
        const int64_t count = static_cast<int64_t>(std::fabs(pe));
        for (int64_t i = begin; i < end; ++i) {
          if (count == 0) {
            y[i] = T(1);
            continue;
          }
          T r = x[i];
          for (int64_t k = 1; k < count; ++k) r = r * x[i];
          y[i] = pe < 0 ? canon(T(1) / r) : count > 1 ? canon(r) : r;
        }
        return;
      }
      if (pe == 0.5) {  // sqrt(x), NaN below 0
        for (int64_t i = begin; i < end; ++i) y[i] = canon(std::sqrt(x[i]));
        return;
      }
      const T ps = attr<T>(pe);  // exp(p * log x), x > 0 checked by map_domain_error
      blocks<T>(begin, end, [&](int64_t b, int64_t n) {
        vmath_exact(Elementary::log, x + b, e, n);
        for (int64_t i = 0; i < n; ++i) e[i] = ps * e[i];
        vmath_exact(Elementary::exp, e, e, n);
        for (int64_t i = 0; i < n; ++i) y[b + i] = canon(e[i]);
      });
      return;
    }
    default:
      throw InternalError("map: op " + std::string(ir::op_name(p.op)) + " has no map kernel");
  }
}

template int64_t map_domain_error<float>(const MapParams&, const float*, int64_t);
template int64_t map_domain_error<double>(const MapParams&, const double*, int64_t);
template void map_exact<float>(const MapParams&, const float* const*, float*, int64_t, int64_t);
template void map_exact<double>(const MapParams&, const double* const*, double*, int64_t, int64_t);

}  // namespace torchlean::runtime
