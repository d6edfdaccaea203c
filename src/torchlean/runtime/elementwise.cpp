// Dispatch of the elementwise kernels (elementwise.hpp) to the per-ISA tables, the elementary
// functions to vmath, log's domain check, and the fused-chain interpreter.
#include "torchlean/runtime/elementwise.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/runtime/elementwise_isa.hpp"
#include "torchlean/runtime/vmath.hpp"

namespace torchlean::runtime {

namespace detail {

const EwTable& ew_table() {
  switch (active_isa()) {
    case Isa::avx512: return *ew_table_avx512();
    case Isa::avx2: return *ew_table_avx2();
    case Isa::portable: break;
  }
  return *ew_table_portable();
}

template <>
const EwOps<float>& ew_ops<float>() {
  return ew_table().f32;
}
template <>
const EwOps<double>& ew_ops<double>() {
  return ew_table().f64;
}

}  // namespace detail

namespace {

std::optional<Elementary> elementary_of(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: return Elementary::exp;
    case UnaryOp::log: return Elementary::log;
    case UnaryOp::tanh: return Elementary::tanh;
    case UnaryOp::sigmoid: return Elementary::sigmoid;
    case UnaryOp::sin: return Elementary::sin;
    case UnaryOp::cos: return Elementary::cos;
    case UnaryOp::erf: return Elementary::erf;
    default: return std::nullopt;
  }
}

// Records log's first domain error among x[0..n) (reference: ops/elementwise.cpp eval_log checks
// the whole tensor before computing). `offset` places x in the whole array, `step` in a chain.
// Keeps the earliest (step, index) already recorded.
template <class T>
void check_log_domain(const T* x, int64_t n, int64_t offset, int32_t step, ElementwiseError* error) {
  if (error == nullptr) return;
  if (error->failed() && error->step <= step) return;  // an earlier step already failed
  const int64_t bad = detail::ew_ops<T>().first_not_positive(x, n);
  if (bad < 0) return;
  error->index = offset + bad;
  error->step = step;
  error->value = static_cast<double>(x[bad]);
}

template <class T>
void unary_run(UnaryOp op, bool fast, const T* x, T* y, int64_t n, int64_t offset, int32_t step,
               ElementwiseError* error) {
  if (op == UnaryOp::log) check_log_domain(x, n, offset, step, error);
  if (auto f = elementary_of(op)) {
    if (fast)
      vmath_fast(*f, x, y, n);
    else
      vmath_exact(*f, x, y, n);
  } else {
    detail::ew_ops<T>().unary(op, x, y, n);
  }
}

}  // namespace

std::string_view unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::copy: return "copy";
    case UnaryOp::relu: return "relu";
    case UnaryOp::abs: return "abs";
    case UnaryOp::sqrt: return "sqrt";
    case UnaryOp::inv: return "inv";
    case UnaryOp::exp: return "exp";
    case UnaryOp::log: return "log";
    case UnaryOp::tanh: return "tanh";
    case UnaryOp::sigmoid: return "sigmoid";
    case UnaryOp::sin: return "sin";
    case UnaryOp::cos: return "cos";
    case UnaryOp::neg: return "neg";
    case UnaryOp::erf: return "erf";
  }
  return "?";
}

std::string_view binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "add";
    case BinaryOp::sub: return "sub";
    case BinaryOp::mul: return "mul";
    case BinaryOp::div: return "div";
    case BinaryOp::maximum: return "maximum";
    case BinaryOp::minimum: return "minimum";
  }
  return "?";
}

std::optional<UnaryOp> unary_op_of(ir::OpKind k) {
  switch (k) {
    case ir::OpKind::detach: return UnaryOp::copy;
    case ir::OpKind::relu: return UnaryOp::relu;
    case ir::OpKind::abs: return UnaryOp::abs;
    case ir::OpKind::sqrt: return UnaryOp::sqrt;
    case ir::OpKind::inv: return UnaryOp::inv;
    case ir::OpKind::exp: return UnaryOp::exp;
    case ir::OpKind::log: return UnaryOp::log;
    case ir::OpKind::tanh: return UnaryOp::tanh;
    case ir::OpKind::sigmoid: return UnaryOp::sigmoid;
    case ir::OpKind::sin: return UnaryOp::sin;
    case ir::OpKind::cos: return UnaryOp::cos;
    case ir::OpKind::neg: return UnaryOp::neg;
    case ir::OpKind::erf: return UnaryOp::erf;
    default: return std::nullopt;
  }
}

std::optional<BinaryOp> binary_op_of(ir::OpKind k) {
  switch (k) {
    case ir::OpKind::add: return BinaryOp::add;
    case ir::OpKind::sub: return BinaryOp::sub;
    case ir::OpKind::mul_elem: return BinaryOp::mul;
    case ir::OpKind::max_elem: return BinaryOp::maximum;
    case ir::OpKind::min_elem: return BinaryOp::minimum;
    case ir::OpKind::div: return BinaryOp::div;
    default: return std::nullopt;
  }
}

bool unary_has_fast_variant(UnaryOp op) { return elementary_of(op).has_value(); }

template <class T>
void unary_exact(UnaryOp op, const T* x, T* y, int64_t n, ElementwiseError* error) {
  if (n > 0) unary_run(op, false, x, y, n, 0, 0, error);
}

template <class T>
void unary_fast(UnaryOp op, const T* x, T* y, int64_t n, ElementwiseError* error) {
  if (n > 0) unary_run(op, true, x, y, n, 0, 0, error);
}

template <class T>
double unary_fast_bound(UnaryOp op, T ref) {
  const auto f = elementary_of(op);
  if (!f || !std::isfinite(ref)) return 0;
  return vmath_fast_ulps<T>(*f) * ulp_of(ref);
}

template <class T>
void binary_exact(BinaryOp op, const T* a, const T* b, T* y, int64_t n) {
  if (n > 0) detail::ew_ops<T>().binary(op, a, b, y, n);
}
template <class T>
void binary_exact_rhs_scalar(BinaryOp op, const T* a, T b, T* y, int64_t n) {
  if (n > 0) detail::ew_ops<T>().binary_rhs_scalar(op, a, b, y, n);
}
template <class T>
void binary_exact_lhs_scalar(BinaryOp op, T a, const T* b, T* y, int64_t n) {
  if (n > 0) detail::ew_ops<T>().binary_lhs_scalar(op, a, b, y, n);
}

// ---- chains ---------------------------------------------------------------------------------

ElementwiseChain& ElementwiseChain::then(ChainStep step) {
  if (length >= kMaxChainSteps)
    throw InternalError("elementwise chain: more than " + std::to_string(kMaxChainSteps) +
                        " steps");
  steps[length++] = step;
  return *this;
}

void check_chain(const ElementwiseChain& chain, int n_arrays, int n_scalars) {
  if (chain.length < 1 || chain.length > kMaxChainSteps)
    throw InternalError("elementwise chain: length " + std::to_string(chain.length) +
                        " is not in [1, " + std::to_string(kMaxChainSteps) + "]");
  for (int s = 0; s < chain.length; ++s) {
    const ChainStep& st = chain.steps[s];
    const std::string where = "elementwise chain: step " + std::to_string(s) + " (" +
                              std::string(st.is_binary ? binary_op_name(st.binary)
                                                       : unary_op_name(st.unary)) +
                              ")";
    const int n_operands = st.is_binary ? 2 : 1;
    for (int k = 0; k < n_operands; ++k) {
      const ChainOperand& o = k == 0 ? st.lhs : st.rhs;
      switch (o.source) {
        case ChainSource::value:
          if (s == 0) throw InternalError(where + " reads the chain value before it exists");
          break;
        case ChainSource::array:
          if (o.index >= n_arrays)
            throw InternalError(where + " reads array " + std::to_string(o.index) + " of " +
                                std::to_string(n_arrays));
          break;
        case ChainSource::scalar:
          if (o.index >= n_scalars)
            throw InternalError(where + " reads scalar " + std::to_string(o.index) + " of " +
                                std::to_string(n_scalars));
          break;
        default: throw InternalError(where + " has an unknown operand source");
      }
    }
  }
}

namespace {

constexpr int64_t kChainBlock = 256;

// One operand over the block [i0, i0 + len): a pointer, or a scalar (ptr == nullptr).
template <class T>
struct Operand {
  const T* ptr;
  T scalar;
};
template <class T>
Operand<T> operand(const ChainOperand& o, const T* value, const T* const* arrays, const T* scalars,
                   int64_t i0) {
  switch (o.source) {
    case ChainSource::value: return {value, T(0)};
    case ChainSource::array: return {arrays[o.index] + i0, T(0)};
    case ChainSource::scalar: break;
  }
  return {nullptr, scalars[o.index]};
}

}  // namespace

template <class T>
void chain_run(const ElementwiseChain& chain, const T* const* arrays, const T* scalars, T* y,
               int64_t n, ElementwiseError* error) {
  const detail::EwOps<T>& ops = detail::ew_ops<T>();
  alignas(64) T v[kChainBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kChainBlock) {
    const int64_t len = std::min(kChainBlock, n - i0);
    for (int32_t s = 0; s < chain.length; ++s) {
      const ChainStep& st = chain.steps[s];
      const Operand<T> a = operand(st.lhs, v, arrays, scalars, i0);
      if (!st.is_binary) {
        const T* x = a.ptr;
        if (x == nullptr) {  // a broadcast scalar: materialise it
          std::fill(v, v + len, a.scalar);
          x = v;
        }
        unary_run(st.unary, chain.fast, x, v, len, i0, s, error);
        continue;
      }
      const Operand<T> b = operand(st.rhs, v, arrays, scalars, i0);
      if (a.ptr != nullptr && b.ptr != nullptr) {
        ops.binary(st.binary, a.ptr, b.ptr, v, len);
      } else if (a.ptr != nullptr) {
        ops.binary_rhs_scalar(st.binary, a.ptr, b.scalar, v, len);
      } else if (b.ptr != nullptr) {
        ops.binary_lhs_scalar(st.binary, a.scalar, b.ptr, v, len);
      } else {
        std::fill(v, v + len, a.scalar);
        ops.binary_rhs_scalar(st.binary, v, b.scalar, v, len);
      }
    }
    std::copy(v, v + len, y + i0);
  }
}

#define TL_EW_INSTANTIATE(T)                                                                     \
  template void unary_exact<T>(UnaryOp, const T*, T*, int64_t, ElementwiseError*);              \
  template void unary_fast<T>(UnaryOp, const T*, T*, int64_t, ElementwiseError*);               \
  template double unary_fast_bound<T>(UnaryOp, T);                                               \
  template void binary_exact<T>(BinaryOp, const T*, const T*, T*, int64_t);                      \
  template void binary_exact_rhs_scalar<T>(BinaryOp, const T*, T, T*, int64_t);                  \
  template void binary_exact_lhs_scalar<T>(BinaryOp, T, const T*, T*, int64_t);                  \
  template void chain_run<T>(const ElementwiseChain&, const T* const*, const T*, T*, int64_t, \
                             ElementwiseError*);
TL_EW_INSTANTIATE(float)
TL_EW_INSTANTIATE(double)
#undef TL_EW_INSTANTIATE

}  // namespace torchlean::runtime
