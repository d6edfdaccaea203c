// Exact vectors with one shared denominator: value[i] = num[i] / den. The checker's inner loops
// (dot products, back-substitution through weight matrices, concretisation over a box) then run
// as mpz multiply-adds without a gcd per step; a value is canonicalised only when it leaves a
// kernel (docs/certificates.md, "Arithmetic").
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <vector>

namespace torchlean::cert {

struct SVec {
  std::vector<mpz_class> num;
  mpz_class den = 1;  // > 0

  SVec() = default;
  explicit SVec(size_t n) : num(n) {}
  size_t size() const { return num.size(); }
  mpq_class at(size_t i) const;
};

// den = lcm of the denominators.
SVec to_svec(const std::vector<mpq_class>& v);
std::vector<mpq_class> to_mpq(const SVec& v);
// Both on the lcm of their denominators (the contents are unchanged as values).
void align(SVec& a, SVec& b);
// a += b (values), sizes equal.
void add_into(SVec& a, SVec b);
// Multiplies element i by r[i] (r.size() == v.size()).
SVec scale_each(const SVec& v, const std::vector<mpq_class>& r);

// An exact binary64 value; x must be finite.
mpq_class exact_of(double x);
// x = m * 2^e with m an integer (0 for x == 0); x must be finite.
void dyadic_parts(double x, mpz_class& m, long& e);
// 2^e as a rational.
mpq_class pow2(long e);

}  // namespace torchlean::cert
