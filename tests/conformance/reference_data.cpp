#include "reference_data.hpp"

#include <bit>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "torchlean/core/error.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/op_kind.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::conformance {

namespace {

// Fills one attribute struct from the case's flat "attrs" object (TorchLean's v1 keys).
struct AttrReader {
  const nlohmann::json& attrs;
  const std::string& case_name;
  size_t* used;

  const nlohmann::json& at(const char* key) const {
    TL_USER_CHECK(attrs.contains(key), reference_path() + ": case " + case_name +
                                           ": missing attribute '" + key + "'");
    ++*used;
    return attrs.at(key);
  }
  void operator()(const char* key, int64_t& v) const { v = at(key).get<int64_t>(); }
  void operator()(const char* key, Shape& v) const { v = Shape(at(key).get<std::vector<int64_t>>()); }
  void operator()(const char* key, std::vector<int64_t>& v) const {
    v = at(key).get<std::vector<int64_t>>();
  }
  void operator()(const char* key, double& v) const { v = at(key).get<double>(); }
  void operator()(const char* key, bool& v) const { v = at(key).get<bool>(); }
  void operator()(const char* key, std::string& v) const { v = at(key).get<std::string>(); }
};

}  // namespace

std::string reference_path() {
  return std::string(TORCHLEAN_SOURCE_DIR) + "/tests/conformance/data/torch_reference.json";
}

const nlohmann::json& reference_json() {
  static const nlohmann::json doc = [] {
    std::ifstream in(reference_path());
    TL_USER_CHECK(in.good(), reference_path() + ": cannot open (regenerate it with "
                                                "/usr/bin/python3 scripts/torch_reference.py)");
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    TL_USER_CHECK(!j.is_discarded(), reference_path() + ": not valid JSON");
    TL_USER_CHECK(j.value("format", "") == "torchlean-cpp.torch_reference.v1",
                  reference_path() + ": unexpected format tag");
    return j;
  }();
  return doc;
}

double decode_value(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  TL_USER_CHECK(v.is_string(), reference_path() + ": value " + v.dump() + " is not a number");
  const std::string s = v.get<std::string>();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  throw UserError(reference_path() + ": unknown special value \"" + s + "\"");
}

Tensor<double> decode_tensor(const nlohmann::json& t) {
  Shape shape(t.at("shape").get<std::vector<int64_t>>());
  std::vector<double> values;
  for (const auto& v : t.at("values")) values.push_back(decode_value(v));
  return Tensor<double>(std::move(shape), std::move(values));
}

Case make_case(const nlohmann::json& c) {
  Case out;
  out.name = c.at("name").get<std::string>();
  const std::string kind = c.at("op").get<std::string>();
  auto op = ir::op_kind_from_json(kind);
  TL_USER_CHECK(op.has_value(), reference_path() + ": case " + out.name + ": unknown op " + kind);
  out.op = *op;

  std::vector<int64_t> parents;
  for (const auto& t : c.at("inputs")) {
    out.inputs.push_back(decode_tensor(t));
    int64_t id = out.graph.add(ir::OpKind::input, {}, ir::NoAttrs{}, out.inputs.back().shape());
    out.graph.input_ids.push_back(id);
    parents.push_back(id);
  }
  ir::Attrs attrs = ir::default_attrs(out.op);
  const nlohmann::json& json_attrs = c.at("attrs");
  size_t used = 0;
  std::visit([&](auto& a) { a.for_each_field(AttrReader{json_attrs, out.name, &used}); }, attrs);
  TL_USER_CHECK(used == json_attrs.size(),
                reference_path() + ": case " + out.name + ": unused attributes in " + json_attrs.dump());
  out.expected = decode_tensor(c.at("output"));
  out.op_id = out.graph.add(out.op, parents, attrs, out.expected.shape());
  out.graph.output_ids.push_back(out.op_id);
  for (const auto& [slot, t] : c.at("payload").items()) out.payload[out.op_id].emplace(slot, decode_tensor(t));
  return out;
}

std::vector<Case> cases_for(std::string_view op) {
  std::vector<Case> out;
  for (const auto& c : reference_json().at("cases"))
    if (c.at("op").get<std::string>() == op) out.push_back(make_case(c));
  return out;
}

Tensor<double> evaluate_f64(const Case& c) {
  std::vector<Tensor<F64>> inputs;
  for (const Tensor<double>& t : c.inputs) {
    std::vector<F64> v;
    for (double x : t.vec()) v.push_back(F64::from_double(x));
    inputs.emplace_back(t.shape(), std::move(v));
  }
  const ir::PayloadStore<F64> payload = ir::convert_payload<F64>(c.payload);
  std::vector<Tensor<F64>> outs = interp::evaluate_outputs<F64>(c.graph, payload, inputs);
  std::vector<double> v;
  for (const F64& x : outs.at(0).vec()) v.push_back(x.v);
  return Tensor<double>(outs.at(0).shape(), std::move(v));
}

namespace {
// Sign-magnitude bits to a two's-complement line: adjacent doubles differ by 1, -0 maps to 0.
int64_t ordered(double x) {
  const auto bits = std::bit_cast<int64_t>(x);
  return bits >= 0 ? bits : -(bits & std::numeric_limits<int64_t>::max());
}
}  // namespace

uint64_t ulp_distance(double a, double b) {
  const int64_t oa = ordered(a), ob = ordered(b);
  // Unsigned difference: the true distance is below 2^64 even from -inf to +inf.
  return oa >= ob ? static_cast<uint64_t>(oa) - static_cast<uint64_t>(ob)
                  : static_cast<uint64_t>(ob) - static_cast<uint64_t>(oa);
}

bool same_ieee(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

mpq_class exact(double x) {
  TL_INTERNAL_CHECK(std::isfinite(x), "exact: non-finite value");
  return mpq_class(x);  // mpq_set_d is exact
}

mpq_class gamma(int64_t k, int precision_bits) {
  mpz_class two_p;
  mpz_ui_pow_ui(two_p.get_mpz_t(), 2, static_cast<unsigned long>(precision_bits));
  TL_INTERNAL_CHECK(k >= 0 && mpz_class(k) * 2 < two_p, "gamma: k*u must stay below 1/2");
  mpq_class g(mpz_class(k), two_p - mpz_class(k));  // (k u) / (1 - k u) with u = 2^-p
  g.canonicalize();
  return g;
}

mpq_class sqrt_lower(const mpq_class& w) {
  TL_INTERNAL_CHECK(w > 0, "sqrt_lower: w must be positive");
  double d = std::sqrt(w.get_d()) * (1.0 - 0x1p-40);
  TL_INTERNAL_CHECK(d > 0, "sqrt_lower: w underflows binary64");
  while (exact(d) * exact(d) > w) d *= 1.0 - 0x1p-40;
  return exact(d);
}

}  // namespace torchlean::conformance
