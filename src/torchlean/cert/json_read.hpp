// Strict typed access to a parsed JSON document for the certificate readers, with errors of the
// form "<source>: <field path>: <what>". (cert cannot use io's helpers: it links no io.)
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace torchlean::cert::detail {

// Shortest round-trip text of a double.
std::string show(double x);

class JsonReader {
 public:
  explicit JsonReader(std::string source) : source_(std::move(source)) {}

  // Parses `text`: malformed or truncated JSON, and nesting deeper than 32, are UserErrors.
  nlohmann::json parse(std::string_view text) const;

  [[noreturn]] void fail(const std::string& where, const std::string& what) const;
  const nlohmann::json& field(const nlohmann::json& obj, const char* key,
                              const std::string& where) const;
  const nlohmann::json* field_opt(const nlohmann::json& obj, const char* key) const;
  const nlohmann::json& object(const nlohmann::json& j, const std::string& where) const;
  const nlohmann::json& array(const nlohmann::json& j, const std::string& where) const;
  const std::string& string(const nlohmann::json& j, const std::string& where) const;
  bool boolean(const nlohmann::json& j, const std::string& where) const;
  // A JSON integer token in [0, 2^53].
  int64_t natural(const nlohmann::json& j, const std::string& where) const;
  std::vector<int64_t> naturals(const nlohmann::json& j, const std::string& where) const;
  // Any finite JSON number.
  double number(const nlohmann::json& j, const std::string& where) const;
  std::vector<double> numbers(const nlohmann::json& j, const std::string& where) const;

 private:
  std::string source_;
};

}  // namespace torchlean::cert::detail
