// Shared fixtures for the checker tests: a tiny hand-analysable ReLU network and a JSON builder
// for certificates whose hashes match it.
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "torchlean/cert/checker.hpp"
#include "torchlean/cert/rational.hpp"
#include "torchlean/cert/spec_hash.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/ir/model_hash.hpp"

namespace torchlean::cert::test {

// x (2) -> linear W1 = [[1, w01], [1, -1]], b1 = [0, 0] -> relu -> linear W2 = I, b2 = [1, 0].
// Node ids: 0 input, 1 linear, 2 relu, 3 linear.
inline std::pair<ir::Graph, ir::Payload> tiny_net(double w01 = 1.0) {
  ir::GraphBuilder b;
  int64_t x = b.input(Shape{2});
  int64_t z = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{2});
  b.set_payload(z, "weight", Tensor<double>(Shape{2, 2}, {1.0, w01, 1.0, -1.0}));
  b.set_payload(z, "bias", Tensor<double>(Shape{2}, {0.0, 0.0}));
  int64_t h = b.add(ir::OpKind::relu, {z});
  int64_t y = b.add(ir::OpKind::linear, {h}, ir::NoAttrs{}, Shape{2});
  b.set_payload(y, "weight", Tensor<double>(Shape{2, 2}, {1.0, 0.0, 0.0, 1.0}));
  b.set_payload(y, "bias", Tensor<double>(Shape{2}, {1.0, 0.0}));
  b.mark_output(y);
  return std::move(b).finish();
}

struct ExampleSpec {
  int64_t index = 0, label = 0, prediction = 0;
  std::vector<double> x;
  bool certified = false;
  std::vector<std::pair<int64_t, double>> margins;
  nlohmann::json relaxation = nlohmann::json::object();
};

// A certificate with hashes that match (g, p) and its own spec.
inline nlohmann::json make_cert(const ir::Graph& g, const ir::Payload& p,
                                const std::string& semantics, const std::string& method,
                                const std::string& eps, const std::vector<ExampleSpec>& examples) {
  nlohmann::json j;
  j["format"] = "torchlean_cpp.robustness_cert.v1";
  j["model_sha256"] = ir::model_sha256_hex(g, p);
  j["semantics"] = semantics;
  j["method"] = method;
  j["eps"] = eps;
  j["clip"] = nullptr;
  j["input_shape"] = g.node(g.input_ids[0]).shape.dims();
  RobustnessSpec spec;
  spec.eps = parse_rational(eps, "test eps");
  j["examples"] = nlohmann::json::array();
  for (const ExampleSpec& e : examples) {
    nlohmann::json je;
    je["index"] = e.index;
    je["label"] = e.label;
    je["x"] = e.x;
    je["prediction"] = e.prediction;
    je["certified"] = e.certified;
    je["margins"] = nlohmann::json::array();
    for (auto [c, l] : e.margins) je["margins"].push_back({{"class", c}, {"lower", l}});
    je["relaxation"] = e.relaxation;
    j["examples"].push_back(je);
    spec.examples.push_back({e.index, e.label, e.x});
  }
  j["spec_sha256"] = spec_sha256_hex(spec);
  return j;
}

// Recomputes spec_sha256 after a test edited eps/clip/examples.
inline void rehash_spec(nlohmann::json& j) {
  RobustnessSpec spec;
  spec.eps = parse_rational(j["eps"].get<std::string>(), "test eps");
  if (!j["clip"].is_null())
    spec.clip = std::make_pair(parse_rational(j["clip"][0].get<std::string>(), "test clip"),
                               parse_rational(j["clip"][1].get<std::string>(), "test clip"));
  for (const auto& e : j["examples"])
    spec.examples.push_back(
        {e["index"].get<int64_t>(), e["label"].get<int64_t>(), e["x"].get<std::vector<double>>()});
  j["spec_sha256"] = spec_sha256_hex(spec);
}

inline CheckReport check_json(const nlohmann::json& j, const ir::Graph& g, const ir::Payload& p) {
  return check_certificate(parse_certificate(j.dump(), "test.json"), g, p);
}

}  // namespace torchlean::cert::test
