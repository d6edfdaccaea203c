// Writing robustness certificates (torchlean_cpp.robustness_cert.v1; the format is specified in
// docs/certificates.md and checked by cert/, which never links this layer).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"
#include "torchlean/verify/robustness.hpp"

namespace torchlean::verify {

// The certificate binding the model (graph + payload as stored), the spec (eps, clip and every
// example's index, label and centre) and the results.
nlohmann::ordered_json certificate_json(const ir::Graph& g, const ir::Payload& p, Semantics sem,
                                        const RobustnessConfig& cfg,
                                        const std::vector<ExampleResult>& results);

}  // namespace torchlean::verify
