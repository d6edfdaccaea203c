// Reference semantics of the seeded random ops, exactly as TorchLean's Random module
// (NN/Runtime/Autograd/TorchLean/Random.lean): randomness is a pure function of (seed, node index,
// element index), so every evaluation of a graph draws the same values.
//   key  = splitmix64(seed + node_id)                  (uint64 arithmetic, wrapping)
//   u_j  = splitmix64(key + j) mod 2^32                (one draw per element, j = row-major index)
//   U_j  = the domain's value of the rational u_j / 2^32, in [0, 1)
// where splitmix64(z) is one SplitMix64 step from state z. u_j / 2^32 is a dyadic rational with at
// most 32 significant bits, so F64 and Exact hold it exactly; F32 rounds it once to nearest (as
// TorchLean's Float32 cast of u_j does), and values within 2^-25 of 1 round up to 1.0.
//   rand_uniform:        y_j = U_j.
//   bernoulli_mask(kp):  y_j = 1 if kp > U_j else 0 (TorchLean's keepBit), with no 1/kp rescaling;
//                        a NaN keepProb compares false and gives 0. In Exact, a keepProb enclosure
//                        that overlaps U_j cannot be decided and is an EvalError.
// The seed attribute is an int64; it is reinterpreted as uint64 (TorchLean's seeds are naturals,
// for which this is UInt64.ofNat).
#include <cmath>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/ops/op_util.hpp"

namespace torchlean::ops {

namespace {

uint64_t splitmix64(uint64_t z) { return SplitMix64(z).next(); }

uint64_t stream_key(const ir::Node& node, int64_t seed) {
  return splitmix64(static_cast<uint64_t>(seed) + static_cast<uint64_t>(node.id));
}

// U_j as a domain value: the binary64 u / 2^32 is exact, and from_double rounds it at most once.
template <class S>
S uniform_draw(uint64_t key, int64_t j) {
  const uint64_t u = splitmix64(key + static_cast<uint64_t>(j)) & 0xFFFFFFFFull;
  return S::from_double(std::ldexp(static_cast<double>(u), -32));
}

}  // namespace

template <class S>
Tensor<S> eval_rand_uniform(const EvalArgs<S>& args) {
  const uint64_t key = stream_key(args.node, args.template attrs<ir::SeedAttrs>().seed);
  Tensor<S> out(args.node.shape);
  for (int64_t j = 0; j < out.numel(); ++j) out[j] = uniform_draw<S>(key, j);
  return out;
}

template <class S>
Tensor<S> eval_bernoulli_mask(const EvalArgs<S>& args) {
  const Tensor<S>& keep = args.arg(0);
  TL_INTERNAL_CHECK(keep.numel() == 1, detail::prefix(args.node) + "keepProb " +
                                           keep.shape().str() +
                                           " passed the checker but is not a scalar");
  const uint64_t key = stream_key(args.node, args.template attrs<ir::SeedAttrs>().seed);
  const S one = S::from_int(1);
  const S zero = S::from_int(0);
  Tensor<S> out(args.node.shape);
  for (int64_t j = 0; j < out.numel(); ++j) {
    const S u = uniform_draw<S>(key, j);
    std::optional<bool> kept = detail::greater(keep[0], u);
    if (!kept)
      throw EvalError(detail::prefix(args.node) + "keepProb " + detail::value_text(keep[0]) +
                      " cannot be compared with the draw " + detail::value_text(u) + " at index " +
                      std::to_string(j));
    out[j] = *kept ? one : zero;
  }
  return out;
}

TL_OPS_INSTANTIATE(rand_uniform)
TL_OPS_INSTANTIATE(bernoulli_mask)

}  // namespace torchlean::ops
