// A generator of random valid graphs built from every registry op (with payload and inputs), for
// whole-graph compiled-vs-reference tests. Each step picks an op uniformly and wires it to
// existing nodes of suitable shape, creating new inputs or constants when none fits.
#pragma once
#include <cstdint>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::testing {

struct RandomModel {
  ir::Graph graph;
  ir::Payload payload;
  std::vector<Tensor<double>> inputs;
};

// About `ops` op nodes (plus the inputs they need). `special` is the probability of an IEEE
// special value (NaN, +-0, +-inf, subnormal) per input or payload element. The graph passes
// ir::check_payload.
RandomModel random_model(uint64_t seed, int ops, double special);

}  // namespace torchlean::testing
