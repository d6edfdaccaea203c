// Exact bound propagation for the checker: boxes (IBP) forward, linear bounds (CROWN) backward,
// both over the Net of net.hpp, for one example's input region.
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "torchlean/cert/exact_vec.hpp"
#include "torchlean/cert/net.hpp"

namespace torchlean::cert {

// A rejection: the certificate claims something the checker cannot confirm.
struct Reject {
  std::string reason;
};

// lo[i] <= value[i] <= hi[i]; lo and hi share one denominator.
struct Box {
  SVec lo, hi;
};
Box make_box(const std::vector<mpq_class>& lo, const std::vector<mpq_class>& hi);

// Per-example state: every node's box, the float32 rounding bound of every affine node's outputs,
// and the [l, u] each relu-like node is relaxed over.
struct ExampleBounds {
  std::vector<std::optional<Box>> box;
  std::vector<std::vector<mpq_class>> err;
  std::vector<std::vector<mpq_class>> relu_l, relu_u;
  // Lower-relaxation slopes per objective class for each relu node (from the certificate).
  std::vector<const std::map<int64_t, std::vector<double>>*> alpha;
};

class BoundEngine {
 public:
  explicit BoundEngine(const Net& net) : net_(net) {}

  // The box of node `id` from its parents' boxes (IBP); also fills b.err[id] for affine nodes in
  // float32 semantics and sets relu bounds from the parent's box. Throws Reject on an unsupported
  // node or (float32) a bound beyond the binary32 range.
  void forward_node(int64_t id, ExampleBounds& b) const;
  // A lower bound of lam . value(o) over the region, by back-substitution from node o to the
  // input through the relaxations in b (alpha slopes of objective class `cls` when given).
  mpq_class crown_lower(int64_t o, SVec lam, std::optional<int64_t> cls,
                        const ExampleBounds& b) const;
  // A lower bound of lam . value(o) from the boxes of o's parents (one affine step) or o's box.
  mpq_class box_lower(int64_t o, const SVec& lam, const ExampleBounds& b) const;

 private:
  mpq_class affine_backward(int64_t id, const SVec& lam, const ExampleBounds& b,
                            std::vector<std::optional<SVec>>& lams) const;
  mpq_class relu_backward(int64_t id, const SVec& lam, std::optional<int64_t> cls,
                          const ExampleBounds& b, SVec& out) const;

  const Net& net_;
};

// lower bound of lam . z over z in box.
mpq_class concretize(const SVec& lam, const Box& box);

}  // namespace torchlean::cert
