// The bound engines over an IR graph with one input and one output: IBP, CROWN (backward linear
// bounds of a linear objective over the output, tightened by CROWN bounds on every node that
// feeds a relaxed nonlinearity) and alpha-CROWN (projected-gradient optimisation of the lower
// slopes of relu-like nodes, per objective row). Every float operation that reaches a bound is
// rounded outward or paid for in the constant term (docs/verification.md).
#pragma once
#include <map>
#include <optional>
#include <vector>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"
#include "torchlean/verify/bounds.hpp"

namespace torchlean::verify {

// Lower slopes of relu-like nodes: node id -> rows x elements (row-major), one row per objective.
using AlphaSlopes = std::map<int64_t, std::vector<double>>;

// Per node, its linearisation given the final boxes of its parents (filled by the engine).
using Linearizations = std::vector<std::optional<Linearization>>;

// Everything one bound computation established: boxes of every node and their linearisations.
struct NodeBounds {
  std::vector<Box> boxes;
  Linearizations lins;
};

class BoundEngine {
 public:
  // Checks that the graph has one input and one output; folds input-independent nodes into
  // constants (Exact in real semantics, F32 in float32 semantics).
  BoundEngine(const ir::Graph& g, const ir::Payload& payload, Semantics sem);

  Semantics semantics() const { return sem_; }
  const ir::Graph& graph() const { return g_; }
  int64_t input_id() const { return g_.input_ids[0]; }
  int64_t output_id() const { return g_.output_ids[0]; }

  // IBP: the box of every node for an input box.
  NodeBounds ibp(const Box& input) const;
  // CROWN-tightened boxes: every node feeding a relaxed op gets its CROWN bounds intersected with
  // its IBP box.
  NodeBounds crown_bounds(const Box& input) const;
  // Rigorous lower bounds of the rows of C . output (C: rows x output elements, exact doubles).
  // `alpha` overrides the default lower slopes of relu-like nodes on unstable elements.
  std::vector<double> crown_lower(const NodeBounds& nb, const std::vector<double>& C, int64_t rows,
                                  const AlphaSlopes* alpha = nullptr) const;
  // The default (CROWN) lower slopes of every relu-like node, repeated for `rows` objectives.
  AlphaSlopes default_alpha(const NodeBounds& nb, int64_t rows) const;
  // alpha-CROWN: starts from the default slopes, keeps per row the best bound seen; returns the
  // rigorous bounds recomputed with the chosen slopes (never below CROWN's), and the slopes.
  std::vector<double> alpha_lower(const NodeBounds& nb, const std::vector<double>& C, int64_t rows,
                                  int iterations, AlphaSlopes& slopes) const;

 private:
  struct Trace;
  std::vector<double> backward(const NodeBounds& nb, int64_t start, CoefMat A,
                               const AlphaSlopes* alpha, Trace* trace) const;
  Box node_ibp(const std::vector<Box>& boxes, int64_t id) const;
  Linearization node_linearize(const std::vector<Box>& boxes, int64_t id) const;
  bool needs_crown(int64_t id) const;

  const ir::Graph& g_;
  Semantics sem_;
  ir::Payload payload_;                    // in the semantics' values
  std::vector<std::optional<Box>> const_;  // value enclosure of input-independent nodes
  std::vector<std::vector<int64_t>> consumers_;
};

}  // namespace torchlean::verify
