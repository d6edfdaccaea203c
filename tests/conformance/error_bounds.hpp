// Per-element error bounds for the ops whose binary64 result depends on evaluation order or
// combines several roundings (dot products, reductions, pools, normalisations). Each output
// element gets (c, k, m) and the check is, in exact rational arithmetic,
//     |ours - torch| <= c * gamma_k * m + c * k * 2^-1074
// where gamma_k = k*u/(1 - k*u), u = 2^-53, and the last term absorbs underflow. The derivation of
// every (c, k, m) is in docs/conformance.md ("Bounded ops").
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <vector>

#include "reference_data.hpp"

namespace torchlean::conformance {

struct ElementBound {
  int64_t c = 2;
  int64_t k = 0;
  mpq_class m;
};

// One bound per output element, row-major. Throws InternalError for an op without a bound rule.
std::vector<ElementBound> error_bounds(const Case& c);
// c * gamma_k * m + c * k * 2^-1074.
mpq_class bound_value(const ElementBound& b);

}  // namespace torchlean::conformance
