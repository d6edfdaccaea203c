// Helpers shared by the rule files: node context access, the box of an affine map, the binary32
// rounding model of affine ops, and outward rounding of boxes to binary32.
#include <cmath>

#include "torchlean/core/error.hpp"
#include "torchlean/verify/rounding.hpp"
#include "torchlean/verify/rules.hpp"

namespace torchlean::verify {

const Tensor<double>& NodeCtx::slot(const std::string& name) const {
  auto it = slots.find(name);
  if (it == slots.end()) throw UserError(prefix() + "missing payload slot '" + name + "'");
  return it->second;
}

std::string NodeCtx::prefix() const {
  return "[" + std::string(ir::op_name(node.kind)) + "] " + node.label() + ": ";
}

double f32_affine_error(double abs_sum, int64_t n) {
  if (n == 0) return 0;
  if (abs_sum == kInf) return kInf;
  return add_up(mul_up(gamma_up(n, kU32), abs_sum), mul_up(static_cast<double>(n), kEta32));
}

Box affine_ibp(const AffineMap& m, const NodeCtx& ctx) {
  const int64_t n = m.outputs();
  Box out(n);
  for (int64_t o = 0; o < n; ++o) {
    double lo = m.c_lo[o], hi = m.c_hi[o];
    for (int64_t t = m.row_start[o]; t < m.row_start[o + 1]; ++t) {
      const AffineTerm& term = m.terms[t];
      const Box& p = *ctx.parents[term.parent];
      const double clo = term.rad == 0 ? term.coef : sub_down(term.coef, term.rad);
      const double chi = term.rad == 0 ? term.coef : add_up(term.coef, term.rad);
      const Interval<double> prod =
          Interval<double>{clo, chi} * Interval<double>{p.lo[term.index], p.hi[term.index]};
      lo = add_down(lo, prod.lo);
      hi = add_up(hi, prod.hi);
    }
    out.lo[o] = sub_down(lo, m.err[o]);
    out.hi[o] = add_up(hi, m.err[o]);
  }
  return out;
}

AffineBuilder::AffineBuilder(const NodeCtx& ctx, int64_t outputs) : ctx_(ctx) {
  m_.row_start.reserve(static_cast<size_t>(outputs) + 1);
  m_.row_start.push_back(0);
  m_.c_lo.reserve(static_cast<size_t>(outputs));
  m_.c_hi.reserve(static_cast<size_t>(outputs));
  m_.err.reserve(static_cast<size_t>(outputs));
}

void AffineBuilder::term(int32_t parent, int64_t index, double coef, double rad) {
  m_.terms.push_back({parent, index, coef, rad});
  if (ctx_.sem == Semantics::float32) {
    const Box& p = *ctx_.parents[parent];
    abs_sum_ =
        add_up(abs_sum_, mul_up(add_up(std::fabs(coef), rad), mag(p.lo[index], p.hi[index])));
  }
}

void AffineBuilder::constant(double lo, double hi) {
  c_lo_ = add_down(c_lo_, lo);
  c_hi_ = add_up(c_hi_, hi);
}

void AffineBuilder::end_row(int64_t roundings) {
  double err = 0;
  if (ctx_.sem == Semantics::float32)
    err = f32_affine_error(add_up(abs_sum_, mag(c_lo_, c_hi_)), roundings);
  end_row_with_error(err);
}

void AffineBuilder::end_row_with_error(double err) {
  m_.row_start.push_back(static_cast<int64_t>(m_.terms.size()));
  m_.c_lo.push_back(c_lo_);
  m_.c_hi.push_back(c_hi_);
  m_.err.push_back(ctx_.sem == Semantics::float32 ? err : 0.0);
  c_lo_ = c_hi_ = abs_sum_ = 0;
}

AffineMap AffineBuilder::finish() { return std::move(m_); }

void round_box_to_f32(Box& b) {
  for (int64_t i = 0; i < b.size(); ++i) {
    float lo = static_cast<float>(b.lo[i]), hi = static_cast<float>(b.hi[i]);
    if (static_cast<double>(lo) > b.lo[i]) lo = std::nextafter(lo, -INFINITY);
    if (static_cast<double>(hi) < b.hi[i]) hi = std::nextafter(hi, INFINITY);
    b.lo[i] = lo;
    b.hi[i] = hi;
  }
}

}  // namespace torchlean::verify
