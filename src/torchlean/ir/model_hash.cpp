// Canonical model bytes:
//   per node, id ascending:  "<id> <kind> (<p0>,<p1>,..) <shape> {<attrs_to_string>}\n"
//   then                     "inputs <id> <id>..\n" and "outputs <id>..\n"
//   per payload node id ascending, slot name ascending (byte order):
//                            "<id>.<slot> <shape>\n" followed by the values as little-endian
//                            binary64, row-major.
// Shapes print as Shape::str() ("(2,3)", "()" for a scalar).
#include "torchlean/ir/model_hash.hpp"

#include <bit>
#include <cstdint>

#include "torchlean/ir/op_kind.hpp"

namespace torchlean::ir {

namespace {

std::string id_list(const std::vector<int64_t>& ids, const char* sep) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += sep;
    out += std::to_string(ids[i]);
  }
  return out;
}

std::string graph_header(const Graph& g) {
  std::string out;
  for (const Node& n : g.nodes) {
    out += std::to_string(n.id) + " " + std::string(op_name(n.kind)) + " (" +
           id_list(n.parents, ",") + ") " + n.shape.str() + " {" + attrs_to_string(n.attrs) + "}\n";
  }
  out += "inputs";
  for (int64_t id : g.input_ids) out += " " + std::to_string(id);
  out += "\noutputs";
  for (int64_t id : g.output_ids) out += " " + std::to_string(id);
  out += "\n";
  return out;
}

void append_f64_le(std::string& out, double x) {
  uint64_t bits = std::bit_cast<uint64_t>(x);
  for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<uint8_t>(bits >> (8 * i)));
}

}  // namespace

std::string model_canonical_bytes(const Graph& g, const Payload& p) {
  std::string out = graph_header(g);
  // std::map iterates ids ascending and slot names in byte order.
  for (const auto& [id, slots] : p) {
    for (const auto& [name, t] : slots) {
      out += std::to_string(id) + "." + name + " " + t.shape().str() + "\n";
      for (double x : t.vec()) append_f64_le(out, x);
    }
  }
  return out;
}

core::Sha256Digest model_sha256(const Graph& g, const Payload& p) {
  return core::sha256(model_canonical_bytes(g, p));
}

std::string model_sha256_hex(const Graph& g, const Payload& p) {
  return core::to_hex(model_sha256(g, p));
}

}  // namespace torchlean::ir
