#include "torchlean/io/safetensors.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/json_util.hpp"

namespace torchlean::io {
namespace {

using detail::fail;
using detail::Json;

size_t item_size(DType t) { return t == DType::f32 ? 4 : 8; }
const char* dtype_name(DType t) { return t == DType::f32 ? "F32" : "F64"; }

std::string quoted(const std::string& s) { return detail::describe(Json(s)); }

struct HeaderEntry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

DType parse_dtype(const Json& j, const std::string& p, const std::string& at) {
  const std::string& s = detail::as_string(j, p, at);
  if (s == "F32") return DType::f32;
  if (s == "F64") return DType::f64;
  fail(p, at, "dtype " + quoted(s) + " is not supported (only F32 and F64)");
}

Safetensors read_impl(std::span<const uint8_t> bytes, const std::string& p) {
  if (bytes.size() < 8)
    fail(p, "", "file of " + std::to_string(bytes.size()) + " bytes is too short for the 8-byte header length");
  const uint64_t n = detail::load_le<uint64_t>(bytes.data());
  if (n > kSafetensorsMaxHeader)
    fail(p, "", "header length " + std::to_string(n) + " exceeds the limit of " +
                    std::to_string(kSafetensorsMaxHeader) + " bytes");
  if (n > bytes.size() - 8)
    fail(p, "", "header length " + std::to_string(n) + " runs past the end of the file (" +
                    std::to_string(bytes.size()) + " bytes)");
  std::string_view header(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<size_t>(n));
  if (header.empty() || header.front() != '{') fail(p, "header", "must be a JSON object starting with '{'");
  const Json root = detail::parse_json(header, p);
  detail::as_object(root, p, "header");

  const std::span<const uint8_t> data = bytes.subspan(8 + static_cast<size_t>(n));
  Safetensors out;
  std::vector<HeaderEntry> entries;
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      detail::as_object(value, p, "__metadata__");
      for (const auto& [k, v] : value.items())
        out.metadata[k] = detail::as_string(v, p, "__metadata__." + k);
      continue;
    }
    const std::string at = "tensor " + quoted(name);
    detail::as_object(value, p, at);
    HeaderEntry e;
    e.name = name;
    e.dtype = parse_dtype(detail::field(value, "dtype", p, at), p, at + ".dtype");
    e.shape = detail::as_shape(detail::field(value, "shape", p, at), p, at + ".shape");
    const Json& offs = detail::as_array(detail::field(value, "data_offsets", p, at), p, at + ".data_offsets");
    if (offs.size() != 2) fail(p, at + ".data_offsets", "expected [begin, end], got " + detail::describe(offs));
    e.begin = static_cast<uint64_t>(detail::as_natural(offs[0], p, at + ".data_offsets[0]"));
    e.end = static_cast<uint64_t>(detail::as_natural(offs[1], p, at + ".data_offsets[1]"));
    if (e.begin > e.end)
      fail(p, at, "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] are reversed");
    if (e.end > data.size())
      fail(p, at, "data_offsets end " + std::to_string(e.end) + " is past the data section (" +
                      std::to_string(data.size()) + " bytes)");
    const int64_t numel = detail::checked_numel(e.shape, p, at);
    const uint64_t want = static_cast<uint64_t>(numel);
    // numel <= data.size() here keeps numel * item_size from overflowing.
    if (want > data.size() || want * item_size(e.dtype) != e.end - e.begin)
      fail(p, at, std::string(dtype_name(e.dtype)) + " shape " + e.shape.str() + " needs " +
                      (want > data.size() ? std::string("more bytes than the file has")
                                          : std::to_string(want * item_size(e.dtype)) + " bytes") +
                      ", data_offsets give " + std::to_string(e.end - e.begin));
    entries.push_back(std::move(e));
  }
  // The entries must tile the data section exactly: no overlap, no hole, nothing trailing.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const HeaderEntry& a, const HeaderEntry& b) { return a.begin < b.begin; });
  uint64_t pos = 0;
  for (const HeaderEntry& e : entries) {
    if (e.begin != pos)
      fail(p, "tensor " + quoted(e.name),
           "data_offsets begin " + std::to_string(e.begin) + (e.begin < pos ? " overlaps" : " leaves a gap after") +
               " the previous tensor's data (which ends at " + std::to_string(pos) + ")");
    pos = e.end;
  }
  if (pos != data.size())
    fail(p, "", "data section has " + std::to_string(data.size()) + " bytes but the tensors cover " +
                    std::to_string(pos));

  for (const HeaderEntry& e : entries) {
    const size_t count = static_cast<size_t>((e.end - e.begin) / item_size(e.dtype));
    std::vector<double> values(count);
    const uint8_t* src = data.data() + e.begin;
    for (size_t i = 0; i < count; ++i)
      values[i] = e.dtype == DType::f32 ? static_cast<double>(detail::load_f32_le(src + 4 * i))
                                        : detail::load_f64_le(src + 8 * i);
    out.tensors.push_back({e.name, e.dtype, Tensor<double>(e.shape, std::move(values))});
  }
  return out;
}

}  // namespace

Safetensors read_safetensors(std::span<const uint8_t> bytes) { return read_impl(bytes, "safetensors"); }

Safetensors read_safetensors_file(const std::filesystem::path& path) {
  return read_impl(read_file_bytes(path, "safetensors"), "safetensors: " + path.string());
}

std::vector<uint8_t> write_safetensors(const Safetensors& st) {
  const std::string p = "safetensors";
  Json header = Json::object();
  if (!st.metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [k, v] : st.metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const SafetensorsEntry& e : st.tensors) {
    const std::string at = "tensor " + quoted(e.name);
    if (e.name == "__metadata__") fail(p, at, "name is reserved for the metadata block");
    if (!names.insert(e.name).second) fail(p, at, "duplicate tensor name");
    const uint64_t size = static_cast<uint64_t>(e.tensor.numel()) * item_size(e.dtype);
    Json entry = Json::object();
    entry["dtype"] = dtype_name(e.dtype);
    entry["shape"] = e.tensor.shape().dims();
    entry["data_offsets"] = Json::array({offset, offset + size});
    header[e.name] = std::move(entry);
    offset += size;
  }
  std::string text = detail::dump_json(header, p);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');

  std::vector<uint8_t> out(8 + text.size() + static_cast<size_t>(offset));
  detail::store_le<uint64_t>(out.data(), text.size());
  std::copy(text.begin(), text.end(), out.begin() + 8);
  uint8_t* dst = out.data() + 8 + text.size();
  for (const SafetensorsEntry& e : st.tensors) {
    const std::vector<double>& v = e.tensor.vec();
    for (size_t i = 0; i < v.size(); ++i) {
      if (e.dtype == DType::f32) {
        if (!detail::exact_in_f32(v[i]))
          fail(p, "tensor " + quoted(e.name),
               "value " + Json(v[i]).dump() + " at flat index " + std::to_string(i) +
                   " is not a binary32 value; write it as F64 or round it explicitly");
        detail::store_f32_le(dst, static_cast<float>(v[i]));
        dst += 4;
      } else {
        detail::store_f64_le(dst, v[i]);
        dst += 8;
      }
    }
  }
  return out;
}

void write_safetensors_file(const std::filesystem::path& path, const Safetensors& st) {
  write_file_bytes(path, write_safetensors(st), "safetensors");
}

Safetensors payload_to_safetensors(const ir::Payload& payload, DType dtype) {
  Safetensors st;
  for (const auto& [id, slots] : payload)
    for (const auto& [slot, t] : slots) st.tensors.push_back({std::to_string(id) + "." + slot, dtype, t});
  return st;
}

ir::Payload payload_from_safetensors(const Safetensors& st) {
  ir::Payload out;
  for (const SafetensorsEntry& e : st.tensors) {
    const size_t dot = e.name.find('.');
    const std::string digits = e.name.substr(0, dot);
    const bool ok = dot != std::string::npos && dot > 0 && dot + 1 < e.name.size() && dot <= 18 &&
                    std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok)
      throw UserError("safetensors: tensor " + quoted(e.name) +
                      ": payload keys must be <node_id>.<slot>, e.g. \"3.weight\"");
    const int64_t id = std::stoll(digits);
    const std::string slot = e.name.substr(dot + 1);
    if (!out[id].emplace(slot, e.tensor).second)
      throw UserError("safetensors: tensor " + quoted(e.name) + ": duplicate payload slot");
  }
  return out;
}

}  // namespace torchlean::io
