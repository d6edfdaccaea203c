// Exact IBP and CROWN over the checker's Net. Every quantity is an exact rational; the float32
// rounding model adds, for an affine output computed with n binary32 roundings,
//   e = gamma_n * (|b| + sum_k |w_k| max(|l_k|, |u_k|)) + n * eta,
//   gamma_n = n u / (1 - n u) = n / (2^24 - n),  u = 2^-24,  eta = 2^-149,
// to its box and, weighted by |lambda|, to every back-substituted constant.
#include "torchlean/cert/bounds.hpp"

#include "torchlean/core/error.hpp"
#include "torchlean/scalar/exact.hpp"

namespace torchlean::cert {

namespace {

// v rescaled to denominator d (a multiple of v.den).
SVec on_den(const SVec& v, const mpz_class& d) {
  if (v.den == d) return v;
  SVec out = v;
  mpz_class f = d / v.den;
  for (mpz_class& n : out.num)
    if (sgn(n) != 0) n *= f;
  out.den = d;
  return out;
}

mpq_class gamma32(int64_t n) {
  mpz_class big = 1;
  mpz_mul_2exp(big.get_mpz_t(), big.get_mpz_t(), 24);
  return mpq_class(mpz_class(static_cast<long>(n)), big - n);
}

// The largest finite binary32 value, (2 - 2^-23) * 2^127.
const mpq_class& flt_max() {
  static const mpq_class m = (mpq_class(2) - pow2(-23)) * pow2(127);
  return m;
}

mpq_class monotone_end(ir::OpKind k, const mpq_class& x, bool upper) {
  Exact e(x);
  Exact r = k == ir::OpKind::sigmoid ? sigmoid(e) : k == ir::OpKind::tanh ? tanh(e) : exp(e);
  return upper ? r.hi : r.lo;
}

}  // namespace

Box make_box(const std::vector<mpq_class>& lo, const std::vector<mpq_class>& hi) {
  Box b{to_svec(lo), to_svec(hi)};
  align(b.lo, b.hi);
  return b;
}

mpq_class concretize(const SVec& lam, const Box& box) {
  mpz_class acc = 0;
  for (size_t i = 0; i < lam.size(); ++i) {
    const int s = sgn(lam.num[i]);
    if (s > 0)
      mpz_addmul(acc.get_mpz_t(), lam.num[i].get_mpz_t(), box.lo.num[i].get_mpz_t());
    else if (s < 0)
      mpz_addmul(acc.get_mpz_t(), lam.num[i].get_mpz_t(), box.hi.num[i].get_mpz_t());
  }
  mpq_class q(acc, lam.den * box.lo.den);
  q.canonicalize();
  return q;
}

void BoundEngine::forward_node(int64_t id, ExampleBounds& b) const {
  const NetNode& nn = net_.nodes[static_cast<size_t>(id)];
  const ir::Node& node = net_.graph->node(id);
  const bool f32 = net_.semantics == CertSemantics::float32;
  switch (nn.role) {
    case NodeRole::input:
      TL_INTERNAL_CHECK(b.box[static_cast<size_t>(id)].has_value(), "cert: input box not set");
      return;
    case NodeRole::constant:
      b.box[static_cast<size_t>(id)] = make_box(nn.value, nn.value);
      return;
    case NodeRole::unsupported:
      return;  // reported when a bound needs this node
    case NodeRole::window_max: {
      const auto& pb = b.box[static_cast<size_t>(node.parents[0])];
      if (!pb) return;
      const std::vector<mpq_class> plo = to_mpq(pb->lo), phi = to_mpq(pb->hi);
      std::vector<mpq_class> lo, hi;
      for (const std::vector<int64_t>& cells : nn.windows) {
        lo.push_back(plo[static_cast<size_t>(cells[0])]);
        hi.push_back(phi[static_cast<size_t>(cells[0])]);
        for (int64_t c : cells) {
          if (plo[static_cast<size_t>(c)] > lo.back()) lo.back() = plo[static_cast<size_t>(c)];
          if (phi[static_cast<size_t>(c)] > hi.back()) hi.back() = phi[static_cast<size_t>(c)];
        }
      }
      b.box[static_cast<size_t>(id)] = make_box(lo, hi);
      return;
    }
    case NodeRole::relu:
    case NodeRole::monotone: {
      const auto& pb = b.box[static_cast<size_t>(node.parents[0])];
      if (!pb) return;
      std::vector<mpq_class> lo = to_mpq(pb->lo), hi = to_mpq(pb->hi);
      if (nn.role == NodeRole::relu) {
        b.relu_l[static_cast<size_t>(id)] = lo;
        b.relu_u[static_cast<size_t>(id)] = hi;
        for (auto* v : {&lo, &hi})
          for (mpq_class& x : *v)
            if (sgn(x) < 0) x *= nn.leak;
      } else {
        for (size_t i = 0; i < lo.size(); ++i) {
          lo[i] = monotone_end(node.kind, lo[i], false);
          hi[i] = monotone_end(node.kind, hi[i], true);
        }
      }
      b.box[static_cast<size_t>(id)] = make_box(lo, hi);
      return;
    }
    case NodeRole::affine:
      break;
  }
  const AffineMap& a = nn.affine;
  // Parent boxes on one common denominator.
  mpz_class d = 1;
  for (int64_t p : a.parents) {
    const auto& pb = b.box[static_cast<size_t>(p)];
    if (!pb) return;
    mpz_lcm(d.get_mpz_t(), d.get_mpz_t(), pb->lo.den.get_mpz_t());
  }
  std::vector<SVec> los, his, mags;
  for (int64_t p : a.parents) {
    const Box& pb = *b.box[static_cast<size_t>(p)];
    los.push_back(on_den(pb.lo, d));
    his.push_back(on_den(pb.hi, d));
    if (f32) {
      SVec m(pb.lo.size());
      for (size_t i = 0; i < m.size(); ++i) {
        m.num[i] = abs(los.back().num[i]);
        if (mpz_cmpabs(his.back().num[i].get_mpz_t(), m.num[i].get_mpz_t()) > 0)
          m.num[i] = abs(his.back().num[i]);
      }
      mags.push_back(std::move(m));
    }
  }
  std::vector<mpq_class> lo(static_cast<size_t>(a.rows)), hi(static_cast<size_t>(a.rows));
  std::vector<mpq_class>& err = b.err[static_cast<size_t>(id)];
  err.assign(f32 ? static_cast<size_t>(a.rows) : 0, mpq_class(0));
  const mpq_class gamma = gamma32(a.roundings);
  const mpq_class eta_n = mpq_class(static_cast<long>(a.roundings)) * pow2(-149);
  mpz_class acc_lo, acc_hi, acc_mag, absv;
  for (int64_t r = 0; r < a.rows; ++r) {
    acc_lo = 0;
    acc_hi = 0;
    acc_mag = 0;
    for (int64_t t = a.row_start[static_cast<size_t>(r)];
         t < a.row_start[static_cast<size_t>(r) + 1]; ++t) {
      const mpz_class& v = a.term_val[static_cast<size_t>(t)];
      const size_t p = static_cast<size_t>(a.term_parent[static_cast<size_t>(t)]);
      const size_t c = static_cast<size_t>(a.term_col[static_cast<size_t>(t)]);
      const bool pos = sgn(v) > 0;
      mpz_addmul(acc_lo.get_mpz_t(), v.get_mpz_t(), (pos ? los[p] : his[p]).num[c].get_mpz_t());
      mpz_addmul(acc_hi.get_mpz_t(), v.get_mpz_t(), (pos ? his[p] : los[p]).num[c].get_mpz_t());
      if (f32 && a.roundings > 0) {
        mpz_abs(absv.get_mpz_t(), v.get_mpz_t());
        mpz_addmul(acc_mag.get_mpz_t(), absv.get_mpz_t(), mags[p].num[c].get_mpz_t());
      }
    }
    const mpq_class& bias = a.bias[static_cast<size_t>(r)];
    mpq_class ql(acc_lo, d), qh(acc_hi, d);
    ql.canonicalize();
    qh.canonicalize();
    lo[static_cast<size_t>(r)] = ql * a.scale + bias;
    hi[static_cast<size_t>(r)] = qh * a.scale + bias;
    if (f32 && a.roundings > 0) {
      mpq_class qm(acc_mag, d);
      qm.canonicalize();
      mpq_class e = gamma * (abs(bias) + qm * a.scale) + eta_n;
      lo[static_cast<size_t>(r)] -= e;
      hi[static_cast<size_t>(r)] += e;
      err[static_cast<size_t>(r)] = std::move(e);
    }
  }
  if (f32) {
    for (int64_t r = 0; r < a.rows; ++r)
      if (abs(lo[static_cast<size_t>(r)]) > flt_max() ||
          abs(hi[static_cast<size_t>(r)]) > flt_max())
        throw Reject{node.label() +
                     " may overflow binary32 (bound beyond the largest finite float)"};
  }
  b.box[static_cast<size_t>(id)] = make_box(lo, hi);
}

mpq_class BoundEngine::affine_backward(int64_t id, const SVec& lam, const ExampleBounds& b,
                                       std::vector<std::optional<SVec>>& lams) const {
  const AffineMap& a = net_.nodes[static_cast<size_t>(id)].affine;
  std::vector<SVec> acc;
  for (int64_t p : a.parents)
    acc.emplace_back(static_cast<size_t>(net_.graph->node(p).shape.numel()));
  mpq_class constant = 0;
  const std::vector<mpq_class>& err = b.err[static_cast<size_t>(id)];
  for (int64_t r = 0; r < a.rows; ++r) {
    const mpz_class& l = lam.num[static_cast<size_t>(r)];
    if (sgn(l) == 0) continue;
    for (int64_t t = a.row_start[static_cast<size_t>(r)];
         t < a.row_start[static_cast<size_t>(r) + 1]; ++t) {
      mpz_class& dst = acc[static_cast<size_t>(a.term_parent[static_cast<size_t>(t)])]
                           .num[static_cast<size_t>(a.term_col[static_cast<size_t>(t)])];
      mpz_addmul(dst.get_mpz_t(), l.get_mpz_t(), a.term_val[static_cast<size_t>(t)].get_mpz_t());
    }
    const mpq_class& bias = a.bias[static_cast<size_t>(r)];
    const bool has_err = !err.empty() && sgn(err[static_cast<size_t>(r)]) != 0;
    if (sgn(bias) != 0 || has_err) {
      mpq_class lr(l, lam.den);
      lr.canonicalize();
      constant += lr * bias;
      if (has_err) constant -= abs(lr) * err[static_cast<size_t>(r)];
    }
  }
  for (size_t k = 0; k < a.parents.size(); ++k) {
    SVec& v = acc[k];
    v.den = lam.den * a.scale.get_den();
    if (a.scale.get_num() != 1)
      for (mpz_class& n : v.num)
        if (sgn(n) != 0) n *= a.scale.get_num();
    auto& slot = lams[static_cast<size_t>(a.parents[k])];
    if (slot)
      add_into(*slot, std::move(v));
    else
      slot = std::move(v);
  }
  return constant;
}

mpq_class BoundEngine::relu_backward(int64_t id, const SVec& lam, std::optional<int64_t> cls,
                                     const ExampleBounds& b, SVec& out) const {
  const NetNode& nn = net_.nodes[static_cast<size_t>(id)];
  const auto& l = b.relu_l[static_cast<size_t>(id)];
  const auto& u = b.relu_u[static_cast<size_t>(id)];
  const std::vector<double>* alpha = nullptr;
  if (cls && b.alpha[static_cast<size_t>(id)]) {
    auto it = b.alpha[static_cast<size_t>(id)]->find(*cls);
    if (it != b.alpha[static_cast<size_t>(id)]->end()) alpha = &it->second;
  }
  TL_INTERNAL_CHECK(l.size() == lam.size(), "cert: relu bounds not set");
  std::vector<mpq_class> r(lam.size());
  mpq_class constant = 0;
  for (size_t i = 0; i < lam.size(); ++i) {
    const int s = sgn(lam.num[i]);
    if (s == 0) continue;
    if (sgn(u[i]) <= 0) {
      r[i] = nn.leak;
    } else if (sgn(l[i]) >= 0) {
      r[i] = 1;
    } else if (s > 0) {  // lower line y >= a x, a in [leak, 1]
      mpq_class a = alpha ? exact_of((*alpha)[i]) : (u[i] >= -l[i] ? mpq_class(1) : nn.leak);
      if (a < nn.leak)
        throw Reject{net_.graph->node(id).label() + ": alpha " + std::to_string((*alpha)[i]) +
                     " below the leaky slope"};
      r[i] = a;
    } else {  // upper secant through (l, leak l) and (u, u)
      mpq_class slope = (u[i] - nn.leak * l[i]) / (u[i] - l[i]);
      r[i] = slope;
      mpq_class li(lam.num[i], lam.den);
      li.canonicalize();
      constant += li * (u[i] - slope * u[i]);
    }
  }
  out = scale_each(lam, r);
  return constant;
}

mpq_class BoundEngine::crown_lower(int64_t o, SVec lam, std::optional<int64_t> cls,
                                   const ExampleBounds& b) const {
  std::vector<std::optional<SVec>> lams(static_cast<size_t>(o) + 1);
  lams[static_cast<size_t>(o)] = std::move(lam);
  mpq_class total = 0;
  for (int64_t id = o; id >= 0; --id) {
    auto& slot = lams[static_cast<size_t>(id)];
    if (!slot) continue;
    SVec l = std::move(*slot);
    slot.reset();
    const NetNode& nn = net_.nodes[static_cast<size_t>(id)];
    switch (nn.role) {
      case NodeRole::input:
      case NodeRole::constant:
      case NodeRole::monotone:  // no linear relaxation: its box
      case NodeRole::window_max:
        total += concretize(l, *b.box[static_cast<size_t>(id)]);
        break;
      case NodeRole::affine:
        total += affine_backward(id, l, b, lams);
        break;
      case NodeRole::relu: {
        SVec in;
        total += relu_backward(id, l, cls, b, in);
        auto& ps = lams[static_cast<size_t>(net_.graph->node(id).parents[0])];
        if (ps)
          add_into(*ps, std::move(in));
        else
          ps = std::move(in);
        break;
      }
      case NodeRole::unsupported:
        throw Reject{nn.unsupported};
    }
  }
  return total;
}

mpq_class BoundEngine::box_lower(int64_t o, const SVec& lam, const ExampleBounds& b) const {
  const NetNode& nn = net_.nodes[static_cast<size_t>(o)];
  if (nn.role == NodeRole::unsupported) throw Reject{nn.unsupported};
  if (nn.role != NodeRole::affine) return concretize(lam, *b.box[static_cast<size_t>(o)]);
  std::vector<std::optional<SVec>> lams(static_cast<size_t>(o) + 1);
  mpq_class total = affine_backward(o, lam, b, lams);
  for (int64_t p : nn.affine.parents) {
    auto& slot = lams[static_cast<size_t>(p)];
    if (slot) {
      total += concretize(*slot, *b.box[static_cast<size_t>(p)]);
      slot.reset();
    }
  }
  return total;
}

}  // namespace torchlean::cert
