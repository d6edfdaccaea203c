#include "torchlean/nn/plot.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "torchlean/core/error.hpp"
#include "torchlean/io/json_util.hpp"

namespace torchlean::nn {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

void note_column(LogTable& t, const std::string& c) {
  if (std::find(t.columns.begin(), t.columns.end(), c) == t.columns.end()) t.columns.push_back(c);
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `n` ticks over `span`.
double tick_step(double span, int n) {
  const double raw = span / n;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

}  // namespace

LogTable parse_log(const std::string& text, const std::string& what) {
  LogTable t;
  std::vector<std::string> lines = split(text, '\n');
  size_t first = 0;
  while (first < lines.size() && trim(lines[first]).empty()) ++first;
  TL_USER_CHECK(first < lines.size(), what + ": empty log");
  const bool jsonl = trim(lines[first]).front() == '{';
  std::vector<std::string> header;
  for (size_t i = first; i < lines.size(); ++i) {
    const std::string line = trim(lines[i]);
    if (line.empty()) continue;
    const std::string where = what + ": line " + std::to_string(i + 1);
    std::map<std::string, double> row;
    if (jsonl) {
      const io::detail::Json j = io::detail::parse_json(line, where);
      TL_USER_CHECK(j.is_object(),
                    where + ": expected a JSON object, got " + io::detail::describe(j));
      for (const auto& [k, v] : j.items()) {
        if (v.is_number())
          row[k] = v.get<double>();
        else if (v.is_boolean())
          row[k] = v.get<bool>() ? 1 : 0;
        else
          continue;
        note_column(t, k);
      }
    } else if (header.empty()) {
      for (const std::string& h : split(line, ',')) header.push_back(trim(h));
      for (const std::string& h : header) note_column(t, h);
      continue;
    } else {
      std::vector<std::string> cells = split(line, ',');
      TL_USER_CHECK(cells.size() == header.size(), where + ": " + std::to_string(cells.size()) +
                                                       " fields, the header has " +
                                                       std::to_string(header.size()));
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string cell = trim(cells[c]);
        double v = 0;
        auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
        if (ec == std::errc() && ptr == cell.data() + cell.size()) row[header[c]] = v;
      }
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::vector<std::vector<std::string>> parse_panels(const std::string& spec) {
  std::vector<std::vector<std::string>> panels;
  for (const std::string& p : split(spec, ',')) {
    std::vector<std::string> ys;
    for (const std::string& y : split(p, '+'))
      if (!trim(y).empty()) ys.push_back(trim(y));
    if (!ys.empty()) panels.push_back(ys);
  }
  return panels;
}

std::string render_svg(const LogTable& t, const std::string& x,
                       const std::vector<std::vector<std::string>>& panels,
                       const std::string& title) {
  auto has = [&](const std::string& c) {
    return std::find(t.columns.begin(), t.columns.end(), c) != t.columns.end();
  };
  TL_USER_CHECK(has(x), "plot: x column '" + x + "' is not in the log");
  TL_USER_CHECK(!panels.empty(), "plot: no y columns to plot");
  for (const auto& p : panels)
    for (const std::string& y : p)
      TL_USER_CHECK(has(y), "plot: y column '" + y + "' is not in the log");

  const double W = 720, H = 260, left = 70, right = 160, top = 40, bottom = 40;
  const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
  std::ostringstream os;
  const double total_h = H * static_cast<double>(panels.size());
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << total_h
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
        "fill=\"white\"/>\n";
  os << "<text x=\"" << W / 2 << "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">"
     << escape(title) << "</text>\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    const double y0 = H * static_cast<double>(p);
    std::vector<std::vector<std::pair<double, double>>> series;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (const std::string& y : panels[p]) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& row : t.rows) {
        auto xi = row.find(x), yi = row.find(y);
        if (xi == row.end() || yi == row.end()) continue;
        if (!std::isfinite(xi->second) || !std::isfinite(yi->second)) continue;
        pts.emplace_back(xi->second, yi->second);
        xmin = std::min(xmin, xi->second), xmax = std::max(xmax, xi->second);
        ymin = std::min(ymin, yi->second), ymax = std::max(ymax, yi->second);
      }
      series.push_back(std::move(pts));
    }
    if (!(xmin <= xmax)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
    if (xmax == xmin) xmax = xmin + 1;
    if (ymax == ymin) ymax = ymin + 1;
    const double pw = W - left - right, ph = H - top - bottom;
    auto sx = [&](double v) { return left + (v - xmin) / (xmax - xmin) * pw; };
    auto sy = [&](double v) { return y0 + top + ph - (v - ymin) / (ymax - ymin) * ph; };
    os << "<rect x=\"" << left << "\" y=\"" << y0 + top << "\" width=\"" << pw << "\" height=\""
       << ph << "\" fill=\"none\" stroke=\"#444\"/>\n";
    for (int axis = 0; axis < 2; ++axis) {
      const double lo = axis ? ymin : xmin, hi = axis ? ymax : xmax;
      const double step = tick_step(hi - lo, 5);
      for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
        if (axis == 0)
          os << "<line x1=\"" << sx(v) << "\" y1=\"" << y0 + top + ph << "\" x2=\"" << sx(v)
             << "\" y2=\"" << y0 + top + ph + 4 << "\" stroke=\"#444\"/><text x=\"" << sx(v)
             << "\" y=\"" << y0 + top + ph + 16 << "\" text-anchor=\"middle\">" << num(v)
             << "</text>\n";
        else
          os << "<line x1=\"" << left - 4 << "\" y1=\"" << sy(v) << "\" x2=\"" << left + pw
             << "\" y2=\"" << sy(v) << "\" stroke=\"#ddd\"/><text x=\"" << left - 6 << "\" y=\""
             << sy(v) + 4 << "\" text-anchor=\"end\">" << num(v) << "</text>\n";
      }
    }
    os << "<text x=\"" << left + pw / 2 << "\" y=\"" << y0 + H - 6 << "\" text-anchor=\"middle\">"
       << escape(x) << "</text>\n";
    for (size_t s = 0; s < series.size(); ++s) {
      const char* color = colors[s % 6];
      os << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.5\" points=\"";
      for (const auto& [a, b] : series[s]) os << sx(a) << "," << sy(b) << " ";
      os << "\"/>\n";
      if (series[s].size() == 1)
        os << "<circle cx=\"" << sx(series[s][0].first) << "\" cy=\"" << sy(series[s][0].second)
           << "\" r=\"3\" fill=\"" << color << "\"/>\n";
      os << "<line x1=\"" << left + pw + 10 << "\" y1=\"" << y0 + top + 10 + 18.0 * s << "\" x2=\""
         << left + pw + 30 << "\" y2=\"" << y0 + top + 10 + 18.0 * s << "\" stroke=\"" << color
         << "\" stroke-width=\"2\"/><text x=\"" << left + pw + 36 << "\" y=\""
         << y0 + top + 14 + 18.0 * s << "\">" << escape(panels[p][s]) << "</text>\n";
    }
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace torchlean::nn
