// GraphViz output of an IR graph.
#include "torchlean/ir/dot.hpp"

#include <algorithm>

namespace torchlean::ir {

namespace {

// Escapes a string for a double-quoted DOT label; "\n" stays a DOT line break.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string position_list(const std::vector<int64_t>& ids, int64_t id) {
  std::string out;
  for (size_t k = 0; k < ids.size(); ++k)
    if (ids[k] == id) out += (out.empty() ? "" : ",") + std::to_string(k);
  return out;
}

}  // namespace

std::string to_dot(const Graph& g) {
  std::string out = "digraph torchlean {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n";
  for (const Node& n : g.nodes) {
    std::string label = escape(std::to_string(n.id) + ": " + std::string(op_name(n.kind)));
    std::string attrs = attrs_to_string(n.attrs);
    if (!attrs.empty()) label += "\\n" + escape(attrs);
    label += "\\n" + escape(n.shape.str());
    std::string in_pos = position_list(g.input_ids, n.id);
    std::string out_pos = position_list(g.output_ids, n.id);
    if (!in_pos.empty()) label += "\\ninput " + in_pos;
    if (!out_pos.empty()) label += "\\noutput " + out_pos;
    out += "  n" + std::to_string(n.id) + " [label=\"" + label + "\"";
    if (!in_pos.empty()) out += ", style=filled, fillcolor=\"#cfe2ff\"";
    else if (!out_pos.empty()) out += ", style=filled, fillcolor=\"#d1e7dd\"";
    if (!out_pos.empty()) out += ", peripheries=2";
    out += "];\n";
  }
  for (const Node& n : g.nodes) {
    for (size_t k = 0; k < n.parents.size(); ++k) {
      out += "  n" + std::to_string(n.parents[k]) + " -> n" + std::to_string(n.id);
      if (n.parents.size() > 1) out += " [label=\"" + std::to_string(k) + "\"]";
      out += ";\n";
    }
  }
  return out + "}\n";
}

}  // namespace torchlean::ir
