// The fuzz entry for the certificate reader and checker, shared by the libFuzzer target
// (fuzz_cert.cpp) and the replay test (tests/cert/test_cert_fuzz_replay.cpp). The invariant: the
// entry returns normally: a certificate is rejected with UserError by the reader, or checked to
// accepted/rejected. A second check recomputes both hashes first so that mutated claims reach the
// bound computations instead of stopping at the hash comparison.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "torchlean/cert/checker.hpp"
#include "torchlean/cert/spec_hash.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/ir/model_hash.hpp"

namespace torchlean::fuzz {

// x (2) -> linear 2 -> relu -> linear 2: the model of the seed certificates in fuzz/corpus/cert.
inline const std::pair<ir::Graph, ir::Payload>& cert_fuzz_model() {
  static const std::pair<ir::Graph, ir::Payload> model = [] {
    ir::GraphBuilder b;
    int64_t x = b.input(Shape{2});
    int64_t z = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{2});
    b.set_payload(z, "weight", Tensor<double>(Shape{2, 2}, {1.0, 1.0, 1.0, -1.0}));
    b.set_payload(z, "bias", Tensor<double>(Shape{2}, {0.0, 0.0}));
    int64_t h = b.add(ir::OpKind::relu, {z});
    int64_t y = b.add(ir::OpKind::linear, {h}, ir::NoAttrs{}, Shape{2});
    b.set_payload(y, "weight", Tensor<double>(Shape{2, 2}, {1.0, 0.0, 0.0, 1.0}));
    b.set_payload(y, "bias", Tensor<double>(Shape{2}, {1.0, 0.0}));
    b.mark_output(y);
    return std::move(b).finish();
  }();
  return model;
}

inline void certificate(std::span<const uint8_t> data) {
  cert::Certificate c;
  try {
    c = cert::parse_certificate(
        std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), "fuzz.json");
  } catch (const UserError&) {
    return;
  }
  const auto& [g, p] = cert_fuzz_model();
  try {
    (void)cert::check_certificate(c, g, p);
    c.model_sha256 = ir::model_sha256_hex(g, p);
    c.spec_sha256 = cert::spec_sha256_hex(c.spec());
    (void)cert::check_certificate(c, g, p);
  } catch (const UserError&) {
    // e.g. an evaluation error of the reference semantics at a hostile x
  }
}

}  // namespace torchlean::fuzz
