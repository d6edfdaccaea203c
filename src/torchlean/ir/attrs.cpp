#include "torchlean/ir/attrs.hpp"

#include <bit>
#include <charconv>

#include "torchlean/ir/op_kind.hpp"

namespace torchlean::ir {

namespace {
std::string field_to_string(int64_t v) { return std::to_string(v); }
std::string field_to_string(const Shape& s) { return s.str(); }
std::string field_to_string(const std::vector<int64_t>& v) { return Shape(v).str(); }
std::string field_to_string(bool v) { return v ? "true" : "false"; }
std::string field_to_string(const std::string& v) { return v; }
std::string field_to_string(double v) {
  // Shortest text that reads back as the same double.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}
}  // namespace

bool PadAttrs::operator==(const PadAttrs& o) const {
  return pads_begin == o.pads_begin && pads_end == o.pads_end &&
         std::bit_cast<uint64_t>(value) == std::bit_cast<uint64_t>(o.value);
}

std::string attrs_to_string(const Attrs& attrs) {
  std::string out;
  std::visit(
      [&](const auto& a) {
        a.for_each_field([&](const char* key, const auto& value) {
          if (!out.empty()) out += ", ";
          out += std::string(key) + "=" + field_to_string(value);
        });
      },
      attrs);
  return out;
}

std::optional<OpKind> op_kind_from_json(std::string_view json_kind) {
  for (const OpInfo& info : kOpInfos)
    if (info.json_kind == json_kind) return info.kind;
  return std::nullopt;
}

Attrs default_attrs(OpKind k) {
  switch (k) {
#define TL_X(name, json, A, arity) \
  case OpKind::name:               \
    return A{};
    TORCHLEAN_OPS(TL_X)
#undef TL_X
  }
  return NoAttrs{};
}

}  // namespace torchlean::ir
