// Canonical spec bytes:
//   "eps <rational_string(eps)>\n"
//   "clip <lo> <hi>\n"  or  "clip none\n"
//   per example, in certificate order: "example <index> <label> <n>\n" followed by the n centre
//   values as little-endian binary64.
#include "torchlean/cert/spec_hash.hpp"

#include <bit>

#include "torchlean/cert/rational.hpp"

namespace torchlean::cert {

std::string spec_canonical_bytes(const RobustnessSpec& spec) {
  std::string out = "eps " + rational_string(spec.eps) + "\n";
  if (spec.clip)
    out += "clip " + rational_string(spec.clip->first) + " " + rational_string(spec.clip->second) +
           "\n";
  else
    out += "clip none\n";
  for (const SpecExample& e : spec.examples) {
    out += "example " + std::to_string(e.index) + " " + std::to_string(e.label) + " " +
           std::to_string(e.x.size()) + "\n";
    for (double v : e.x) {
      uint64_t bits = std::bit_cast<uint64_t>(v);
      for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<uint8_t>(bits >> (8 * i)));
    }
  }
  return out;
}

core::Sha256Digest spec_sha256(const RobustnessSpec& spec) {
  return core::sha256(spec_canonical_bytes(spec));
}

std::string spec_sha256_hex(const RobustnessSpec& spec) { return core::to_hex(spec_sha256(spec)); }

}  // namespace torchlean::cert
