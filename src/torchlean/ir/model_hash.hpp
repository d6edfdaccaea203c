// The model hash that certificates bind to: SHA-256 over a canonical byte string of a graph and
// its payload (format in docs/certificates.md). It depends on nothing but the IR, so the verifier
// and the independent checker compute it with the same code.
#pragma once
#include <string>

#include "torchlean/core/sha256.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::ir {

// The canonical bytes hashed by model_sha256 (exposed for tests and documentation).
std::string model_canonical_bytes(const Graph& g, const Payload& p);
core::Sha256Digest model_sha256(const Graph& g, const Payload& p);
// Lower-case hex of model_sha256.
std::string model_sha256_hex(const Graph& g, const Payload& p);

}  // namespace torchlean::ir
