// Dispatch of the vectorised elementary functions (vmath.hpp): run-time choice of the instruction
// set, the binary64 variants, and the scalar fallback that the per-ISA kernels call.
#include "torchlean/runtime/vmath.hpp"

#include <atomic>
#include <cmath>
#include <limits>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/runtime/vmath_isa.hpp"

namespace torchlean::runtime {

namespace {

// Whether the CPU (and the OS, which libgcc checks through XGETBV) supports the path.
bool cpu_has(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case Isa::portable: return true;
    case Isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("fma");
  }
  return false;
#else
  return isa == Isa::portable;
#endif
}

const detail::VmathTable* vmath_table(Isa isa) {
  switch (isa) {
    case Isa::portable: return detail::vmath_table_portable();
    case Isa::avx2: return detail::vmath_table_avx2();
    case Isa::avx512: return detail::vmath_table_avx512();
  }
  return nullptr;
}

Isa best_isa() {
  for (Isa isa : {Isa::avx512, Isa::avx2})
    if (isa_supported(isa)) return isa;
  return Isa::portable;
}

// -1: automatic; otherwise the forced Isa.
std::atomic<int> g_forced{-1};
std::atomic<uint64_t> g_fallbacks{0};

template <class T>
T canonical(T v) {
  return std::isnan(v) ? std::numeric_limits<T>::quiet_NaN() : v;
}

// glibc's binary64 function; sigmoid composed as 1 / (1 + e^-x), or e^x / (1 + e^x) for x < 0,
// where e^-x could overflow although sigmoid(x) is a subnormal number.
double libm(Elementary f, double x) {
  switch (f) {
    case Elementary::exp: return std::exp(x);
    case Elementary::log: return std::log(x);
    case Elementary::tanh: return std::tanh(x);
    case Elementary::sigmoid: {
      if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
      const double e = std::exp(x);
      return e / (1.0 + e);
    }
    case Elementary::sin: return std::sin(x);
    case Elementary::cos: return std::cos(x);
    case Elementary::erf: return std::erf(x);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

namespace detail {
float vmath_scalar_fallback(int fn, float x) {
  g_fallbacks.fetch_add(1, std::memory_order_relaxed);
  return elementary(static_cast<Elementary>(fn), F32::of(x)).v;
}
}  // namespace detail

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::portable: return "portable";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  static const bool supported[3] = {
      vmath_table(Isa::portable) != nullptr,
      vmath_table(Isa::avx2) != nullptr && cpu_has(Isa::avx2),
      vmath_table(Isa::avx512) != nullptr && cpu_has(Isa::avx512),
  };
  return supported[static_cast<int>(isa)];
}

Isa active_isa() {
  static const Isa best = best_isa();
  const int forced = g_forced.load(std::memory_order_relaxed);
  return forced < 0 ? best : static_cast<Isa>(forced);
}

void force_isa_for_testing(std::optional<Isa> isa) {
  if (isa && !isa_supported(*isa))
    throw UserError("force_isa_for_testing: instruction set " + std::string(isa_name(*isa)) +
                    " is not supported on this machine");
  g_forced.store(isa ? static_cast<int>(*isa) : -1, std::memory_order_relaxed);
}

void vmath_exact(Elementary f, const float* x, float* y, int64_t n) {
  if (n > 0) vmath_table(active_isa())->exact[static_cast<int>(f)](x, y, n);
}

void vmath_fast(Elementary f, const float* x, float* y, int64_t n) {
  if (n > 0) vmath_table(active_isa())->fast[static_cast<int>(f)](x, y, n);
}

// Binary64 has no vector kernel: the scalar correctly rounded function per element.
void vmath_exact(Elementary f, const double* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = elementary(f, F64::of(x[i])).v;
}

// glibc documents its largest known errors on x86_64 (binary64) as 1 ulp for exp, log, sin, cos
// and erf and 2 ulp for tanh; sigmoid adds two roundings to exp's error. Where glibc's special
// results could differ from the correctly rounded ones (overflow of exp to inf vs DBL_MAX), the
// element takes the exact path.
void vmath_fast(Elementary f, const double* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = libm(f, x[i]);
    const bool overflow_edge = f == Elementary::exp && std::isfinite(x[i]) &&
                               std::fabs(v) >= std::numeric_limits<double>::max();
    y[i] = overflow_edge ? elementary(f, F64::of(x[i])).v : canonical(v);
  }
}

template <>
int vmath_fast_ulps<float>(Elementary) {
  return 1;
}
// |glibc - exact| <= 2 ulp (tanh), 1 ulp (exp, log, sin, cos, erf), below 4 ulp (sigmoid: exp's
// 1 ulp, the sum and the quotient, 4u relative), and the correctly rounded result is within half
// an ulp of the exact value: 5 ulps covers every function.
template <>
int vmath_fast_ulps<double>(Elementary) {
  return 5;
}

template <class T>
double ulp_of(T v) {
  if (!std::isfinite(v)) return std::numeric_limits<double>::infinity();
  const T a = std::fabs(v);
  if (a < std::numeric_limits<T>::min()) return std::numeric_limits<T>::denorm_min();
  if (a == std::numeric_limits<T>::max())  // the gap below; the next magnitude would overflow
    return static_cast<double>(a - std::nextafter(a, T(0)));
  return static_cast<double>(std::nextafter(a, std::numeric_limits<T>::infinity()) - a);
}
template double ulp_of<float>(float);
template double ulp_of<double>(double);

uint64_t vmath_fallback_count() { return g_fallbacks.load(std::memory_order_relaxed); }

void vmath_approx_for_testing(Isa isa, Elementary f, bool fast, const float* x, double* y,
                              int64_t n) {
  if (!isa_supported(isa))
    throw UserError("vmath_approx_for_testing: instruction set " + std::string(isa_name(isa)) +
                    " is not supported on this machine");
  const detail::VmathTable* t = vmath_table(isa);
  (fast ? t->approx_fast : t->approx_exact)[static_cast<int>(f)](x, y, n);
}

}  // namespace torchlean::runtime
