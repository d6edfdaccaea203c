// The op database (in the spirit of PyTorch's OpInfo): for every OpKind, single-op sample graphs
// with hand-derived expected outputs per scalar domain, error inputs with the message they must
// produce, and how the F64 and Exact evaluations of the op relate. Generic tests in
// test_op_database.cpp run every entry; a new op only needs an entry_<op>() function.
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/op_kind.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::testing {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kMinSubF32 = 0x1p-149;   // smallest positive binary32 subnormal
inline constexpr double kMinSubF64 = 0x1p-1074;  // smallest positive binary64 subnormal

// Expected Exact value of one element: `point` requires the result to be exactly `value`;
// otherwise the result must be an enclosure containing `value` (an MPFR approximation accurate to
// 2^-250 relative, so a small slack is allowed) that is at most 2^-40 relative wide.
struct ExactExpect {
  mpq_class value;
  bool point = true;
};

// A graph of input nodes plus one op node (the graph's single output), with its payload and
// inputs. Inputs and payload are binary64 values; each domain converts them with from_double, so
// samples for F32 use binary32-representable values (the helpers check this).
struct Sample {
  std::string name;
  ir::Graph graph;
  ir::Payload payload;
  std::vector<Tensor<double>> inputs;
  // Bit-exact expected outputs (NaN means the canonical NaN); absent means "not checked".
  std::optional<std::vector<double>> f64;
  std::optional<std::vector<double>> f32;  // each a binary32 value held in a double
  std::optional<std::vector<ExactExpect>> exact;
  // Inputs or payload hold NaN/inf (or the op errors in Exact): the Exact domain is not run.
  bool ieee_only = false;
  // The graph itself (not its values) makes Exact fail, e.g. a mean over an empty axis: the
  // cross-domain test, which draws new values for the same graph, skips it.
  bool skip_cross = false;
};

enum DomainMask : unsigned { kF32 = 1, kF64 = 2, kExact = 4, kAllDomains = 7, kIeee = 3 };

// Evaluation must throw: an EvalError when `eval_error`, else any UserError. Every string in
// `message_parts` must occur in what().
struct ErrorSample {
  std::string name;
  ir::Graph graph;
  ir::Payload payload;
  std::vector<Tensor<double>> inputs;
  std::vector<std::string> message_parts;
  unsigned domains = kAllDomains;
  bool eval_error = false;
};

// How F64 and Exact relate on random dyadic inputs (small multiples of 1/4, so every rational
// intermediate is exact in binary32 and binary64):
//   exact:        F32 == F64 == Exact, and Exact is a point;
//   rounded_once: the op's only rounding is its last step: F64 and F32 are the nearest values to
//                 the Exact point;
//   elementary:   the Exact enclosure contains the F64 (F32) result within 1 ulp;
//   composite:    several roundings: F64 within 1e-12 and F32 within 1e-5 (relative to max(1,|v|))
//                 of the enclosure's midpoint;
//   exact_f64:    F64 == Exact point (F32 not compared: the op compares a rounded draw).
enum class CrossDomain { exact, rounded_once, elementary, composite, exact_f64 };
// The range random inputs are drawn from.
enum class InputRange { any, positive, unit };

struct OpEntry {
  ir::OpKind kind;
  std::vector<Sample> samples;
  std::vector<ErrorSample> errors;
  CrossDomain cross = CrossDomain::exact;
  InputRange range = InputRange::any;
  bool randomize_payload = true;
};

// All entries, indexed by OpKind (entry i has kind i). Built from one entry_<op>() function per
// registry op, so an op without an entry does not link.
const std::vector<OpEntry>& op_database();

// ---- building samples ----

// A tensor from a shape and row-major values.
Tensor<double> tensor(Shape shape, std::vector<double> values);
// A scalar-shape tensor.
Tensor<double> scalar(double v);

// A single-op graph: one input node per tensor in `inputs` (in order), then the op node with those
// parents, declared shape `out`. The op node's payload is `slots`. An op with no parents gets a
// dummy () input (a graph needs an input), whose value is +0.
struct GraphSpec {
  ir::OpKind kind;
  ir::Attrs attrs;
  std::vector<Tensor<double>> inputs;
  Shape out;
  std::map<std::string, Tensor<double>> slots;
};
Sample sample(std::string name, GraphSpec spec);
ErrorSample error(std::string name, GraphSpec spec, std::vector<std::string> message_parts,
                  unsigned domains = kAllDomains, bool eval_error = false);
// The id of the op node in a graph built by sample()/error().
int64_t op_node_id(const ir::Graph& g);

// Expectation setters (return the sample for chaining).
// Same values in F32, F64 and as Exact points; every value must be representable in binary32
// (checked), and finite unless the sample is ieee_only.
Sample& expect_all(Sample& s, std::vector<double> values);
// Same bits in F32 and F64 only (for samples whose Exact result is not a point or not defined).
Sample& expect_ieee(Sample& s, std::vector<double> values);
Sample& expect_f64(Sample& s, std::vector<double> values);
Sample& expect_f32(Sample& s, std::vector<double> values);
Sample& expect_exact(Sample& s, std::vector<ExactExpect> values);
Sample& ieee_only(Sample& s);

// Exact rationals: q("1/3"), and points from binary64 values.
ExactExpect q(const std::string& rational);
ExactExpect qd(double v);

// Correctly rounded (to nearest even) values from MPFR, for elementary-function expectations:
// `precision` 24 rounds to binary32 (with its subnormals and overflow), 53 to binary64.
// erf, and the composites gelu (x/2 * (1 + erf(x/sqrt 2))), softplus (log(1 + e^x)) and silu
// (x * sigmoid x) for Exact enclosures of the true values (evaluated at 320 bits).
enum class Fn { exp, log, tanh, sigmoid, sin, cos, sqrt, erf, gelu, softplus, silu };
double mpfr_rounded(Fn f, double x, int precision);
// A 256-bit MPFR value of f(x) as an Exact "contains" expectation.
ExactExpect mpfr_enclosed(Fn f, double x);

// ---- running samples ----

// Converts binary64 tensors to domain S with S::from_double.
template <class S>
std::vector<Tensor<S>> convert(const std::vector<Tensor<double>>& xs) {
  std::vector<Tensor<S>> out;
  for (const Tensor<double>& x : xs) {
    std::vector<S> v;
    for (double d : x.vec()) v.push_back(S::from_double(d));
    out.emplace_back(x.shape(), std::move(v));
  }
  return out;
}

// Evaluates the graph in domain S with the reference evaluator; returns its (single) output.
template <class S>
Tensor<S> run(const ir::Graph& g, const ir::Payload& payload,
              const std::vector<Tensor<double>>& inputs) {
  ir::PayloadStore<S> p = ir::convert_payload<S>(payload);
  std::vector<Tensor<S>> in = convert<S>(inputs);
  return interp::evaluate_outputs<S>(g, p, in).at(0);
}

// Per-op entry functions, one per registry op (defined in entries_*.cpp).
#define TL_X(name, json, A, arity) OpEntry entry_##name();
TORCHLEAN_OPS(TL_X)
#undef TL_X

}  // namespace torchlean::testing
