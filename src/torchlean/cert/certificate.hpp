// The robustness certificate ("torchlean_cpp.robustness_cert.v1", docs/certificates.md) as the
// checker reads it. The reader validates the schema strictly; it proves nothing (checker.hpp does).
#pragma once
#include <gmpxx.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "torchlean/cert/spec_hash.hpp"
#include "torchlean/core/shape.hpp"

namespace torchlean::cert {

inline constexpr std::string_view kCertFormat = "torchlean_cpp.robustness_cert.v1";

enum class CertSemantics { real, float32 };
enum class CertMethod { ibp, crown, alpha };

// Claimed bounds of one relu/leaky_relu node's INPUT, and lower-relaxation slopes per objective
// class (empty for crown certificates that rely on the adaptive default).
struct LayerClaim {
  int64_t node = 0;
  std::vector<double> lower, upper;
  std::map<int64_t, std::vector<double>> alpha;
};

// Claimed lower bound of logit[label] - logit[cls] over the example's region.
struct MarginClaim {
  int64_t cls = 0;
  double lower = 0;
};

struct ExampleClaim {
  int64_t index = 0, label = 0, prediction = 0;
  std::vector<double> x;
  bool certified = false;
  std::vector<MarginClaim> margins;
  std::vector<LayerClaim> layers;
};

struct Certificate {
  std::string model_sha256, spec_sha256;
  CertSemantics semantics = CertSemantics::real;
  CertMethod method = CertMethod::ibp;
  mpq_class eps;
  std::optional<std::pair<mpq_class, mpq_class>> clip;
  Shape input_shape;
  std::vector<ExampleClaim> examples;

  // The spec the certificate claims to be about (hashed for spec_sha256).
  RobustnessSpec spec() const;
};

std::string semantics_name(CertSemantics s);
std::string method_name(CertMethod m);

// Parses and validates certificate JSON. `source` names the file in error messages, which start
// with "<source>: " and give the field path ("examples[2].margins[0].lower: expected a number").
Certificate parse_certificate(std::string_view json_text, const std::string& source);
Certificate read_certificate(const std::string& path);

}  // namespace torchlean::cert
