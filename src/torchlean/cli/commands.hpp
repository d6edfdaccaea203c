// The torchlean subcommands. Each returns the process exit code and throws UsageError (exit 2)
// or UserError (exit 1); main() maps them.
#pragma once
#include <string>
#include <vector>

#include "torchlean/cli/args.hpp"

namespace torchlean::cli {

struct Command {
  CommandSpec spec;
  int (*run)(const ParsedArgs& args);
};

extern const Command kInspect;
extern const Command kDot;
extern const Command kRun;
extern const Command kDemo;
extern const Command kTrain, kEval, kPlot;
extern const Command kCheckCert;
extern const Command kConvert;
extern const Command kCertify;

}  // namespace torchlean::cli
