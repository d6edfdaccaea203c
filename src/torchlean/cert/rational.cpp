#include "torchlean/cert/rational.hpp"

#include <cctype>

#include "torchlean/core/error.hpp"

namespace torchlean::cert {

namespace {

constexpr size_t kMaxChars = 1000;
constexpr long kMaxExponent = 400;

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

[[noreturn]] void bad(std::string_view text, std::string_view what) {
  std::string shown(text.substr(0, 60));
  throw UserError(std::string(what) + ": '" + shown + (text.size() > 60 ? "...'" : "'") +
                  " is not an exact rational (expected p/q, an integer or a decimal)");
}

}  // namespace

mpq_class parse_rational(std::string_view text, std::string_view what) {
  if (text.empty() || text.size() > kMaxChars) bad(text, what);
  std::string_view body = text;
  bool negative = false;
  if (body[0] == '-' || body[0] == '+') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  mpq_class q;
  if (size_t slash = body.find('/'); slash != std::string_view::npos) {
    std::string_view num = body.substr(0, slash), den = body.substr(slash + 1);
    if (!all_digits(num) || !all_digits(den)) bad(text, what);
    mpz_class d(std::string(den), 10);
    if (d == 0)
      throw UserError(std::string(what) + ": zero denominator in '" + std::string(text) + "'");
    q = mpq_class(mpz_class(std::string(num), 10), d);
    q.canonicalize();
  } else {
    // decimal: digits [. digits] [e|E [+|-] digits]
    std::string_view mant = body, expo;
    if (size_t e = body.find_first_of("eE"); e != std::string_view::npos) {
      mant = body.substr(0, e);
      expo = body.substr(e + 1);
      if (expo.empty()) bad(text, what);
    }
    std::string_view int_part = mant, frac_part;
    if (size_t dot = mant.find('.'); dot != std::string_view::npos) {
      int_part = mant.substr(0, dot);
      frac_part = mant.substr(dot + 1);
      if (!frac_part.empty() && !all_digits(frac_part)) bad(text, what);
    }
    if (!int_part.empty() && !all_digits(int_part)) bad(text, what);
    if (int_part.empty() && frac_part.empty()) bad(text, what);
    long exponent = 0;
    if (!expo.empty()) {
      bool eneg = false;
      if (expo[0] == '-' || expo[0] == '+') {
        eneg = expo[0] == '-';
        expo.remove_prefix(1);
      }
      if (!all_digits(expo) || expo.size() > 4) bad(text, what);
      exponent = std::stol(std::string(expo));
      if (eneg) exponent = -exponent;
      if (exponent > kMaxExponent || exponent < -kMaxExponent) bad(text, what);
    }
    std::string digits = std::string(int_part) + std::string(frac_part);
    exponent -= static_cast<long>(frac_part.size());
    mpz_class m(digits.empty() ? std::string("0") : digits, 10);
    mpz_class scale;
    mpz_ui_pow_ui(scale.get_mpz_t(), 10,
                  static_cast<unsigned long>(exponent < 0 ? -exponent : exponent));
    q = exponent >= 0 ? mpq_class(m * scale) : mpq_class(m, scale);
    q.canonicalize();
  }
  return negative ? mpq_class(-q) : q;
}

std::string rational_string(const mpq_class& q) {
  mpq_class c(q);
  c.canonicalize();
  return c.get_str(10);
}

}  // namespace torchlean::cert
