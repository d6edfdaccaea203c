// Bound rules: per op, an IBP rule (a box from the parents' boxes) and a linearisation for CROWN.
// The table is generated from the registry's X-list (rule_table.cpp) and keyed by the op's JSON
// name: every op needs a `BoundRule<"name">` specialisation defined in rules_<family>.cpp and
// declared in rule_decls.hpp, so an op added to the registry without a rule fails to compile.
// Ops that have no sound rule say so explicitly with kNoRule.
#pragma once
#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/verify/bounds.hpp"

namespace torchlean::verify {

// What a rule sees of one node.
struct NodeCtx {
  const ir::Node& node;
  Semantics sem;
  std::vector<const Box*> parents;  // boxes of the parents, in order
  // Per parent: its value enclosure when it does not depend on the network input (a constant
  // after folding: a point for rational constants in real semantics, exact binary32 values in
  // float32 semantics), else nullptr.
  std::vector<const Box*> constant;
  // This node's payload slots in the semantics' values (float32: rounded to binary32).
  const std::map<std::string, Tensor<double>>& slots;
  // Declared shapes of the parents.
  std::vector<const Shape*> parent_shapes;

  const Tensor<double>& slot(const std::string& name) const;
  std::string prefix() const;  // "[op] node N: "
};

struct OpRule {
  Box (*ibp)(const NodeCtx&);
  Linearization (*linearize)(const NodeCtx&);
  bool sound;  // false: the op has no bound rule (gradient-only, random); the engines refuse it
};

const OpRule& rule_for(ir::OpKind kind);

// Compile-time op name for the rule table.
template <size_t N>
struct OpName {
  char s[N];
  constexpr OpName(const char (&v)[N]) { std::copy_n(v, N, s); }
};
template <OpName Name>
struct BoundRule;  // specialised once per op in rule_decls.hpp

// ---- helpers shared by the rule files ----

// Builds an AffineMap row by row. end_row(n) sets the row's float32 rounding bound from the
// model gamma_n (|c| + sum |coef| max|x|) + n eta using the parents' boxes (0 in real semantics).
class AffineBuilder {
 public:
  AffineBuilder(const NodeCtx& ctx, int64_t outputs);
  void term(int32_t parent, int64_t index, double coef, double rad = 0);
  // Adds [lo, hi] to the row's constant (outward).
  void constant(double lo, double hi);
  void end_row(int64_t roundings);
  // Ends the row with an explicit float32 rounding bound (ops whose order is not a dot product).
  void end_row_with_error(double err);
  AffineMap finish();

 private:
  const NodeCtx& ctx_;
  AffineMap m_;
  double c_lo_ = 0, c_hi_ = 0, abs_sum_ = 0;
};

// The box of an affine map applied to the parents' boxes, widened by err (float32 rounding).
Box affine_ibp(const AffineMap& m, const NodeCtx& ctx);
// binary32 rounding bound of an affine output computed with n roundings whose exact value is
// sum w_k x_k + b: gamma_n (|b| + sum |w_k| max|x_k|) + n eta (docs/verification.md).
double f32_affine_error(double abs_sum, int64_t n);
// Rounds a real box outward to binary32 endpoints: a correctly rounded binary32 operation whose
// real range is [m, M] yields a value in [RD m, RU M] (round-to-nearest is monotone).
void round_box_to_f32(Box& b);

}  // namespace torchlean::verify
