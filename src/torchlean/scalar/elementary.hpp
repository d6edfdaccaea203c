// The elementary functions of the F32/F64 domains by name, plus the hooks that tests and the
// exhaustive checker need: the MPFR path on its own and a count of how often the binary32 fast
// path had to fall back to it. The functions themselves are declared in f32.hpp.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "torchlean/scalar/f32.hpp"

namespace torchlean {

enum class Elementary { exp, log, tanh, sigmoid, sin, cos, erf };
inline constexpr Elementary kAllElementary[] = {Elementary::exp, Elementary::log,  Elementary::tanh,
                                                Elementary::sigmoid, Elementary::sin, Elementary::cos,
                                                Elementary::erf};

std::string_view elementary_name(Elementary f);
std::optional<Elementary> parse_elementary(std::string_view name);

// The correctly rounded function (the same as exp(F32) etc.).
F32 elementary(Elementary f, F32 x);
F64 elementary(Elementary f, F64 x);

// Correctly rounded result computed by MPFR alone (the fallback path; slow).
F32 elementary_mpfr(Elementary f, F32 x);

// How many F32 evaluations, process-wide, were too close to a rounding boundary for the binary64
// fast path and went to MPFR (special values that are answered directly do not count).
uint64_t f32_mpfr_fallback_count();

}  // namespace torchlean
