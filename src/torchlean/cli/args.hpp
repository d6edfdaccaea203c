// A small command-line parser shared by the subcommands: positional arguments, --flag VALUE
// options and boolean switches, with usage errors reported as UsageError (exit code 2).
#pragma once
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace torchlean::cli {

// Wrong command-line usage: the CLI prints the message and the subcommand's usage, exits with 2.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& msg) : std::runtime_error(msg) {}
};

struct OptionSpec {
  std::string name;  // "--weights"; a single-dash name ("-o") is accepted only where declared
  std::string meta;  // "W"; empty for a boolean switch
  std::string help;
};

struct CommandSpec {
  std::string name;
  std::string synopsis;                // "MODEL.json [--weights W]"
  std::string summary;                 // one line
  std::vector<std::string> positional;  // names of required positional arguments
  std::vector<OptionSpec> options;
};

class ParsedArgs {
 public:
  ParsedArgs(const CommandSpec& spec, const std::vector<std::string>& argv);
  bool help() const { return help_; }
  const std::string& positional(size_t i) const { return positional_.at(i); }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  // Whether the switch or valued option was given.
  bool has(const std::string& name) const;

 private:
  bool help_ = false;
  std::vector<std::string> positional_;
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
};

std::string usage_text(const CommandSpec& spec);

}  // namespace torchlean::cli
