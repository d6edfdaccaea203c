// Strict JSON helpers shared by the JSON formats (graph_json, state_dict, paramlist_bits) and the
// safetensors header: bounded parsing, typed field access, and errors of the form
// "<prefix>: <field path>: expected <what>, got <token>".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "torchlean/core/shape.hpp"

namespace torchlean::io::detail {

using Json = nlohmann::ordered_json;

// Deeper nesting than this is rejected before it can exhaust the stack of any recursive consumer.
inline constexpr int kMaxJsonDepth = 64;

// Parses one JSON document. Rejects malformed text (the message carries the parser's position and
// the offending token), duplicate keys in an object, and nesting deeper than `max_depth`.
Json parse_json(std::string_view text, const std::string& prefix, int max_depth = kMaxJsonDepth);

// Serialises `j`; strings that are not valid UTF-8 become a UserError instead of a json exception.
std::string dump_json(const Json& j, const std::string& prefix, int indent = -1);

// A short rendering of a JSON value for error messages: numbers and strings as written (strings
// truncated), containers by kind ("an array of 3", "an object").
std::string describe(const Json& j);

[[noreturn]] void fail(const std::string& prefix, const std::string& where, const std::string& what);
[[noreturn]] void type_error(const std::string& prefix, const std::string& where,
                             const std::string& expected, const Json& got);

const Json& as_object(const Json& j, const std::string& prefix, const std::string& where);
const Json& as_array(const Json& j, const std::string& prefix, const std::string& where);
const std::string& as_string(const Json& j, const std::string& prefix, const std::string& where);
bool as_bool(const Json& j, const std::string& prefix, const std::string& where);
// A natural number: a JSON integer token in [0, INT64_MAX]. Rejects negative, fractional or
// exponent-form numbers, integers beyond int64, strings and booleans.
int64_t as_natural(const Json& j, const std::string& prefix, const std::string& where);
std::vector<int64_t> as_natural_list(const Json& j, const std::string& prefix, const std::string& where);
Shape as_shape(const Json& j, const std::string& prefix, const std::string& where);
// Any finite JSON number, as a double.
double as_finite_number(const Json& j, const std::string& prefix, const std::string& where);

// obj[key]; throws "<prefix>: <where>: missing field `key`" if absent. `obj` must be an object.
const Json& field(const Json& obj, const char* key, const std::string& prefix, const std::string& where);
// obj[key] or nullptr.
const Json* field_opt(const Json& obj, const char* key);

// shape.numel(), with overflow reported as "<prefix>: <where>: ..." instead of a bare shape error.
int64_t checked_numel(const Shape& shape, const std::string& prefix, const std::string& where);

}  // namespace torchlean::io::detail
