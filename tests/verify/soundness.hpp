// Soundness by sampling (DESIGN §9): evaluate a model at corners and random points of an input
// box in the target semantics and count every node value, and every random linear objective of
// the output, that falls outside the engines' bounds. Real semantics evaluates in Exact (a value
// is a violation only when its whole enclosure lies outside the bound; an enclosure that
// straddles a bound is counted as undecided); float32 evaluates the F32 reference on binary32
// points of the box, compared exactly.
#pragma once
#include <cstdint>
#include <string>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"
#include "torchlean/verify/bounds.hpp"

namespace torchlean::testing {

struct SoundnessReport {
  int64_t checks = 0, violations = 0, undecided = 0;
  std::string first;  // description of the first violation
};

// IBP and CROWN node boxes, CROWN and alpha-CROWN lower bounds of 3 random objectives.
SoundnessReport check_soundness(const ir::Graph& g, const ir::Payload& p, verify::Semantics sem,
                                const verify::Box& box, uint64_t seed, int random_points);

// A box around a random centre in [-2, 2] with radii in [0, r] (binary32 endpoints).
verify::Box random_box(int64_t n, uint64_t seed, double r);

}  // namespace torchlean::testing
