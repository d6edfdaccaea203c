// `torchlean plot`: SVG line plots of a training log (JSON lines) or any CSV with a header row.
#include <algorithm>
#include <iostream>

#include "torchlean/cli/commands.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/nn/plot.hpp"

namespace torchlean::cli {
namespace {

int run_plot(const ParsedArgs& args) {
  const std::string log_path = args.positional(0);
  const auto out_opt = args.get("-o");
  if (!out_opt) throw UsageError("plot: -o OUT.svg is required");
  const std::string& out = *out_opt;
  const nn::LogTable t = nn::parse_log(io::read_file_text(log_path, "plot"), log_path);
  std::string x = args.get_or("--x", "");
  if (x.empty()) {
    for (const char* c : {"step", "epoch"})
      if (x.empty() && std::find(t.columns.begin(), t.columns.end(), c) != t.columns.end()) x = c;
    if (x.empty() && !t.columns.empty()) x = t.columns.front();
  }
  std::string y = args.get_or("--y", "");
  if (y.empty()) {
    // Every other numeric column, one panel each.
    for (const std::string& c : t.columns)
      if (c != x) y += (y.empty() ? "" : ",") + c;
  }
  io::write_file_text(
      out, nn::render_svg(t, x, nn::parse_panels(y), args.get_or("--title", log_path)), "plot");
  std::cout << "wrote " << out << "\n";
  return 0;
}

}  // namespace

const Command kPlot{
    {"plot",
     "LOG -o OUT.svg [--x COL] [--y A+B,C] [--title T]",
     "SVG line plots of a JSON-lines or CSV log",
     {"LOG"},
     {{"-o", "OUT.svg", "output SVG file (required)"},
      {"--x", "COL", "x column (default: step, else epoch, else the first column)"},
      {"--y", "COLS",
       "panels separated by ',', series in a panel by '+' (default: every other column)"},
      {"--title", "T", "title (default: the log's path)"}}},
    run_plot};

}  // namespace torchlean::cli
