// The checker's view of a model: every node classified once per (graph, payload, semantics) as the
// input, a constant (folded with the reference semantics of the chosen domain), an exact affine
// map of its input-dependent parents, a relu-like activation, a monotone elementwise function or
// a max pool (both bounded by their boxes), or unsupported (with the reason). Affine coefficients
// are exact rationals stored as integers over one shared denominator.
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <string>
#include <vector>

#include "torchlean/cert/certificate.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::cert {

// y[r] = scale * sum_{t in row r} val[t] * parent_{tp[t]}[col[t]] + bias[r].
struct AffineMap {
  std::vector<int64_t> parents;  // input-dependent parent node ids
  int64_t rows = 0;
  std::vector<int64_t> row_start;  // rows + 1
  std::vector<int32_t> term_parent;
  std::vector<int64_t> term_col;
  std::vector<mpz_class> term_val;
  mpq_class scale = 1;  // > 0
  std::vector<mpq_class> bias;
  // float32 semantics: the number n of binary32 roundings behind each output (0: exact).
  int64_t roundings = 0;
};

enum class NodeRole { input, constant, affine, relu, monotone, window_max, unsupported };

struct NetNode {
  NodeRole role = NodeRole::unsupported;
  std::vector<mpq_class> value;  // constant
  AffineMap affine;
  mpq_class leak = 0;                         // relu: 0; leaky_relu: its negative slope
  std::vector<std::vector<int64_t>> windows;  // window_max: the input cells of each output
  std::string unsupported;                    // why the checker cannot bound this node
};

struct Net {
  const ir::Graph* graph = nullptr;
  CertSemantics semantics = CertSemantics::real;
  std::vector<NetNode> nodes;
  int64_t input = 0, output = 0;
};

// Classifies every node. Throws UserError when the graph does not have exactly one input and one
// output; unsupported ops are recorded, and reported only if a bound needs them.
Net prepare_net(const ir::Graph& g, const ir::Payload& p, CertSemantics semantics);

}  // namespace torchlean::cert
