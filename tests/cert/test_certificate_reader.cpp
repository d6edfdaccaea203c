// The certificate reader's schema validation: every malformed field gets a UserError naming the
// file and the field path.
#include <gtest/gtest.h>

#include "cert_test_util.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::cert::test {
namespace {

using nlohmann::json;

json valid() {
  auto [g, p] = tiny_net();
  ExampleSpec e;
  e.x = {1.0, 0.5};
  e.margins = {{1, 0.75}};
  e.certified = true;
  e.relaxation = {
      {"layers", json::array({{{"node", 2}, {"lower", {0.5, -0.5}}, {"upper", {2.5, 1.5}}}})}};
  return make_cert(g, p, "real", "crown", "1/2", {e});
}

std::string text_error(const std::string& text) {
  try {
    parse_certificate(text, "c.json");
  } catch (const UserError& e) {
    return e.what();
  }
  return "(accepted)";
}

std::string error_of(const json& j) { return text_error(j.dump()); }

TEST(CertificateReader, ReadsAValidCertificate) {
  Certificate c = parse_certificate(valid().dump(), "c.json");
  EXPECT_EQ(c.semantics, CertSemantics::real);
  EXPECT_EQ(c.method, CertMethod::crown);
  EXPECT_EQ(c.eps, mpq_class(1, 2));
  EXPECT_FALSE(c.clip.has_value());
  ASSERT_EQ(c.examples.size(), 1u);
  EXPECT_EQ(c.examples[0].layers.at(0).upper[1], 1.5);
  EXPECT_EQ(c.examples[0].margins.at(0).lower, 0.75);
}

TEST(CertificateReader, StructuralErrors) {
  EXPECT_EQ(text_error("{\"format\": \"torchlean_cpp.robustness_cert.v1\", \"model_sha256\"")
                .rfind("c.json: certificate: malformed or truncated JSON", 0),
            0u);
  EXPECT_EQ(text_error(valid().dump().substr(0, 100))
                .rfind("c.json: certificate: malformed or truncated JSON", 0),
            0u);
  EXPECT_EQ(text_error("[1, 2]"), "c.json: certificate: expected an object, got an array of 2");
  EXPECT_EQ(text_error(std::string(40, '[') + std::string(40, ']')),
            "c.json: certificate: nesting deeper than 32");
  EXPECT_EQ(text_error("{\"format\": 1, \"format\": 2}"),
            "c.json: certificate: duplicate key \"format\" in one object");
}

TEST(CertificateReader, FieldErrors) {
  json j = valid();
  j["format"] = "robust_margin_cert_v0_1";
  EXPECT_EQ(error_of(j),
            "c.json: format: expected \"torchlean_cpp.robustness_cert.v1\", got "
            "\"robust_margin_cert_v0_1\"");
  j = valid();
  j.erase("spec_sha256");
  EXPECT_EQ(error_of(j), "c.json: certificate: missing field `spec_sha256`");
  j = valid();
  j["model_sha256"] = "ABC";
  EXPECT_EQ(error_of(j), "c.json: model_sha256: expected 64 lower-case hex digits");
  j = valid();
  j["semantics"] = "float64";
  EXPECT_EQ(error_of(j), "c.json: semantics: expected \"real\" or \"float32\", got \"float64\"");
  j = valid();
  j["method"] = "beta";
  EXPECT_EQ(error_of(j), "c.json: method: expected \"ibp\", \"crown\" or \"alpha\", got \"beta\"");
  j = valid();
  j["eps"] = 0.5;
  EXPECT_EQ(error_of(j), "c.json: eps: expected a string, got 0.5");
  j = valid();
  j["eps"] = "1/0";
  EXPECT_EQ(error_of(j), "c.json: eps: zero denominator in '1/0'");
  j = valid();
  j["eps"] = "-1/2";
  EXPECT_EQ(error_of(j), "c.json: eps: must be >= 0");
  j = valid();
  j["clip"] = {"1", "0"};
  EXPECT_EQ(error_of(j), "c.json: clip: lo > hi");
  j = valid();
  j["input_shape"] = {2, -1};
  EXPECT_EQ(error_of(j), "c.json: input_shape[1]: expected a natural number, got -1");
}

TEST(CertificateReader, ExampleErrors) {
  json j = valid();
  j["examples"][0]["x"] = {1.0};
  EXPECT_EQ(error_of(j), "c.json: examples[0].x: 1 values for input_shape with 2 elements");
  j = valid();
  j["examples"][0]["x"][1] = "0.5";
  EXPECT_EQ(error_of(j), "c.json: examples[0].x[1]: expected a number, got \"0.5\"");
  j = valid();
  j["examples"][0]["label"] = 1.5;
  EXPECT_EQ(error_of(j), "c.json: examples[0].label: expected a natural number, got 1.5");
  j = valid();
  j["examples"][0]["certified"] = 1;
  EXPECT_EQ(error_of(j), "c.json: examples[0].certified: expected true or false, got 1");
  j = valid();
  j["examples"][0]["margins"][0].erase("lower");
  EXPECT_EQ(error_of(j), "c.json: examples[0].margins[0]: missing field `lower`");
  j = valid();
  j["examples"][0]["relaxation"]["layers"][0]["lower"][0] = 3.0;
  EXPECT_EQ(error_of(j), "c.json: examples[0].relaxation.layers[0]: lower[0] > upper[0]");
  j = valid();
  j["examples"][0]["relaxation"]["layers"][0]["upper"] = {1.0};
  EXPECT_EQ(error_of(j),
            "c.json: examples[0].relaxation.layers[0]: lower has 2 values but upper has 1");
  j = valid();
  j["examples"][0]["relaxation"]["layers"][0]["alpha"] = {{"x", {0.5, 0.5}}};
  EXPECT_EQ(error_of(j),
            "c.json: examples[0].relaxation.layers[0].alpha[\"x\"]: the key must be a class index");
  j = valid();
  j["examples"][0]["relaxation"]["layers"][0]["alpha"] = {{"1", {0.5}}};
  EXPECT_EQ(error_of(j),
            "c.json: examples[0].relaxation.layers[0].alpha[\"1\"]: 1 slopes for 2 neurons");
  j = valid();
  j["examples"][0]["relaxation"]["layers"][0]["alpha"] = {{"1", {0.5, -0.25}}};
  EXPECT_EQ(
      error_of(j),
      "c.json: examples[0].relaxation.layers[0].alpha[\"1\"][1]: alpha -0.25 is outside [0,1]");
  j = valid();
  j["method"] = "ibp";
  EXPECT_EQ(error_of(j), "c.json: examples[0].relaxation: must be {} for method ibp");
  // Numbers beyond binary64 are not finite.
  std::string text = valid().dump();
  const std::string needle = "\"lower\":0.75";
  ASSERT_NE(text.find(needle), std::string::npos);
  text.replace(text.find(needle), needle.size(), "\"lower\":1e999");
  EXPECT_EQ(text_error(text).rfind("c.json: ", 0), 0u) << text_error(text);
}

TEST(CertificateReader, ReadFileErrors) {
  EXPECT_THROW(read_certificate("/nonexistent/cert.json"), UserError);
}

}  // namespace
}  // namespace torchlean::cert::test
