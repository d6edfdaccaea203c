// The one op registry. Every table keyed by op (names, JSON kinds, arities, attribute types,
// shape rules, reference semantics) is generated from TORCHLEAN_OPS, so forgetting an op fails
// to compile. Arity -1 means variadic (concat: at least 2, conv2d_nchw: 2 or 3, checked by their
// shape rules).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "torchlean/ir/attrs.hpp"

namespace torchlean::ir {

// X(enum name, JSON kind, attribute struct, arity)
#define TORCHLEAN_OPS(X)                                        \
  X(input, "input", NoAttrs, 0)                                 \
  X(constant, "const", ConstAttrs, 0)                           \
  X(permute, "permute", PermuteAttrs, 1)                        \
  X(detach, "detach", NoAttrs, 1)                               \
  X(rand_uniform, "rand_uniform", SeedAttrs, 0)                 \
  X(bernoulli_mask, "bernoulli_mask", SeedAttrs, 1)             \
  X(add, "add", NoAttrs, 2)                                     \
  X(sub, "sub", NoAttrs, 2)                                     \
  X(mul_elem, "mul_elem", NoAttrs, 2)                           \
  X(abs, "abs", NoAttrs, 1)                                     \
  X(sqrt, "sqrt", NoAttrs, 1)                                   \
  X(inv, "inv", NoAttrs, 1)                                     \
  X(max_elem, "max_elem", NoAttrs, 2)                           \
  X(min_elem, "min_elem", NoAttrs, 2)                           \
  X(max_pool2d, "max_pool2d", Pool2dAttrs, 1)                   \
  X(max_pool2d_pad, "max_pool2d_pad", Pool2dPadAttrs, 1)        \
  X(avg_pool2d, "avg_pool2d", Pool2dAttrs, 1)                   \
  X(avg_pool2d_pad, "avg_pool2d_pad", Pool2dPadAttrs, 1)        \
  X(broadcast_to, "broadcast_to", BroadcastToAttrs, 1)          \
  X(reduce_sum, "reduce_sum", AxisAttrs, 1)                     \
  X(reduce_mean, "reduce_mean", AxisAttrs, 1)                   \
  X(sum, "sum", NoAttrs, 1)                                     \
  X(matmul, "matmul", NoAttrs, 2)                               \
  X(linear, "linear", NoAttrs, 1)                               \
  X(conv2d, "conv2d", Conv2dAttrs, 1)                           \
  X(batch_norm2d_nchw_eval, "batch_norm2d_nchw_eval", BatchNormAttrs, 1) \
  X(relu, "relu", NoAttrs, 1)                                   \
  X(tanh, "tanh", NoAttrs, 1)                                   \
  X(sigmoid, "sigmoid", NoAttrs, 1)                             \
  X(exp, "exp", NoAttrs, 1)                                     \
  X(log, "log", NoAttrs, 1)                                     \
  X(sin, "sin", NoAttrs, 1)                                     \
  X(cos, "cos", NoAttrs, 1)                                     \
  X(softmax, "softmax", AxisAttrs, 1)                           \
  X(layernorm, "layernorm", AxisAttrs, 1)                       \
  X(reshape, "reshape", ReshapeAttrs, 1)                        \
  X(flatten, "flatten", FlattenAttrs, 1)                        \
  X(concat, "concat", AxisAttrs, -1)                            \
  X(swap_first_two, "swap_first_two", NoAttrs, 1)               \
  X(transpose3d_last_two, "transpose3d_last_two", NoAttrs, 1)   \
  X(mse_loss, "mse_loss", NoAttrs, 2)                           \
  /* ---- extension ops (docs/ir.md); kV1OpCount counts the v1 ops above ---- */ \
  X(neg, "neg", NoAttrs, 1)                                     \
  X(div, "div", NoAttrs, 2)                                     \
  X(pow_const, "pow_const", PowAttrs, 1)                        \
  X(erf, "erf", NoAttrs, 1)                                     \
  X(gelu, "gelu", NoAttrs, 1)                                   \
  X(leaky_relu, "leaky_relu", LeakyReluAttrs, 1)                \
  X(softplus, "softplus", NoAttrs, 1)                           \
  X(silu, "silu", NoAttrs, 1)                                   \
  X(clamp, "clamp", ClampAttrs, 1)                              \
  X(compare, "compare", CompareAttrs, 2)                        \
  X(where, "where", NoAttrs, 3)                                 \
  X(broadcast, "broadcast", BroadcastAttrs, 1)                  \
  X(slice, "slice", SliceAttrs, 1)                              \
  X(pad, "pad", PadAttrs, 1)                                    \
  X(gather, "gather", GatherAttrs, 2)                           \
  X(log_softmax, "log_softmax", AxisAttrs, 1)                   \
  X(cross_entropy, "cross_entropy", NoAttrs, 2)                 \
  X(conv2d_nchw, "conv2d_nchw", Conv2dNchwAttrs, -1)            \
  X(max_pool2d_nchw, "max_pool2d_nchw", PoolNchwAttrs, 1)       \
  X(avg_pool2d_nchw, "avg_pool2d_nchw", PoolNchwAttrs, 1)       \
  X(max_pool2d_nchw_grad, "max_pool2d_nchw_grad", PoolNchwAttrs, 2) \
  X(avg_pool2d_nchw_grad, "avg_pool2d_nchw_grad", PoolNchwAttrs, 1) \
  X(conv2d_nchw_grad_input, "conv2d_nchw_grad_input", Conv2dNchwAttrs, 2) \
  X(conv2d_nchw_grad_weight, "conv2d_nchw_grad_weight", Conv2dNchwAttrs, 2) \
  X(gather_grad, "gather_grad", GatherAttrs, 2)                 \
  X(slice_grad, "slice_grad", SliceAttrs, 1)

enum class OpKind : uint8_t {
#define TL_X(name, json, A, arity) name,
  TORCHLEAN_OPS(TL_X)
#undef TL_X
};

inline constexpr int kOpCount = 0
#define TL_X(name, json, A, arity) +1
    TORCHLEAN_OPS(TL_X)
#undef TL_X
    ;
// The first kV1OpCount ops are TorchLean v1's, in its order; the rest are our extension ops.
inline constexpr int kV1OpCount = 41;
static_assert(static_cast<int>(OpKind::mse_loss) == kV1OpCount - 1,
              "TorchLean v1 has exactly 41 op kinds, listed first");
inline constexpr bool is_v1_op(OpKind k) { return static_cast<int>(k) < kV1OpCount; }

struct OpInfo {
  OpKind kind;
  std::string_view json_kind;  // spelling in torchlean.ir.v1
  int arity;                   // -1: variadic, at least one parent
  size_t attrs_index;          // index of the attribute struct in the Attrs variant
};

namespace detail {
template <class A, size_t I = 0>
constexpr size_t attrs_index() {
  if constexpr (std::is_same_v<A, std::variant_alternative_t<I, Attrs>>) return I;
  else return attrs_index<A, I + 1>();
}
}  // namespace detail

inline constexpr std::array<OpInfo, kOpCount> kOpInfos = {{
#define TL_X(name, json, A, arity) {OpKind::name, json, arity, detail::attrs_index<A>()},
    TORCHLEAN_OPS(TL_X)
#undef TL_X
}};

inline const OpInfo& op_info(OpKind k) { return kOpInfos[static_cast<size_t>(k)]; }
inline std::string_view op_name(OpKind k) { return op_info(k).json_kind; }
std::optional<OpKind> op_kind_from_json(std::string_view json_kind);
// Default-constructed attributes of the right type for `k`.
Attrs default_attrs(OpKind k);

}  // namespace torchlean::ir
