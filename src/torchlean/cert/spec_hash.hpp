// The specification hash that robustness certificates bind to: SHA-256 over canonical bytes of
// eps, the optional clip box and the examples (format in docs/certificates.md). The verifier
// links torchlean_cert for this function only; cert never depends on verify.
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "torchlean/core/sha256.hpp"

namespace torchlean::cert {

struct SpecExample {
  int64_t index = 0;
  int64_t label = 0;
  std::vector<double> x;  // the centre, row-major
};

// L-infinity robustness: the region of example e is [x-eps, x+eps] per coordinate, intersected
// with [clip.first, clip.second] when clip is set.
struct RobustnessSpec {
  mpq_class eps;
  std::optional<std::pair<mpq_class, mpq_class>> clip;
  std::vector<SpecExample> examples;
};

std::string spec_canonical_bytes(const RobustnessSpec& spec);
core::Sha256Digest spec_sha256(const RobustnessSpec& spec);
std::string spec_sha256_hex(const RobustnessSpec& spec);

}  // namespace torchlean::cert
