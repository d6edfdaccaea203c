// grad over random graphs of every registry op (tests/runtime/random_graph.hpp): the loss sums
// every output weighted by random constants, and the gradient with respect to every input and
// parameter must (1) build (or be refused with one of the documented errors), (2) compile to a
// Program that passes the equivalence checker in exact mode, and (3) agree with F64 central
// differences where the loss is smooth within the step (grad_check.hpp). This exercises what the
// per-op checks cannot: gradient accumulation across fan-out, chains of VJPs, and mixed ops.
#include <gtest/gtest.h>

#include <cstdio>

#include "../runtime/random_graph.hpp"
#include "../runtime/runtime_test_util.hpp"
#include "grad_check.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::testing {
namespace {

using ir::OpKind;

// Leaves that feed an index operand (gather / gather_grad indices, class targets).
bool feeds_index(const ir::Graph& g, int64_t id) {
  for (const ir::Node& n : g.nodes)
    for (size_t k = 0; k < n.parents.size(); ++k) {
      if (n.parents[k] != id) continue;
      if ((k == 1 && (n.kind == OpKind::gather || n.kind == OpKind::cross_entropy)) ||
          (k == 0 && n.kind == OpKind::gather_grad))
        return true;
    }
  return false;
}

Problem make_problem(const RandomModel& rm, SplitMix64& rng) {
  Problem pr;
  std::vector<autodiff::LiftedParameter> params;
  std::tie(pr.graph, pr.payload) = autodiff::lift_parameters(rm.graph, rm.payload, &params);
  pr.inputs = rm.inputs;
  std::vector<int64_t> outs = pr.graph.output_ids;
  std::sort(outs.begin(), outs.end());
  outs.erase(std::unique(outs.begin(), outs.end()), outs.end());
  int64_t loss = -1;
  for (int64_t o : outs) {
    const Shape s = pr.graph.node(o).shape;
    std::vector<double> w(static_cast<size_t>(s.numel()));
    for (double& v : w) v = draw(rng);
    const int64_t wid = pr.graph.add(OpKind::constant, {}, ir::ConstAttrs{s}, s);
    pr.payload[wid]["value"] = Tensor<double>(s, w);
    const int64_t m = pr.graph.add(OpKind::mul_elem, {o, wid}, ir::NoAttrs{}, s);
    const int64_t term = pr.graph.add(OpKind::sum, {m}, ir::NoAttrs{}, Shape{});
    loss = loss < 0 ? term : pr.graph.add(OpKind::add, {loss, term}, ir::NoAttrs{}, Shape{});
  }
  pr.loss = loss;
  pr.graph.output_ids = {loss};
  std::vector<int64_t> leaves = pr.graph.input_ids;
  for (const auto& p : params) leaves.push_back(p.const_id);
  for (int64_t id : leaves) {
    if (feeds_index(pr.graph, id)) continue;
    pr.wrt.push_back(id);
    std::vector<double> d(static_cast<size_t>(pr.graph.node(id).shape.numel()));
    for (double& v : d) v = draw(rng);
    pr.dirs.push_back(std::move(d));
  }
  return pr;
}

ir::PayloadStore<float> to_float_payload(const ir::Payload& p) {
  ir::PayloadStore<float> out;
  for (const auto& [id, slots] : p)
    for (const auto& [name, t] : slots) {
      std::vector<float> v;
      for (double d : t.vec()) v.push_back(to_elem<float>(d));
      out[id].emplace(name, Tensor<float>(t.shape(), std::move(v)));
    }
  return out;
}

TEST(GradRandomGraphs, CompiledAndCheckedAgainstCentralDifferences) {
  constexpr int kGraphs = 100;
  int refused = 0, compiled = 0, f64 = 0, skipped = 0;
  for (int seed = 0; seed < kGraphs; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const RandomModel rm = random_model(1000 + static_cast<uint64_t>(seed), 10, 0.0);
    SplitMix64 rng(static_cast<uint64_t>(seed));
    const Problem pr = make_problem(rm, rng);
    autodiff::GradGraph gg;
    try {
      gg = autodiff::grad(pr.graph, {pr.loss, pr.wrt});
    } catch (const UserError& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.find("second derivatives of max pooling") != std::string::npos ||
                  what.find("(windows of padding only)") != std::string::npos ||
                  what.find("is not differentiable") != std::string::npos)
          << what;
      ++refused;
      continue;
    }
    const ir::Payload merged = autodiff::merge_payload(pr.payload, gg);
    const ir::PayloadStore<float> pf = to_float_payload(merged);
    runtime::Program<float> prog = compile::compile(gg.graph, pf, compile::CompileOptions{});
    const runtime::CheckReport r = runtime::check_equivalence(prog, to_elem<float>(pr.inputs));
    EXPECT_TRUE(r.ok) << r.text();
    ++compiled;
    try {
      if (check_f64(pr, gg))
        ++f64;
      else
        ++skipped;
    } catch (const EvalError&) {
      ++skipped;  // the loss leaves its domain within the step (log, sqrt of a negative, ...)
    }
  }
  std::printf(
      "[ random graphs ] %d graphs: %d compiled and checked, %d also against central "
      "differences, %d skipped there (kink, inexact step or domain), %d refused\n",
      kGraphs, compiled, f64, skipped, refused);
  EXPECT_GE(compiled, kGraphs * 3 / 4);
  EXPECT_GE(f64, kGraphs / 3);
}

}  // namespace
}  // namespace torchlean::testing
