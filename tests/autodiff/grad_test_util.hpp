// Helpers shared by the autodiff tests: evaluating a gradient graph in a scalar domain, and small
// graphs "loss = sum(op(inputs) * weights)" whose gradient is the VJP of the op with upstream
// gradient `weights`.
#pragma once
#include <gmpxx.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "torchlean/autodiff/grad.hpp"
#include "torchlean/core/tensor.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::testing {

inline Tensor<double> td(Shape s, std::vector<double> v) {
  return Tensor<double>(std::move(s), std::move(v));
}

template <class S>
std::vector<Tensor<S>> to_domain(const std::vector<Tensor<double>>& xs) {
  std::vector<Tensor<S>> out;
  for (const Tensor<double>& x : xs) {
    std::vector<S> v;
    for (double d : x.vec()) v.push_back(S::from_double(d));
    out.emplace_back(x.shape(), std::move(v));
  }
  return out;
}

// All outputs of `g` (forward outputs, then gradients) in domain S.
template <class S>
std::vector<Tensor<S>> run_outputs(const ir::Graph& g, const ir::PayloadStore<S>& payload,
                                   const std::vector<Tensor<double>>& inputs) {
  const std::vector<Tensor<S>> in = to_domain<S>(inputs);
  return interp::evaluate_outputs<S>(g, payload, in);
}

template <class S>
std::vector<Tensor<S>> run_outputs(const ir::Graph& g, const ir::Payload& payload,
                                   const std::vector<Tensor<double>>& inputs) {
  return run_outputs<S>(g, ir::convert_payload<S>(payload), inputs);
}

inline Exact rq(const std::string& rational) {
  mpq_class v(rational);
  v.canonicalize();
  return Exact(v);
}

// A model graph plus the ids the tests differentiate.
struct LossGraph {
  ir::Graph graph;
  ir::Payload payload;
  int64_t loss = 0;
  std::vector<int64_t> leaves;  // the op's inputs, in order
};

// inputs -> op(attrs) -> loss = sum(op * weights) (weights a const of the op's output shape).
inline LossGraph weighted_op(ir::OpKind kind, ir::Attrs attrs, const std::vector<Shape>& in_shapes,
                             const std::vector<double>& weights,
                             std::optional<Shape> declared = std::nullopt) {
  ir::GraphBuilder b;
  LossGraph lg;
  for (const Shape& s : in_shapes) lg.leaves.push_back(b.input(s));
  const int64_t y = b.add(kind, lg.leaves, std::move(attrs), std::move(declared));
  const int64_t w = b.constant(td(b.shape(y), weights));
  lg.loss = b.add(ir::OpKind::sum, {b.add(ir::OpKind::mul_elem, {y, w})});
  b.mark_output(lg.loss);
  std::tie(lg.graph, lg.payload) = std::move(b).finish();
  return lg;
}

}  // namespace torchlean::testing
