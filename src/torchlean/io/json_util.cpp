#include "torchlean/io/json_util.hpp"

#include <cmath>
#include <limits>
#include <set>

#include "torchlean/core/error.hpp"

namespace torchlean::io::detail {

Json parse_json(std::string_view text, const std::string& prefix, int max_depth) {
  // One set of seen keys per open object; arrays push nothing. The callback runs during parsing,
  // so a too-deep or duplicate-keyed document is refused before it is fully built.
  std::vector<std::set<std::string>> open_objects;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth >= max_depth)
          throw UserError(prefix + ": JSON nesting deeper than " + std::to_string(max_depth) + " levels");
        if (event == Json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second)
          throw UserError(prefix + ": duplicate key " + describe(parsed) + " in a JSON object");
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    throw UserError(prefix + ": malformed JSON: " + e.what());
  }
}

std::string dump_json(const Json& j, const std::string& prefix, int indent) {
  try {
    return j.dump(indent);
  } catch (const Json::exception& e) {
    throw UserError(prefix + ": cannot serialise: " + e.what());
  }
}

std::string describe(const Json& j) {
  switch (j.type()) {
    case Json::value_t::array: return "an array of " + std::to_string(j.size());
    case Json::value_t::object: return "an object";
    case Json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      std::string shown = s.size() > 40 ? s.substr(0, 40) + "..." : s;
      // dump() escapes control characters and quotes; replace invalid UTF-8 rather than throw.
      return Json(shown).dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    default: return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

void fail(const std::string& prefix, const std::string& where, const std::string& what) {
  throw UserError(prefix + ": " + (where.empty() ? "" : where + ": ") + what);
}

void type_error(const std::string& prefix, const std::string& where, const std::string& expected,
                const Json& got) {
  fail(prefix, where, "expected " + expected + ", got " + describe(got));
}

const Json& as_object(const Json& j, const std::string& prefix, const std::string& where) {
  if (!j.is_object()) type_error(prefix, where, "an object", j);
  return j;
}

const Json& as_array(const Json& j, const std::string& prefix, const std::string& where) {
  if (!j.is_array()) type_error(prefix, where, "an array", j);
  return j;
}

const std::string& as_string(const Json& j, const std::string& prefix, const std::string& where) {
  if (!j.is_string()) type_error(prefix, where, "a string", j);
  return j.get_ref<const std::string&>();
}

bool as_bool(const Json& j, const std::string& prefix, const std::string& where) {
  if (!j.is_boolean()) type_error(prefix, where, "a boolean", j);
  return j.get<bool>();
}

int64_t as_natural(const Json& j, const std::string& prefix, const std::string& where) {
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(prefix, where, "natural number " + j.dump() + " is too large (limit 2^63-1)");
    return static_cast<int64_t>(v);
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v >= 0) return v;  // "-0"
    type_error(prefix, where, "a natural number", j);
  }
  if (j.is_number_float())
    type_error(prefix, where, "a natural number (a non-negative integer without '.' or exponent)", j);
  type_error(prefix, where, "a natural number", j);
}

std::vector<int64_t> as_natural_list(const Json& j, const std::string& prefix, const std::string& where) {
  as_array(j, prefix, where);
  std::vector<int64_t> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i)
    out.push_back(as_natural(j[i], prefix, where + "[" + std::to_string(i) + "]"));
  return out;
}

Shape as_shape(const Json& j, const std::string& prefix, const std::string& where) {
  return Shape(as_natural_list(j, prefix, where));
}

double as_finite_number(const Json& j, const std::string& prefix, const std::string& where) {
  if (!j.is_number()) type_error(prefix, where, "a number", j);
  double v = j.get<double>();
  if (!std::isfinite(v)) fail(prefix, where, "number " + j.dump() + " is not finite");
  return v;
}

const Json& field(const Json& obj, const char* key, const std::string& prefix, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(prefix, where, std::string("missing field `") + key + "`");
  return *it;
}

const Json* field_opt(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

int64_t checked_numel(const Shape& shape, const std::string& prefix, const std::string& where) {
  int64_t n = 1;
  for (int64_t d : shape.dims())
    if (d == 0) return 0;
  for (int64_t d : shape.dims()) {
    if (n > std::numeric_limits<int64_t>::max() / d)
      fail(prefix, where, "element count of shape " + shape.str() + " overflows");
    n *= d;
  }
  return n;
}

}  // namespace torchlean::io::detail
