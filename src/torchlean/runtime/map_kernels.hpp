// Kernels of the elementwise extension ops that carry attributes or three operands (pow_const,
// gelu, leaky_relu, softplus, silu, clamp, compare, where): the `map` kernel. Each element is
// computed with exactly the reference's sequence of IEEE operations (ops/elementwise_ext.cpp,
// listed per op in map_kernels.cpp), each rounded once, NaN results canonical; the elementary
// functions (erf, exp, log, sigmoid) are vmath_exact's, which is correctly rounded like the
// reference's scalar functions. So the kernel is bit-identical to the reference. Elements are
// independent: a caller may split [0, n) among threads. Allocation-free (stack blocks).
#pragma once
#include <cstdint>

#include "torchlean/runtime/program.hpp"

namespace torchlean::runtime {

// The first index whose input the reference rejects (pow_const with a non-integer exponent other
// than 0.5 needs x > 0; NaN propagates), or -1. The executor checks the whole input with it before
// running the kernel, so the error it raises names the reference's element.
template <class T>
int64_t map_domain_error(const MapParams& p, const T* x, int64_t n);
// y[i] = op(in[0][i] (, in[1][i], in[2][i])) for i in [begin, end).
template <class T>
void map_exact(const MapParams& p, const T* const* in, T* y, int64_t begin, int64_t end);

}  // namespace torchlean::runtime
