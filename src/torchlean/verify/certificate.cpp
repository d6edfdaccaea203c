// Certificate writer (certificate.hpp). Numbers are binary64 values written round-trip exactly by
// nlohmann::json; the checker reads each as the exact rational it denotes.
#include "torchlean/verify/certificate.hpp"

#include "torchlean/cert/rational.hpp"
#include "torchlean/cert/spec_hash.hpp"
#include "torchlean/ir/model_hash.hpp"

namespace torchlean::verify {

nlohmann::ordered_json certificate_json(const ir::Graph& g, const ir::Payload& p, Semantics sem,
                                        const RobustnessConfig& cfg,
                                        const std::vector<ExampleResult>& results) {
  cert::RobustnessSpec spec;
  spec.eps = cfg.eps;
  spec.clip = cfg.clip;
  for (const ExampleResult& r : results) spec.examples.push_back({r.index, r.label, r.x});
  nlohmann::ordered_json j;
  j["format"] = "torchlean_cpp.robustness_cert.v1";
  j["model_sha256"] = ir::model_sha256_hex(g, p);
  j["spec_sha256"] = cert::spec_sha256_hex(spec);
  j["semantics"] = semantics_name(sem);
  j["method"] = method_name(cfg.method);
  j["eps"] = cert::rational_string(cfg.eps);
  if (cfg.clip)
    j["clip"] = {cert::rational_string(cfg.clip->first), cert::rational_string(cfg.clip->second)};
  else
    j["clip"] = nullptr;
  j["input_shape"] = g.node(g.input_ids.at(0)).shape.dims();
  nlohmann::ordered_json examples = nlohmann::ordered_json::array();
  for (const ExampleResult& r : results) {
    nlohmann::ordered_json e;
    e["index"] = r.index;
    e["label"] = r.label;
    e["x"] = r.x;
    e["prediction"] = r.prediction;
    e["certified"] = r.certified;
    nlohmann::ordered_json margins = nlohmann::ordered_json::array();
    for (const MarginClaim& m : r.margins)
      margins.push_back({{"class", m.cls}, {"lower", m.lower}});
    e["margins"] = std::move(margins);
    nlohmann::ordered_json relax = nlohmann::ordered_json::object();
    if (cfg.method != Method::ibp) {
      nlohmann::ordered_json layers = nlohmann::ordered_json::array();
      for (const ReluLayerClaim& l : r.layers) {
        nlohmann::ordered_json lj;
        lj["node"] = l.node;
        lj["lower"] = l.lower;
        lj["upper"] = l.upper;
        nlohmann::ordered_json alpha = nlohmann::ordered_json::object();
        for (const auto& [cls, slopes] : l.alpha) alpha[std::to_string(cls)] = slopes;
        lj["alpha"] = std::move(alpha);
        layers.push_back(std::move(lj));
      }
      relax["layers"] = std::move(layers);
    }
    e["relaxation"] = std::move(relax);
    examples.push_back(std::move(e));
  }
  j["examples"] = std::move(examples);
  return j;
}

}  // namespace torchlean::verify
