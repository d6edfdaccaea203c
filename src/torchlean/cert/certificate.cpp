// Strict reader for robustness certificates. Every number is read as the binary64 nearest its
// decimal text (writers emit round-trip "%.17g" text, so that is exactly the value they meant)
// and must be finite; integers must be JSON integer tokens.
#include "torchlean/cert/certificate.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "torchlean/cert/json_read.hpp"
#include "torchlean/cert/rational.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::cert {

namespace {

using detail::JsonReader;
using Json = nlohmann::json;

// Bounds that keep a hostile file from making the checker allocate or loop without limit.
constexpr int64_t kMaxClass = 1 << 20;

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

LayerClaim read_layer(const JsonReader& r, const Json& j, const std::string& where) {
  r.object(j, where);
  LayerClaim layer;
  layer.node = r.natural(r.field(j, "node", where), where + ".node");
  layer.lower = r.numbers(r.field(j, "lower", where), where + ".lower");
  layer.upper = r.numbers(r.field(j, "upper", where), where + ".upper");
  if (layer.lower.size() != layer.upper.size())
    r.fail(where, "lower has " + std::to_string(layer.lower.size()) + " values but upper has " +
                      std::to_string(layer.upper.size()));
  for (size_t i = 0; i < layer.lower.size(); ++i)
    if (!(layer.lower[i] <= layer.upper[i]))
      r.fail(where, "lower[" + std::to_string(i) + "] > upper[" + std::to_string(i) + "]");
  if (const Json* a = r.field_opt(j, "alpha")) {
    r.object(*a, where + ".alpha");
    for (const auto& [key, value] : a->items()) {
      std::string w = where + ".alpha[\"" + key + "\"]";
      int64_t cls = 0;
      if (key.empty() || key.size() > 7 || key.find_first_not_of("0123456789") != std::string::npos)
        r.fail(w, "the key must be a class index");
      cls = std::stoll(key);
      layer.alpha[cls] = r.numbers(value, w);
      if (layer.alpha[cls].size() != layer.lower.size())
        r.fail(w, std::to_string(layer.alpha[cls].size()) + " slopes for " +
                      std::to_string(layer.lower.size()) + " neurons");
      for (size_t i = 0; i < layer.alpha[cls].size(); ++i) {
        double s = layer.alpha[cls][i];
        if (!(s >= 0 && s <= 1))
          r.fail(w + "[" + std::to_string(i) + "]",
                 "alpha " + detail::show(s) + " is outside [0,1]");
      }
    }
  }
  return layer;
}

ExampleClaim read_example(const JsonReader& r, const Json& j, const std::string& where,
                          CertMethod method, int64_t input_numel) {
  r.object(j, where);
  ExampleClaim e;
  e.index = r.natural(r.field(j, "index", where), where + ".index");
  e.label = r.natural(r.field(j, "label", where), where + ".label");
  e.prediction = r.natural(r.field(j, "prediction", where), where + ".prediction");
  if (e.label > kMaxClass || e.prediction > kMaxClass) r.fail(where, "class index too large");
  e.x = r.numbers(r.field(j, "x", where), where + ".x");
  if (static_cast<int64_t>(e.x.size()) != input_numel)
    r.fail(where + ".x", std::to_string(e.x.size()) + " values for input_shape with " +
                             std::to_string(input_numel) + " elements");
  e.certified = r.boolean(r.field(j, "certified", where), where + ".certified");
  const Json& margins = r.array(r.field(j, "margins", where), where + ".margins");
  for (size_t i = 0; i < margins.size(); ++i) {
    std::string w = where + ".margins[" + std::to_string(i) + "]";
    r.object(margins[i], w);
    MarginClaim m;
    m.cls = r.natural(r.field(margins[i], "class", w), w + ".class");
    if (m.cls > kMaxClass) r.fail(w + ".class", "class index too large");
    m.lower = r.number(r.field(margins[i], "lower", w), w + ".lower");
    e.margins.push_back(m);
  }
  const Json& relax = r.object(r.field(j, "relaxation", where), where + ".relaxation");
  if (method == CertMethod::ibp) {
    if (!relax.empty()) r.fail(where + ".relaxation", "must be {} for method ibp");
  } else {
    const Json& layers =
        r.array(r.field(relax, "layers", where + ".relaxation"), where + ".relaxation.layers");
    for (size_t i = 0; i < layers.size(); ++i)
      e.layers.push_back(
          read_layer(r, layers[i], where + ".relaxation.layers[" + std::to_string(i) + "]"));
  }
  return e;
}

}  // namespace

std::string semantics_name(CertSemantics s) {
  return s == CertSemantics::real ? "real" : "float32";
}

std::string method_name(CertMethod m) {
  switch (m) {
    case CertMethod::ibp:
      return "ibp";
    case CertMethod::crown:
      return "crown";
    case CertMethod::alpha:
      return "alpha";
  }
  return "?";
}

RobustnessSpec Certificate::spec() const {
  RobustnessSpec s;
  s.eps = eps;
  s.clip = clip;
  for (const ExampleClaim& e : examples) s.examples.push_back({e.index, e.label, e.x});
  return s;
}

Certificate parse_certificate(std::string_view json_text, const std::string& source) {
  JsonReader r(source);
  const Json root = r.parse(json_text);
  r.object(root, "certificate");
  Certificate c;
  const std::string& format = r.string(r.field(root, "format", "certificate"), "format");
  if (format != kCertFormat)
    r.fail("format",
           "expected \"" + std::string(kCertFormat) + "\", got \"" + format.substr(0, 80) + "\"");
  c.model_sha256 = r.string(r.field(root, "model_sha256", "certificate"), "model_sha256");
  if (!is_hex64(c.model_sha256)) r.fail("model_sha256", "expected 64 lower-case hex digits");
  c.spec_sha256 = r.string(r.field(root, "spec_sha256", "certificate"), "spec_sha256");
  if (!is_hex64(c.spec_sha256)) r.fail("spec_sha256", "expected 64 lower-case hex digits");
  const std::string& sem = r.string(r.field(root, "semantics", "certificate"), "semantics");
  if (sem == "real")
    c.semantics = CertSemantics::real;
  else if (sem == "float32")
    c.semantics = CertSemantics::float32;
  else
    r.fail("semantics", "expected \"real\" or \"float32\", got \"" + sem.substr(0, 80) + "\"");
  const std::string& method = r.string(r.field(root, "method", "certificate"), "method");
  if (method == "ibp")
    c.method = CertMethod::ibp;
  else if (method == "crown")
    c.method = CertMethod::crown;
  else if (method == "alpha")
    c.method = CertMethod::alpha;
  else
    r.fail("method",
           "expected \"ibp\", \"crown\" or \"alpha\", got \"" + method.substr(0, 80) + "\"");
  c.eps = parse_rational(r.string(r.field(root, "eps", "certificate"), "eps"), source + ": eps");
  if (c.eps < 0) r.fail("eps", "must be >= 0");
  const Json& clip = r.field(root, "clip", "certificate");
  if (!clip.is_null()) {
    r.array(clip, "clip");
    if (clip.size() != 2) r.fail("clip", "expected null or [lo, hi]");
    mpq_class lo = parse_rational(r.string(clip[0], "clip[0]"), source + ": clip[0]");
    mpq_class hi = parse_rational(r.string(clip[1], "clip[1]"), source + ": clip[1]");
    if (lo > hi) r.fail("clip", "lo > hi");
    c.clip = std::make_pair(lo, hi);
  }
  c.input_shape = Shape(r.naturals(r.field(root, "input_shape", "certificate"), "input_shape"));
  int64_t numel = 1;
  for (int64_t d : c.input_shape.dims()) {
    if (d != 0 && numel > (int64_t{1} << 40) / d) r.fail("input_shape", "too many elements");
    numel *= d;
  }
  const Json& examples = r.array(r.field(root, "examples", "certificate"), "examples");
  for (size_t i = 0; i < examples.size(); ++i)
    c.examples.push_back(
        read_example(r, examples[i], "examples[" + std::to_string(i) + "]", c.method, numel));
  return c;
}

Certificate read_certificate(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open the certificate");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_certificate(ss.str(), path);
}

}  // namespace torchlean::cert
