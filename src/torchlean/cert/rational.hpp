// Exact rationals as certificates write them: "p/q", an integer, or a decimal with an optional
// exponent ("0.0039", "1e-3"). Parsing is bounded so that hostile input cannot allocate without
// limit.
#pragma once
#include <gmpxx.h>

#include <string>
#include <string_view>

namespace torchlean::cert {

// Parses `text`; a UserError starting with `what` on anything else (or an exponent beyond +-400,
// more than 1000 characters, a zero denominator).
mpq_class parse_rational(std::string_view text, std::string_view what);
// Canonical form: "p" when the value is an integer, else "p/q" in lowest terms, sign on p.
std::string rational_string(const mpq_class& q);

}  // namespace torchlean::cert
