// The directional-derivative check shared by the generic gradient tests: for a scalar loss L,
// random directions u on the differentiated leaves, and the gradient graph of L, compare the VJP
// <dL/dx, u> with central differences of L (test_grad_opdb.cpp explains the tolerance).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "grad_test_util.hpp"
#include "torchlean/core/splitmix.hpp"

namespace torchlean::testing {

// A graph with a scalar loss L (output 0), the leaves to differentiate, and a direction for each.
struct Problem {
  ir::Graph graph;
  ir::Payload payload;
  int64_t loss = 0;
  std::vector<int64_t> wrt;
  std::vector<Tensor<double>> inputs;
  std::vector<std::vector<double>> dirs;  // one per wrt node
};

// k/8 for k in [-8, 8] \ {0}: dyadic, so exact in every domain.
inline double draw(SplitMix64& rng) {
  const int64_t k = static_cast<int64_t>(rng.next() % 16);
  return static_cast<double>(k < 8 ? k - 8 : k - 7) / 8.0;
}

template <class S>
struct Evaluator {
  const Problem& pr;
  ir::PayloadStore<S> payload;
  std::vector<Tensor<S>> inputs;

  explicit Evaluator(const Problem& p)
      : pr(p), payload(ir::convert_payload<S>(p.payload)), inputs(to_domain<S>(p.inputs)) {}

  // L(x + c u).
  S loss_at(const S& c) const {
    ir::PayloadStore<S> pl = payload;
    std::vector<Tensor<S>> in = inputs;
    for (size_t k = 0; k < pr.wrt.size(); ++k) {
      const int64_t id = pr.wrt[k];
      Tensor<S>* t = nullptr;
      for (size_t i = 0; i < pr.graph.input_ids.size(); ++i)
        if (pr.graph.input_ids[i] == id) t = &in[i];
      if (t == nullptr) t = &pl.at(id).at("value");
      for (int64_t j = 0; j < t->numel(); ++j)
        (*t)[j] = (*t)[j] + c * S::from_double(pr.dirs[k][static_cast<size_t>(j)]);
    }
    return interp::evaluate_outputs<S>(pr.graph, pl, in).at(0)[0];
  }

  // <dL/dx, u> from the gradient graph, and sum |g_i u_i|.
  std::pair<S, S> vjp_dot(const autodiff::GradGraph& gg) const {
    const ir::PayloadStore<S> merged =
        ir::convert_payload<S>(autodiff::merge_payload(pr.payload, gg));
    ir::PayloadStore<S> pl = merged;
    for (const auto& [id, slots] : payload) pl[id] = slots;  // exact copies of the forward's
    const std::vector<Tensor<S>> out = interp::evaluate_outputs<S>(gg.graph, pl, inputs);
    S dot = S::from_int(0), mag = S::from_int(0);
    for (size_t k = 0; k < pr.wrt.size(); ++k) {
      const Tensor<S>& g = out.at(1 + k);
      for (int64_t j = 0; j < g.numel(); ++j) {
        const S term = g[j] * S::from_double(pr.dirs[k][static_cast<size_t>(j)]);
        dot = dot + term;
        mag = mag + abs(term);
      }
    }
    return {dot, mag};
  }
};

// Whether x +- c u is exact in binary64 for every perturbed element (else the difference
// quotient measures rounding, e.g. sin at 1e22 or a pool over 2^53).
inline bool exact_steps(const Problem& pr, double c) {
  for (size_t k = 0; k < pr.wrt.size(); ++k) {
    const int64_t id = pr.wrt[k];
    const Tensor<double>* t = nullptr;
    for (size_t i = 0; i < pr.graph.input_ids.size(); ++i)
      if (pr.graph.input_ids[i] == id) t = &pr.inputs[i];
    if (t == nullptr) t = &pr.payload.at(id).at("value");
    for (int64_t j = 0; j < t->numel(); ++j) {
      const double x = (*t)[j], step = c * pr.dirs[k][static_cast<size_t>(j)];
      if ((x + step) - x != step || x - (x - step) != step) return false;
    }
  }
  return true;
}

// Returns false when the sample cannot be checked: a kink within h, or inexact steps. The central
// difference D(h) has error ~C h^2, so D(h/2)'s error is about |D(h) - D(h/2)| / 3; that estimate
// (taken in full) joins the rounding allowance.
inline bool check_f64(const Problem& pr, const autodiff::GradGraph& gg) {
  Evaluator<F64> ev(pr);
  const double h = 0x1p-20;
  if (!exact_steps(pr, h) || !exact_steps(pr, h / 2)) return false;
  const double lp = ev.loss_at(F64::of(h)).v, l0 = ev.loss_at(F64::of(0)).v,
               lm = ev.loss_at(F64::of(-h)).v;
  const double right = (lp - l0) / h, left = (l0 - lm) / h;
  if (!std::isfinite(lp) || !std::isfinite(lm) ||
      std::fabs(right - left) > 1e-4 * (1 + std::fabs(right) + std::fabs(left)))
    return false;
  const double fd_h = (lp - lm) / (2 * h);
  const double fd = (ev.loss_at(F64::of(h / 2)).v - ev.loss_at(F64::of(-h / 2)).v) / h;
  const auto [dot, mag] = ev.vjp_dot(gg);
  const double tol = 1e-7 * (1 + std::fabs(l0) + mag.v) + std::fabs(fd_h - fd);
  EXPECT_LE(std::fabs(dot.v - fd), tol)
      << "F64: <grad, u> = " << dot.v << ", central difference = " << fd;
  return true;
}

}  // namespace torchlean::testing
