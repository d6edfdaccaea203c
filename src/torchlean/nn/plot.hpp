// Training curves as SVG: a log (JSON lines as the Trainer writes them, or CSV with a header row,
// as the verifier's eps,certified_accuracy curves) becomes a table of numeric columns, and each
// panel plots one or more y columns against an x column as line series.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace torchlean::nn {

struct LogTable {
  std::vector<std::string> columns;  // first-seen order
  // One map per row; a column missing from a row (or not a number there) is absent.
  std::vector<std::map<std::string, double>> rows;
};

// JSON lines when the first non-blank character is '{', otherwise CSV with a header row. Only
// numeric (and boolean) values are kept. UserError "<what>: line N: ..." for malformed lines.
LogTable parse_log(const std::string& text, const std::string& what);

// panels: each a list of y columns drawn together ("loss+test_loss,test_accuracy" on the command
// line gives two panels). Rows lacking x or a y value are skipped for that series. UserError if
// a requested column never appears.
std::string render_svg(const LogTable& t, const std::string& x,
                       const std::vector<std::vector<std::string>>& panels,
                       const std::string& title);

// "a+b,c" -> {{a, b}, {c}}.
std::vector<std::vector<std::string>> parse_panels(const std::string& spec);

}  // namespace torchlean::nn
