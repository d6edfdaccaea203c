// L-infinity robustness certification of a classifier: per example, the clean prediction in the
// chosen semantics and rigorous lower bounds of the margins logit[label] - logit[j] over the
// region [x - eps, x + eps] (intersected with an optional clip box), by IBP, CROWN or
// alpha-CROWN; and the certificate (torchlean_cpp.robustness_cert.v1, docs/certificates.md).
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "torchlean/verify/engine.hpp"

namespace torchlean::verify {

enum class Method { ibp, crown, alpha };
std::string method_name(Method m);
Method parse_method(const std::string& name);  // UserError for anything else

struct RobustnessConfig {
  Method method = Method::crown;
  mpq_class eps;
  std::optional<std::pair<mpq_class, mpq_class>> clip;
  int alpha_iterations = 20;
};

// Claimed pre-activation bounds of one relu-like node and its lower slopes per objective class.
struct ReluLayerClaim {
  int64_t node = 0;
  std::vector<double> lower, upper;
  std::map<int64_t, std::vector<double>> alpha;  // class j -> one slope per element
};

struct MarginClaim {
  int64_t cls = 0;
  double lower = 0;
};

struct ExampleResult {
  int64_t index = 0, label = 0, prediction = 0;
  bool certified = false;
  std::vector<double> x;
  std::vector<MarginClaim> margins;    // every class j != label
  std::vector<ReluLayerClaim> layers;  // crown / alpha only
  double seconds = 0;
};

// The region's box, rounded outward to binary64: [max(x - eps, lo), min(x + eps, hi)].
Box region_box(const std::vector<double>& x, const RobustnessConfig& cfg);

// Certifies one example. `payload` is the model's payload as stored (the engine holds its own
// copy in the semantics' values).
class RobustnessVerifier {
 public:
  RobustnessVerifier(const ir::Graph& g, const ir::Payload& payload, Semantics sem);
  ExampleResult certify(int64_t index, const std::vector<double>& x, int64_t label,
                        const RobustnessConfig& cfg) const;
  // argmax (first maximum) of the logits at x in the semantics: Exact for real (a midpoint
  // comparison if an enclosure is not a point), the F32 reference for float32.
  int64_t predict(const std::vector<double>& x) const;
  const BoundEngine& engine() const { return engine_; }

 private:
  const ir::Graph& g_;
  const ir::Payload& payload_;
  BoundEngine engine_;
};

}  // namespace torchlean::verify
