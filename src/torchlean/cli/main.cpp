// torchlean: the command-line front end. Exit codes: 0 success, 1 user error (one-line message),
// 2 usage error.
#include <cstdio>
#include <exception>
#include <iostream>

#include "torchlean/cli/commands.hpp"
#include "torchlean/core/error.hpp"

namespace {

using torchlean::cli::Command;

const Command* const kCommands[] = {&torchlean::cli::kInspect, &torchlean::cli::kDot,
                                    &torchlean::cli::kRun, &torchlean::cli::kDemo,
                                    &torchlean::cli::kTrain, &torchlean::cli::kEval, &torchlean::cli::kPlot,
                                    &torchlean::cli::kCheckCert, &torchlean::cli::kConvert, &torchlean::cli::kCertify};

void print_overview(std::ostream& os) {
  os << "usage: torchlean <command> [args] (torchlean <command> --help for details)\n\ncommands:\n";
  for (const Command* c : kCommands) {
    std::string name = "  " + c->spec.name;
    name.resize(12, ' ');
    os << name << c->spec.summary << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_overview(std::cerr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_overview(std::cout);
    return 0;
  }
  const Command* cmd = nullptr;
  for (const Command* c : kCommands)
    if (c->spec.name == args[0]) cmd = c;
  if (!cmd) {
    std::cerr << "torchlean: unknown command '" << args[0] << "'\n";
    print_overview(std::cerr);
    return 2;
  }
  args.erase(args.begin());
  try {
    torchlean::cli::ParsedArgs parsed(cmd->spec, args);
    if (parsed.help()) {
      std::cout << torchlean::cli::usage_text(cmd->spec);
      return 0;
    }
    return cmd->run(parsed);
  } catch (const torchlean::cli::UsageError& e) {
    std::cerr << "torchlean: " << e.what() << "\n\n" << torchlean::cli::usage_text(cmd->spec);
    return 2;
  } catch (const torchlean::UserError& e) {
    std::cerr << "torchlean " << cmd->spec.name << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "torchlean " << cmd->spec.name << ": internal error: " << e.what() << "\n";
    return 3;
  }
}
