// IBP, CROWN and alpha-CROWN over the IR (engine.hpp).
//
// Backward pass invariant: objective_row >= sum over pending nodes n of A_n . y_n + c, where the
// exact coefficient of A_n lies within A_n.a +- A_n.rad. When node n is reached, its radius is
// paid for in c with the node's box (rad * max|y|), then the exact double coefficients are pushed
// through the node's linearisation; the rounding of every product and sum is bounded a priori
// (fold_error_up) and added to the parents' radius, and every constant added to c is rounded down.
#include "torchlean/verify/engine.hpp"

#include <gmpxx.h>

#include <algorithm>
#include <cmath>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"
#include "torchlean/verify/rounding.hpp"
#include "torchlean/verify/rules.hpp"

namespace torchlean::verify {

namespace {

double q_down(const mpq_class& q) {
  double d = q.get_d();  // truncates toward zero
  if (mpq_class(d) > q) d = std::nextafter(d, -kInf);
  return d;
}
double q_up(const mpq_class& q) {
  double d = q.get_d();
  if (mpq_class(d) < q) d = std::nextafter(d, kInf);
  return d;
}

template <class S>
Tensor<S> eval_one(const ir::Node& n, const std::vector<Tensor<S>>& values,
                   const ir::PayloadStore<S>& payload) {
  std::vector<const Tensor<S>*> ptrs;
  for (int64_t p : n.parents) ptrs.push_back(&values[p]);
  static const std::map<std::string, Tensor<S>> kEmpty;
  auto it = payload.find(n.id);
  const ops::EvalArgs<S> args{n, ptrs, it == payload.end() ? kEmpty : it->second};
  return ops::eval_node<S>(args);
}

bool is_relaxed_kind(ir::OpKind k) {
  using ir::OpKind;
  switch (k) {
    case OpKind::relu:
    case OpKind::leaky_relu:
    case OpKind::abs:
    case OpKind::sqrt:
    case OpKind::inv:
    case OpKind::exp:
    case OpKind::log:
    case OpKind::tanh:
    case OpKind::sigmoid:
    case OpKind::sin:
    case OpKind::cos:
    case OpKind::erf:
    case OpKind::softplus:
    case OpKind::silu:
    case OpKind::gelu:
    case OpKind::pow_const:
    case OpKind::clamp:
      return true;
    default:
      return false;
  }
}
bool is_relu_like(ir::OpKind k) { return k == ir::OpKind::relu || k == ir::OpKind::leaky_relu; }

// sum_e rad[e] * max|y_e| over one row, rounded up (0 * inf counts as 0).
double radius_cost(const double* rad, const Box& b, int64_t n) {
  double s = 0;
  for (int64_t e = 0; e < n; ++e)
    if (rad[e] != 0) s = add_up(s, mul_up(rad[e], mag(b.lo[e], b.hi[e])));
  return s;
}

}  // namespace

std::string semantics_name(Semantics s) { return s == Semantics::real ? "real" : "float32"; }

Semantics parse_semantics(const std::string& name) {
  if (name == "real") return Semantics::real;
  if (name == "float32") return Semantics::float32;
  throw UserError("semantics: expected real or float32, got '" + name + "'");
}

BoundEngine::BoundEngine(const ir::Graph& g, const ir::Payload& payload, Semantics sem)
    : g_(g), sem_(sem) {
  ir::check_graph(g);
  ir::check_payload(g, payload);
  if (g.input_ids.size() != 1 || g.output_ids.size() != 1)
    throw UserError("verify: the graph must have exactly one input and one output, it has " +
                    std::to_string(g.input_ids.size()) + " and " +
                    std::to_string(g.output_ids.size()));
  payload_ = payload;
  if (sem == Semantics::float32)
    for (auto& [id, slots] : payload_)
      for (auto& [name, t] : slots)
        for (double& v : t.vec()) v = static_cast<double>(static_cast<float>(v));
  const size_t n = g.nodes.size();
  consumers_.resize(n);
  for (const ir::Node& node : g.nodes)
    for (int64_t p : node.parents) consumers_[p].push_back(node.id);
  // Constant folding: nodes that do not depend on the input, in the semantics' own domain.
  std::vector<bool> depends(n, false);
  for (const ir::Node& node : g.nodes) {
    bool d = node.kind == ir::OpKind::input;
    for (int64_t p : node.parents) d = d || depends[p];
    depends[node.id] = d;
  }
  const_.resize(n);
  if (sem == Semantics::real) {
    const ir::PayloadStore<Exact> pay = ir::convert_payload<Exact>(payload);
    std::vector<Tensor<Exact>> values(n);
    for (const ir::Node& node : g.nodes) {
      if (depends[node.id]) continue;
      values[node.id] = eval_one(node, values, pay);
      Box b(values[node.id].numel());
      for (int64_t i = 0; i < b.size(); ++i) {
        b.lo[i] = q_down(values[node.id][i].lo);
        b.hi[i] = q_up(values[node.id][i].hi);
      }
      const_[node.id] = std::move(b);
    }
  } else {
    const ir::PayloadStore<F32> pay = ir::convert_payload<F32>(payload);
    std::vector<Tensor<F32>> values(n);
    for (const ir::Node& node : g.nodes) {
      if (depends[node.id]) continue;
      values[node.id] = eval_one(node, values, pay);
      Box b(values[node.id].numel());
      for (int64_t i = 0; i < b.size(); ++i) {
        const double v = values[node.id][i].v;
        if (std::isnan(v)) throw UserError("verify: " + node.label() + " is a NaN constant");
        b.lo[i] = b.hi[i] = v;
      }
      const_[node.id] = std::move(b);
    }
  }
  for (const ir::Node& node : g.nodes)
    if (depends[node.id] && node.kind != ir::OpKind::input && !rule_for(node.kind).sound)
      throw UserError("[" + std::string(ir::op_name(node.kind)) + "] " + node.label() +
                      ": no bound rule for this op (it is gradient-only or random)");
}

namespace {

NodeCtx make_ctx(const ir::Graph& g, const ir::Node& node, Semantics sem,
                 const std::vector<Box>& boxes, const std::vector<std::optional<Box>>& consts,
                 const ir::Payload& payload) {
  static const std::map<std::string, Tensor<double>> kEmpty;
  auto it = payload.find(node.id);
  NodeCtx ctx{node, sem, {}, {}, it == payload.end() ? kEmpty : it->second, {}};
  for (int64_t p : node.parents) {
    ctx.parents.push_back(&boxes[p]);
    ctx.constant.push_back(consts[p] ? &*consts[p] : nullptr);
    ctx.parent_shapes.push_back(&g.node(p).shape);
  }
  return ctx;
}

}  // namespace

Box BoundEngine::node_ibp(const std::vector<Box>& boxes, int64_t id) const {
  const ir::Node& node = g_.node(id);
  return rule_for(node.kind).ibp(make_ctx(g_, node, sem_, boxes, const_, payload_));
}

Linearization BoundEngine::node_linearize(const std::vector<Box>& boxes, int64_t id) const {
  const ir::Node& node = g_.node(id);
  return rule_for(node.kind).linearize(make_ctx(g_, node, sem_, boxes, const_, payload_));
}

bool BoundEngine::needs_crown(int64_t id) const {
  if (const_[id] || g_.node(id).kind == ir::OpKind::input) return false;
  for (int64_t c : consumers_[id])
    if (is_relaxed_kind(g_.node(c).kind)) return true;
  return false;
}

NodeBounds BoundEngine::ibp(const Box& input) const {
  NodeBounds nb;
  nb.boxes.resize(g_.nodes.size());
  nb.lins.resize(g_.nodes.size());
  for (const ir::Node& node : g_.nodes) {
    if (const_[node.id]) {
      nb.boxes[node.id] = *const_[node.id];
    } else if (node.kind == ir::OpKind::input) {
      if (input.size() != node.shape.numel())
        throw UserError("verify: input box has " + std::to_string(input.size()) +
                        " elements, the input " + node.shape.str() + " needs " +
                        std::to_string(node.shape.numel()));
      nb.boxes[node.id] = input;
    } else {
      nb.boxes[node.id] = node_ibp(nb.boxes, node.id);
    }
  }
  return nb;
}

NodeBounds BoundEngine::crown_bounds(const Box& input) const {
  NodeBounds nb;
  const size_t n = g_.nodes.size();
  nb.boxes.resize(n);
  nb.lins.resize(n);
  for (const ir::Node& node : g_.nodes) {
    const int64_t id = node.id;
    if (const_[id]) {
      nb.boxes[id] = *const_[id];
      continue;
    }
    if (node.kind == ir::OpKind::input) {
      if (input.size() != node.shape.numel())
        throw UserError("verify: input box has " + std::to_string(input.size()) +
                        " elements, the input " + node.shape.str() + " needs " +
                        std::to_string(node.shape.numel()));
      nb.boxes[id] = input;
      continue;
    }
    nb.boxes[id] = node_ibp(nb.boxes, id);
    nb.lins[id] = node_linearize(nb.boxes, id);
    if (!needs_crown(id)) continue;
    // Rows: elements whose box matters to a relaxation (relu-like consumers only care about
    // elements that straddle 0).
    bool only_relu = true;
    for (int64_t c : consumers_[id]) only_relu = only_relu && is_relu_like(g_.node(c).kind);
    Box& b = nb.boxes[id];
    std::vector<int64_t> rows;
    for (int64_t e = 0; e < b.size(); ++e)
      if (only_relu ? (b.lo[e] < 0 && b.hi[e] > 0) : (b.lo[e] < b.hi[e])) rows.push_back(e);
    if (rows.empty()) continue;
    const int64_t R = static_cast<int64_t>(rows.size());
    CoefMat A(2 * R, b.size());
    for (int64_t r = 0; r < R; ++r) {
      A.a[r * b.size() + rows[r]] = 1;
      A.a[(R + r) * b.size() + rows[r]] = -1;
    }
    const std::vector<double> lower = backward(nb, id, std::move(A), nullptr, nullptr);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t e = rows[r];
      b.lo[e] = std::max(b.lo[e], lower[r]);
      b.hi[e] = std::min(b.hi[e], -lower[R + r]);
      if (b.lo[e] > b.hi[e])
        throw InternalError("verify: CROWN and IBP boxes of " + node.label() + " are disjoint");
    }
  }
  return nb;
}

// What alpha-CROWN needs from one backward pass: per reached node, the value the bound "chose"
// for it, so that a forward pass of the linearised network gives d bound / d alpha.
struct BoundEngine::Trace {
  std::vector<std::optional<CoefMat>> coef;       // A of relu-like nodes (for the gradient)
  std::vector<std::vector<double>> slope, icept;  // elementwise: the line chosen per (row, e)
  std::vector<std::vector<double>> value;         // boxes/leaves: the endpoint chosen per (row, e)
  std::vector<bool> reached;
};

std::vector<double> BoundEngine::backward(const NodeBounds& nb, int64_t start, CoefMat A0,
                                          const AlphaSlopes* alpha, Trace* trace) const {
  const int64_t R = A0.rows;
  std::vector<std::optional<CoefMat>> coef(static_cast<size_t>(start + 1));
  coef[start] = std::move(A0);
  std::vector<double> c(static_cast<size_t>(R), 0.0);
  if (trace) {
    trace->coef.assign(static_cast<size_t>(start + 1), std::nullopt);
    trace->slope.assign(static_cast<size_t>(start + 1), {});
    trace->icept.assign(static_cast<size_t>(start + 1), {});
    trace->value.assign(static_cast<size_t>(start + 1), {});
    trace->reached.assign(static_cast<size_t>(start + 1), false);
  }
  for (int64_t id = start; id >= 0; --id) {
    if (!coef[id]) continue;
    CoefMat A = std::move(*coef[id]);
    coef[id].reset();
    const ir::Node& node = g_.node(id);
    const Box& box = nb.boxes[id];
    const int64_t n = A.cols;
    if (trace) trace->reached[id] = true;
    for (int64_t r = 0; r < R; ++r) c[r] = sub_down(c[r], radius_cost(&A.rad[r * n], box, n));

    const bool leaf = const_[id] || node.kind == ir::OpKind::input || !nb.lins[id] ||
                      std::holds_alternative<UseBox>(*nb.lins[id]);
    if (leaf) {
      if (trace) trace->value[id].resize(static_cast<size_t>(R * n));
      for (int64_t r = 0; r < R; ++r) {
        const double* a = &A.a[r * n];
        c[r] =
            add_down(c[r], box_min(
                               n, [a](int64_t i) { return a[i]; }, box.lo.data(), box.hi.data()));
        if (trace)
          for (int64_t e = 0; e < n; ++e)
            trace->value[id][r * n + e] = a[e] >= 0 ? box.lo[e] : box.hi[e];
      }
      continue;
    }
    // Parents reached through this node get coefficient matrices (allocated on first use).
    auto parent_coef = [&](int64_t p) -> CoefMat& {
      if (!coef[p]) coef[p] = CoefMat(R, g_.node(p).shape.numel());
      return *coef[p];
    };
    if (const auto* m = std::get_if<AffineMap>(&*nb.lins[id])) {
      // Accumulated |terms| per parent entry and the number of additions into it.
      std::map<int64_t, std::vector<double>> abs_sum, rad_sum;
      std::map<int64_t, std::vector<int32_t>> count;
      for (int64_t p : node.parents) {
        if (const_[p] || abs_sum.count(p)) continue;
        CoefMat& P = parent_coef(p);
        abs_sum[p].assign(P.a.size(), 0.0);
        rad_sum[p].assign(P.a.size(), 0.0);
        for (size_t i = 0; i < P.a.size(); ++i) abs_sum[p][i] = std::fabs(P.a[i]);
        std::vector<int32_t>& cnt = count[p];
        cnt.assign(static_cast<size_t>(P.cols), 1);
        for (const AffineTerm& t : m->terms)
          if (node.parents[t.parent] == p) ++cnt[t.index];
      }
      // Per parent slot, the arrays the inner loop updates (no map lookups there).
      struct Slot {
        double *a, *abs, *rad;
        int64_t cols;
      };
      std::vector<Slot> slots(node.parents.size(), Slot{nullptr, nullptr, nullptr, 0});
      for (size_t s = 0; s < node.parents.size(); ++s) {
        const int64_t p = node.parents[s];
        if (const_[p]) continue;
        slots[s] = {coef[p]->a.data(), abs_sum[p].data(), rad_sum[p].data(), coef[p]->cols};
      }
      for (int64_t r = 0; r < R; ++r) {
        for (int64_t o = 0; o < n; ++o) {
          const double a = A.a[r * n + o];
          if (a == 0) continue;
          c[r] = add_down(c[r], mul_down(a, a > 0 ? m->c_lo[o] : m->c_hi[o]));
          if (m->err[o] != 0) c[r] = sub_down(c[r], mul_up(std::fabs(a), m->err[o]));
          for (int64_t t = m->row_start[o]; t < m->row_start[o + 1]; ++t) {
            const AffineTerm& term = m->terms[t];
            const Slot& sl = slots[term.parent];
            const int64_t k = r * sl.cols + term.index;
            sl.a[k] = std::fma(a, term.coef, sl.a[k]);
            sl.abs[k] += std::fabs(a * term.coef);
            if (term.rad != 0) sl.rad[k] = add_up(sl.rad[k], mul_up(std::fabs(a), term.rad));
          }
        }
      }
      for (auto& [p, sums] : abs_sum) {
        CoefMat& P = *coef[p];
        const std::vector<int32_t>& cnt = count[p];
        for (size_t k = 0; k < sums.size(); ++k) {
          if (sums[k] == 0 && rad_sum[p][k] == 0) continue;
          // Each |a * coef| above is itself rounded: inflate by one more gamma via n + 1.
          const double err = fold_error_up(sums[k], cnt[k % static_cast<size_t>(P.cols)] + 1);
          P.rad[k] = add_up(P.rad[k], add_up(err, rad_sum[p][k]));
        }
      }
      continue;
    }
    const Relaxation& rel = std::get<Relaxation>(*nb.lins[id]);
    const int64_t p = node.parents[0];
    CoefMat& P = parent_coef(p);
    const std::vector<double>* al = nullptr;
    if (alpha && rel.relu_like) {
      auto it = alpha->find(id);
      if (it != alpha->end()) al = &it->second;
    }
    if (trace) {
      trace->slope[id].assign(static_cast<size_t>(R * n), 0.0);
      trace->icept[id].assign(static_cast<size_t>(R * n), 0.0);
      if (rel.relu_like) trace->coef[id] = A;
    }
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t e = 0; e < n; ++e) {
        const double a = A.a[r * n + e];
        if (a == 0) continue;
        double s, t;
        if (a > 0) {
          s = rel.ls[e], t = rel.lt[e];
          if (al && rel.unstable[e]) s = std::clamp((*al)[r * n + e], rel.alpha_lo, 1.0), t = 0;
        } else {
          s = rel.us[e], t = rel.ut[e];
        }
        if (trace) trace->slope[id][r * n + e] = s, trace->icept[id][r * n + e] = t;
        if (t != 0) c[r] = add_down(c[r], mul_down(a, t));
        if (rel.err[e] != 0) c[r] = sub_down(c[r], mul_up(std::fabs(a), rel.err[e]));
        if (s == 0) continue;
        const int64_t k = r * P.cols + e;
        const double old = P.a[k];
        P.a[k] = std::fma(a, s, old);
        P.rad[k] = add_up(P.rad[k], fold_error_up(std::fabs(old) + std::fabs(a * s), 2));
      }
    }
  }
  return c;
}

std::vector<double> BoundEngine::crown_lower(const NodeBounds& nb, const std::vector<double>& C,
                                             int64_t rows, const AlphaSlopes* alpha) const {
  CoefMat A(rows, g_.node(output_id()).shape.numel());
  if (static_cast<int64_t>(C.size()) != rows * A.cols)
    throw InternalError("crown_lower: objective size");
  A.a = C;
  return backward(nb, output_id(), std::move(A), alpha, nullptr);
}

AlphaSlopes BoundEngine::default_alpha(const NodeBounds& nb, int64_t rows) const {
  AlphaSlopes out;
  for (const ir::Node& node : g_.nodes) {
    if (!nb.lins[node.id]) continue;
    const auto* rel = std::get_if<Relaxation>(&*nb.lins[node.id]);
    if (!rel || !rel->relu_like) continue;
    const size_t n = rel->ls.size();
    std::vector<double> a(rows * n);
    for (int64_t r = 0; r < rows; ++r)
      for (size_t e = 0; e < n; ++e) a[r * n + e] = rel->ls[e];
    out[node.id] = std::move(a);
  }
  return out;
}

std::vector<double> BoundEngine::alpha_lower(const NodeBounds& nb, const std::vector<double>& C,
                                             int64_t rows, int iterations,
                                             AlphaSlopes& slopes) const {
  slopes = default_alpha(nb, rows);
  const int64_t out_n = g_.node(output_id()).shape.numel();
  auto run = [&](const AlphaSlopes& a, Trace* tr) {
    CoefMat A(rows, out_n);
    A.a = C;
    return backward(nb, output_id(), std::move(A), &a, tr);
  };
  std::vector<double> best = run(slopes, nullptr);
  AlphaSlopes best_slopes = slopes;
  double step = 0.25;
  for (int it = 0; it < iterations && !slopes.empty(); ++it) {
    Trace tr;
    const std::vector<double> bound = run(slopes, &tr);
    for (int64_t r = 0; r < rows; ++r) {
      if (bound[r] > best[r]) {
        best[r] = bound[r];
        for (auto& [id, a] : slopes) {
          const size_t n = a.size() / rows;
          std::copy(a.begin() + r * n, a.begin() + (r + 1) * n, best_slopes[id].begin() + r * n);
        }
      }
    }
    // Forward pass of the linearised network, per row, at the bound's minimising choices:
    // d bound / d alpha[r, e] = A[r, e] * (value of the relu's input in that pass).
    const int64_t last = output_id();
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<std::vector<double>> v(static_cast<size_t>(last + 1));
      for (int64_t id = 0; id <= last; ++id) {
        if (!tr.reached[id]) continue;
        const ir::Node& node = g_.node(id);
        const int64_t n = node.shape.numel();
        v[id].assign(static_cast<size_t>(n), 0.0);
        if (!tr.value[id].empty()) {
          std::copy(tr.value[id].begin() + r * n, tr.value[id].begin() + (r + 1) * n,
                    v[id].begin());
        } else if (const auto* m = std::get_if<AffineMap>(&*nb.lins[id])) {
          for (int64_t o = 0; o < n; ++o) {
            double y = m->c_lo[o] + (m->c_hi[o] - m->c_lo[o]) / 2;
            for (int64_t t = m->row_start[o]; t < m->row_start[o + 1]; ++t) {
              const AffineTerm& term = m->terms[t];
              const std::vector<double>& pv = v[node.parents[term.parent]];
              if (!pv.empty()) y += term.coef * pv[term.index];
            }
            v[id][o] = y;
          }
        } else {
          const std::vector<double>& pv = v[node.parents[0]];
          for (int64_t e = 0; e < n; ++e)
            v[id][e] =
                tr.slope[id][r * n + e] * (pv.empty() ? 0.0 : pv[e]) + tr.icept[id][r * n + e];
        }
      }
      for (auto& [id, a] : slopes) {
        if (!tr.coef[id]) continue;
        const Relaxation& rel = std::get<Relaxation>(*nb.lins[id]);
        const CoefMat& Aid = *tr.coef[id];
        const std::vector<double>& z = v[g_.node(id).parents[0]];
        const int64_t n = Aid.cols;
        for (int64_t e = 0; e < n; ++e) {
          const double coef = Aid.a[r * n + e];
          if (!rel.unstable[e] || coef <= 0 || z.empty()) continue;
          const double grad = coef * z[e];
          double& s = a[r * n + e];
          if (grad > 0) s = std::min(1.0, s + step);
          if (grad < 0) s = std::max(rel.alpha_lo, s - step);
        }
      }
    }
    step *= 0.85;
  }
  slopes = best_slopes;
  return run(slopes, nullptr);
}

}  // namespace torchlean::verify
