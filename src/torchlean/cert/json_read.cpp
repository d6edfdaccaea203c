#include "torchlean/cert/json_read.hpp"

#include <charconv>
#include <cmath>
#include <set>

#include "torchlean/core/error.hpp"

namespace torchlean::cert::detail {

namespace {

constexpr int kMaxDepth = 32;

// SAX pass that finds the first key repeated within one object (nlohmann would keep the last).
class DuplicateKeys : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::string duplicate;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!keys_.back().insert(k).second) {
      duplicate = k;
      return false;
    }
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  std::vector<std::set<std::string>> keys_;
};

std::string kind(const nlohmann::json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  if (j.is_number()) return j.dump();
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    return "\"" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "\"";
  }
  if (j.is_array()) return "an array of " + std::to_string(j.size());
  return "an object";
}

}  // namespace

std::string show(double x) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

nlohmann::json JsonReader::parse(std::string_view text) const {
  // Bound nesting before the recursive parser sees the text.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth)
        fail("certificate", "nesting deeper than " + std::to_string(kMaxDepth));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  DuplicateKeys dup;
  nlohmann::json::sax_parse(text, &dup);
  if (!dup.duplicate.empty())
    fail("certificate", "duplicate key \"" + dup.duplicate.substr(0, 40) + "\" in one object");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("certificate", std::string("malformed or truncated JSON (") + e.what() + ")");
  }
}

void JsonReader::fail(const std::string& where, const std::string& what) const {
  throw UserError(source_ + ": " + where + ": " + what);
}

const nlohmann::json& JsonReader::field(const nlohmann::json& obj, const char* key,
                                        const std::string& where) const {
  auto it = obj.find(key);
  if (it == obj.end()) fail(where, std::string("missing field `") + key + "`");
  return *it;
}

const nlohmann::json* JsonReader::field_opt(const nlohmann::json& obj, const char* key) const {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const nlohmann::json& JsonReader::object(const nlohmann::json& j, const std::string& where) const {
  if (!j.is_object()) fail(where, "expected an object, got " + kind(j));
  return j;
}

const nlohmann::json& JsonReader::array(const nlohmann::json& j, const std::string& where) const {
  if (!j.is_array()) fail(where, "expected an array, got " + kind(j));
  return j;
}

const std::string& JsonReader::string(const nlohmann::json& j, const std::string& where) const {
  if (!j.is_string()) fail(where, "expected a string, got " + kind(j));
  return j.get_ref<const std::string&>();
}

bool JsonReader::boolean(const nlohmann::json& j, const std::string& where) const {
  if (!j.is_boolean()) fail(where, "expected true or false, got " + kind(j));
  return j.get<bool>();
}

int64_t JsonReader::natural(const nlohmann::json& j, const std::string& where) const {
  constexpr uint64_t kMax = uint64_t{1} << 53;
  if (j.is_number_unsigned() && j.get<uint64_t>() <= kMax)
    return static_cast<int64_t>(j.get<uint64_t>());
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    int64_t v = j.get<int64_t>();
    if (v >= 0) return v;
  }
  fail(where, "expected a natural number, got " + kind(j));
}

std::vector<int64_t> JsonReader::naturals(const nlohmann::json& j, const std::string& where) const {
  array(j, where);
  std::vector<int64_t> out;
  for (size_t i = 0; i < j.size(); ++i)
    out.push_back(natural(j[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

double JsonReader::number(const nlohmann::json& j, const std::string& where) const {
  if (!j.is_number()) fail(where, "expected a number, got " + kind(j));
  double v = j.get<double>();
  if (!std::isfinite(v)) fail(where, "expected a finite number, got " + kind(j));
  return v;
}

std::vector<double> JsonReader::numbers(const nlohmann::json& j, const std::string& where) const {
  array(j, where);
  std::vector<double> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i)
    out.push_back(number(j[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace torchlean::cert::detail
