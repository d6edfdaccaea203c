#include "torchlean/cli/args.hpp"

#include <algorithm>

namespace torchlean::cli {

ParsedArgs::ParsedArgs(const CommandSpec& spec, const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      return;
    }
    // "--long" options, and single-dash ones ("-o") where the command declares them.
    const bool short_declared = a.size() == 2 && a[0] == '-' &&
                                std::any_of(spec.options.begin(), spec.options.end(),
                                            [&](const OptionSpec& o) { return o.name == a; });
    if (a.rfind("--", 0) == 0 || short_declared) {
      std::string name = a, value;
      bool inline_value = false;
      if (auto eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        inline_value = true;
      }
      const OptionSpec* opt = nullptr;
      for (const auto& o : spec.options)
        if (o.name == name) opt = &o;
      if (!opt) throw UsageError(spec.name + ": unknown option '" + name + "'");
      if (opt->meta.empty()) {
        if (inline_value) throw UsageError(spec.name + ": option '" + name + "' takes no value");
        switches_.insert(name);
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError(spec.name + ": option '" + name + "' needs a value " + opt->meta);
        value = argv[++i];
      }
      if (values_.count(name)) throw UsageError(spec.name + ": option '" + name + "' given twice");
      values_[name] = value;
      continue;
    }
    positional_.push_back(a);
  }
  if (positional_.size() != spec.positional.size())
    throw UsageError(spec.name + ": expected " + std::to_string(spec.positional.size()) +
                     " positional argument(s), got " + std::to_string(positional_.size()));
}

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ParsedArgs::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

// True for a given switch or a given valued option (so `has` cannot silently miss the latter).
bool ParsedArgs::has(const std::string& name) const {
  return switches_.count(name) > 0 || values_.count(name) > 0;
}

std::string usage_text(const CommandSpec& spec) {
  std::string out = "usage: torchlean " + spec.name + " " + spec.synopsis + "\n\n" + spec.summary + "\n";
  if (!spec.options.empty()) out += "\noptions:\n";
  for (const auto& o : spec.options) {
    std::string left = "  " + o.name + (o.meta.empty() ? "" : " " + o.meta);
    if (left.size() < 28) left.resize(28, ' ');
    else left += "  ";
    out += left + o.help + "\n";
  }
  out += "  --help                    show this help\n";
  return out;
}

}  // namespace torchlean::cli
