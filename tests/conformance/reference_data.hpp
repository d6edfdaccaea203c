// Reading tests/conformance/data/torch_reference.json (written by scripts/torch_reference.py):
// decoding its exactly round-tripping values, and turning one case into a one-op ir::Graph with
// its inputs and payload. Also the small IEEE helpers the comparisons share (ulp distance, exact
// rationals of doubles, gamma_k).
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::conformance {

// The reference file, parsed once per process. Throws UserError if it is missing or malformed.
const nlohmann::json& reference_json();
std::string reference_path();

// One element: a JSON number, or one of the strings "inf", "-inf", "nan".
double decode_value(const nlohmann::json& v);
// {"shape": [...], "values": [...]} as a row-major tensor.
Tensor<double> decode_tensor(const nlohmann::json& t);

// One reference case as a graph: inputs are nodes 0..k-1 (bound in order), the op is node k and
// the graph's only output.
struct Case {
  std::string name;
  ir::OpKind op = ir::OpKind::input;
  ir::Graph graph;
  int64_t op_id = 0;
  std::vector<Tensor<double>> inputs;
  ir::Payload payload;      // the op node's slots
  Tensor<double> expected;  // PyTorch's float64 output
};

Case make_case(const nlohmann::json& c);
// Every case in the reference file whose "op" is `op` (its JSON kind).
std::vector<Case> cases_for(std::string_view op);

// Evaluates the case's graph with the reference evaluator in binary64 and returns the output.
Tensor<double> evaluate_f64(const Case& c);

// Adjacent doubles are 1 apart; -0 and +0 are the same point. Both arguments must not be NaN.
uint64_t ulp_distance(double a, double b);
// NaN matches NaN (any payload); otherwise the bits must agree (so -0 != +0).
bool same_ieee(double a, double b);
// The exact rational value of a finite double.
mpq_class exact(double x);
// gamma_k = k*u / (1 - k*u) for u = 2^-53 (binary64) or 2^-24 (binary32), exactly.
mpq_class gamma(int64_t k, int precision_bits = 53);
// A rational lower bound of sqrt(w) for w > 0 (a double whose square is at most w).
mpq_class sqrt_lower(const mpq_class& w);

}  // namespace torchlean::conformance
