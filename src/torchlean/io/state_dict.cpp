#include "torchlean/io/state_dict.hpp"

#include <cmath>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/json_util.hpp"
#include "torchlean/io/param_order.hpp"

namespace torchlean::io {
namespace {

using detail::fail;
using detail::Json;

std::string quoted(const std::string& s) { return detail::describe(Json(s)); }

// Deeper nested arrays are refused on read and write alike, so every file we read can be written.
constexpr size_t kMaxRank = 32;

// Fills `out` from a nested array whose dims (taken from the first entries) are `dims`.
void fill(const Json& j, const std::vector<int64_t>& dims, size_t depth, std::vector<double>& out,
          const std::string& p, const std::string& where) {
  if (depth == dims.size()) {
    if (!j.is_number()) detail::type_error(p, where, "a number", j);
    double v = j.get<double>();
    if (!std::isfinite(v)) fail(p, where, "number " + j.dump() + " is not finite");
    out.push_back(v);
    return;
  }
  if (!j.is_array() || static_cast<int64_t>(j.size()) != dims[depth])
    detail::type_error(p, where,
                       "an array of " + std::to_string(dims[depth]) + " like its siblings (ragged nested array)", j);
  for (size_t i = 0; i < j.size(); ++i) fill(j[i], dims, depth + 1, out, p, where + "[" + std::to_string(i) + "]");
}

Tensor<double> parse_tensor(const Json& j, const std::string& p, const std::string& where) {
  std::vector<int64_t> dims;
  for (const Json* cur = &j; cur->is_array(); cur = &(*cur)[0]) {
    dims.push_back(static_cast<int64_t>(cur->size()));
    if (cur->empty()) break;
  }
  if (dims.size() > kMaxRank)
    fail(p, where, "nested arrays of rank " + std::to_string(dims.size()) + " exceed the limit of " +
                       std::to_string(kMaxRank));
  std::vector<double> values;
  fill(j, dims, 0, values, p, where);
  return Tensor<double>(Shape(dims), std::move(values));
}

StateDict read_impl(std::string_view text, const std::string& p) {
  const Json root = detail::parse_json(text, p);
  detail::as_object(root, p, "root");
  StateDict sd;
  const Json* params = detail::field_opt(root, "params");
  if (params != nullptr) {
    detail::as_object(*params, p, "params");
    for (const auto& [key, value] : root.items())
      if (key != "params" && key != "meta")
        fail(p, "root", "unexpected top-level key " + quoted(key) + " next to \"params\" (allowed: \"meta\")");
    if (const Json* meta = detail::field_opt(root, "meta")) sd.meta = *meta;
  } else {
    params = &root;  // TorchLean also accepts the bare state dict
  }
  for (const auto& [key, value] : params->items())
    sd.params.emplace_back(key, parse_tensor(value, p, "params." + quoted(key)));
  return sd;
}

Json tensor_json(const Tensor<double>& t, size_t depth, size_t& pos, const std::string& key) {
  const std::vector<int64_t>& dims = t.shape().dims();
  if (depth == dims.size()) {
    double v = t[static_cast<int64_t>(pos++)];
    if (!std::isfinite(v))
      throw UserError("state_dict: params." + quoted(key) + ": cannot write non-finite value in JSON");
    return Json(v);
  }
  Json a = Json::array();
  for (int64_t i = 0; i < dims[depth]; ++i) a.push_back(tensor_json(t, depth + 1, pos, key));
  return a;
}

}  // namespace

StateDict read_state_dict(std::string_view text) { return read_impl(text, "state_dict"); }

StateDict read_state_dict_file(const std::filesystem::path& path) {
  return read_impl(read_file_text(path, "state_dict"), "state_dict: " + path.string());
}

std::string write_state_dict(const StateDict& sd) {
  Json params = Json::object();
  for (const auto& [key, t] : sd.params) {
    if (params.contains(key)) throw UserError("state_dict: duplicate key " + quoted(key));
    if (t.shape().dims().size() > kMaxRank)
      throw UserError("state_dict: params." + quoted(key) + ": rank " + std::to_string(t.shape().rank()) +
                      " exceeds the limit of " + std::to_string(kMaxRank));
    const std::vector<int64_t>& dims = t.shape().dims();
    for (size_t i = 0; i + 1 < dims.size(); ++i)
      if (dims[i] == 0)
        throw UserError("state_dict: params." + quoted(key) + ": shape " + t.shape().str() +
                        " has a zero dim before the last, which nested arrays cannot record");
    size_t pos = 0;
    params[key] = tensor_json(t, 0, pos, key);
  }
  Json root = Json::object();
  root["params"] = std::move(params);
  if (!sd.meta.is_null()) root["meta"] = sd.meta;
  return detail::dump_json(root, "state_dict", 2) + "\n";
}

void write_state_dict_file(const std::filesystem::path& path, const StateDict& sd) {
  write_file_text(path, write_state_dict(sd), "state_dict");
}

ir::Payload payload_from_state_dict(const ir::Graph& g, const StateDict& sd, const ir::Payload& base) {
  std::vector<NamedTensor> tensors;
  for (const auto& [key, t] : sd.params) {
    if (key.ends_with("num_batches_tracked")) continue;  // a PyTorch counter, not a parameter
    tensors.push_back({"key " + quoted(key), &t});
  }
  return detail::assign_in_order(g, tensors, base, "state_dict");
}

}  // namespace torchlean::io
