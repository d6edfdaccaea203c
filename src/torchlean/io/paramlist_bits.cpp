#include "torchlean/io/paramlist_bits.hpp"

#include <bit>
#include <limits>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/json_util.hpp"
#include "torchlean/io/param_order.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::io {
namespace {

using detail::fail;
using detail::Json;

uint64_t as_bits(const Json& j, const std::string& p, const std::string& where) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
  if (j.is_number_float() && j.get<double>() >= 18446744073709551616.0)
    fail(p, where, "float bits " + j.dump() + " out of range (expected < 2^64)");
  detail::type_error(p, where, "a natural number below 2^64 (IEEE-754 binary64 bits)", j);
}

std::vector<Tensor<double>> read_impl(std::string_view text, const std::string& p) {
  const Json root = detail::parse_json(text, p);
  detail::as_object(root, p, "root");
  const Json* fmt = detail::field_opt(root, "format");
  if (fmt == nullptr) fail(p, "root", "missing field `format`");
  const std::string& tag = detail::as_string(*fmt, p, "root.format");
  if (tag != kParamlistBitsFormat)
    fail(p, "root.format", "unsupported format " + detail::describe(*fmt) + " (expected \"" +
                               std::string(kParamlistBitsFormat) + "\")");
  std::vector<Tensor<double>> out;
  const Json* params = detail::field_opt(root, "params");
  if (params == nullptr) return out;  // TorchLean reads a missing list as empty
  detail::as_array(*params, p, "params");
  for (size_t i = 0; i < params->size(); ++i) {
    const std::string at = "params[" + std::to_string(i) + "]";
    const Json& e = detail::as_object((*params)[i], p, at);
    const Shape shape = detail::as_shape(detail::field(e, "shape", p, at), p, at + ".shape");
    const Json& values = detail::as_array(detail::field(e, "values", p, at), p, at + ".values");
    const int64_t numel = detail::checked_numel(shape, p, at + ".shape");
    if (static_cast<uint64_t>(numel) != values.size())
      fail(p, at, "shape " + shape.str() + " needs " + std::to_string(numel) + " values, got " +
                      std::to_string(values.size()));
    std::vector<double> v(values.size());
    for (size_t k = 0; k < values.size(); ++k)
      v[k] = std::bit_cast<double>(as_bits(values[k], p, at + ".values[" + std::to_string(k) + "]"));
    out.emplace_back(shape, std::move(v));
  }
  return out;
}

std::vector<Tensor<double>> check_expected(std::vector<Tensor<double>> got, std::span<const Shape> expected) {
  if (got.size() != expected.size())
    throw UserError("paramlist_bits: expected " + std::to_string(expected.size()) + " parameters, the file has " +
                    std::to_string(got.size()));
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i].shape() != expected[i])
      throw UserError("paramlist_bits: params[" + std::to_string(i) + "]: shape mismatch (file " +
                      got[i].shape().str() + ", expected " + expected[i].str() + ")");
  return got;
}

}  // namespace

std::vector<Tensor<double>> read_paramlist_bits(std::string_view text) { return read_impl(text, "paramlist_bits"); }

std::vector<Tensor<double>> read_paramlist_bits_file(const std::filesystem::path& path) {
  return read_impl(read_file_text(path, "paramlist_bits"), "paramlist_bits: " + path.string());
}

std::vector<Tensor<double>> read_paramlist_bits(std::string_view text, std::span<const Shape> expected) {
  return check_expected(read_paramlist_bits(text), expected);
}

std::string write_paramlist_bits(std::span<const Tensor<double>> params) {
  Json list = Json::array();
  for (const Tensor<double>& t : params) {
    Json values = Json::array();
    for (double x : t.vec()) values.push_back(std::bit_cast<uint64_t>(x));
    Json e = Json::object();
    e["shape"] = t.shape().dims();
    e["values"] = std::move(values);
    list.push_back(std::move(e));
  }
  Json root = Json::object();
  root["format"] = std::string(kParamlistBitsFormat);
  root["params"] = std::move(list);
  return detail::dump_json(root, "paramlist_bits", 2) + "\n";
}

void write_paramlist_bits_file(const std::filesystem::path& path, std::span<const Tensor<double>> params) {
  write_file_text(path, write_paramlist_bits(params), "paramlist_bits");
}

std::vector<Tensor<double>> paramlist_from_payload(const ir::Graph& g, const ir::Payload& payload) {
  ir::check_graph(g);
  std::vector<Tensor<double>> out;
  for (int64_t id : ir::parameterised_nodes(g)) {
    const ir::Node& node = g.node(id);
    for (const ir::PayloadSlot& slot : ir::payload_slots(g, node)) {
      if (node.kind == ir::OpKind::batch_norm2d_nchw_eval && slot.name == "eps") continue;
      auto slots = payload.find(id);
      const Tensor<double>* t = nullptr;
      if (slots != payload.end()) {
        auto it = slots->second.find(slot.name);
        if (it != slots->second.end()) t = &it->second;
      }
      if (t == nullptr)
        throw UserError("paramlist_bits: " + node.label() + " has no payload slot `" + slot.name + "`");
      if (t->shape() != slot.shape)
        throw UserError("paramlist_bits: " + node.label() + " slot `" + slot.name + "` has shape " +
                        t->shape().str() + ", the node needs " + slot.shape.str());
      out.push_back(*t);
    }
  }
  return out;
}

ir::Payload payload_from_paramlist(const ir::Graph& g, std::span<const Tensor<double>> params,
                                   const ir::Payload& base) {
  std::vector<NamedTensor> named;
  for (size_t i = 0; i < params.size(); ++i) named.push_back({"params[" + std::to_string(i) + "]", &params[i]});
  return detail::assign_in_order(g, named, base, "paramlist_bits");
}

}  // namespace torchlean::io
