#include "torchlean/cert/exact_vec.hpp"

#include <cmath>

#include "torchlean/core/error.hpp"

namespace torchlean::cert {

mpq_class SVec::at(size_t i) const {
  mpq_class q(num[i], den);
  q.canonicalize();
  return q;
}

SVec to_svec(const std::vector<mpq_class>& v) {
  SVec out(v.size());
  for (const mpq_class& q : v)
    if (q.get_den() != out.den)
      mpz_lcm(out.den.get_mpz_t(), out.den.get_mpz_t(), q.get_den_mpz_t());
  mpz_class f;
  for (size_t i = 0; i < v.size(); ++i) {
    if (sgn(v[i]) == 0) continue;
    mpz_divexact(f.get_mpz_t(), out.den.get_mpz_t(), v[i].get_den_mpz_t());
    out.num[i] = v[i].get_num() * f;
  }
  return out;
}

std::vector<mpq_class> to_mpq(const SVec& v) {
  std::vector<mpq_class> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    if (sgn(v.num[i]) != 0) out[i] = v.at(i);
  return out;
}

void align(SVec& a, SVec& b) {
  if (a.den == b.den) return;
  mpz_class l;
  mpz_lcm(l.get_mpz_t(), a.den.get_mpz_t(), b.den.get_mpz_t());
  for (SVec* v : {&a, &b}) {
    if (v->den == l) continue;
    mpz_class f = l / v->den;
    for (mpz_class& n : v->num)
      if (sgn(n) != 0) n *= f;
    v->den = l;
  }
}

void add_into(SVec& a, SVec b) {
  TL_INTERNAL_CHECK(a.size() == b.size(), "cert: adding vectors of different sizes");
  align(a, b);
  for (size_t i = 0; i < a.size(); ++i)
    if (sgn(b.num[i]) != 0) a.num[i] += b.num[i];
}

SVec scale_each(const SVec& v, const std::vector<mpq_class>& r) {
  mpz_class l = 1;
  for (size_t i = 0; i < v.size(); ++i)
    if (sgn(v.num[i]) != 0 && r[i].get_den() != 1)
      mpz_lcm(l.get_mpz_t(), l.get_mpz_t(), r[i].get_den_mpz_t());
  SVec out(v.size());
  out.den = v.den * l;
  mpz_class f;
  for (size_t i = 0; i < v.size(); ++i) {
    if (sgn(v.num[i]) == 0 || sgn(r[i]) == 0) continue;
    mpz_divexact(f.get_mpz_t(), l.get_mpz_t(), r[i].get_den_mpz_t());
    out.num[i] = v.num[i] * r[i].get_num() * f;
  }
  return out;
}

void dyadic_parts(double x, mpz_class& m, long& e) {
  TL_INTERNAL_CHECK(std::isfinite(x), "cert: dyadic_parts of a non-finite value");
  if (x == 0) {
    m = 0;
    e = 0;
    return;
  }
  int ex = 0;
  double frac = std::frexp(x, &ex);                        // x = frac * 2^ex, 0.5 <= |frac| < 1
  auto mant = static_cast<int64_t>(std::ldexp(frac, 53));  // exact: 53 significant bits
  e = ex - 53;
  while ((mant & 1) == 0) {
    mant /= 2;
    ++e;
  }
  m = static_cast<long>(mant);
}

mpq_class pow2(long e) {
  mpz_class p = 1;
  if (e >= 0) {
    mpz_mul_2exp(p.get_mpz_t(), p.get_mpz_t(), static_cast<mp_bitcnt_t>(e));
    return mpq_class(p);
  }
  mpz_mul_2exp(p.get_mpz_t(), p.get_mpz_t(), static_cast<mp_bitcnt_t>(-e));
  return mpq_class(mpz_class(1), p);
}

mpq_class exact_of(double x) {
  mpz_class m;
  long e = 0;
  dyadic_parts(x, m, e);
  return mpq_class(m) * pow2(e);
}

}  // namespace torchlean::cert
