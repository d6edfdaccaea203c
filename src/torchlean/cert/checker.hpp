// The independent certificate checker: replays a robustness certificate against a model in exact
// rational arithmetic (docs/certificates.md). It links only core, scalar, ir and ops.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "torchlean/cert/certificate.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::cert {

struct CheckOptions {
  // When set, the certificate's spec_sha256 must equal it (the spec the user means).
  std::optional<std::string> expected_spec_sha256;
};

struct CheckReport {
  bool accepted = false;
  std::string reason;  // the first failed check when rejected
  int64_t examples = 0, certified = 0;
  int64_t margins_checked = 0, layer_bounds_checked = 0;
};

// Accepts iff the hashes match, every example's prediction equals the argmax at x in the
// certificate's semantics, every claimed intermediate bound and margin lower bound holds by the
// checker's own exact bound, and every "certified" example has all margins > 0.
// Malformed models throw UserError; everything a certificate can get wrong is a rejection.
CheckReport check_certificate(const Certificate& cert, const ir::Graph& g, const ir::Payload& p,
                              const CheckOptions& options = {});

}  // namespace torchlean::cert
