// GraphViz output: nodes with id, op, attributes and shape; parent edges; inputs/outputs marked.
#include <gtest/gtest.h>

#include <string>

#include "torchlean/ir/dot.hpp"

namespace torchlean::ir {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Dot, NodesEdgesAndMarks) {
  Graph g;
  g.add(OpKind::input, {}, NoAttrs{}, Shape{1, 4, 4});
  g.add(OpKind::max_pool2d, {0}, Pool2dAttrs{2, 2, 2}, Shape{1, 2, 2});
  g.add(OpKind::input, {}, NoAttrs{}, Shape{1, 2, 2});
  g.add(OpKind::add, {1, 2}, NoAttrs{}, Shape{1, 2, 2});
  g.input_ids = {0, 2};
  g.output_ids = {3};
  std::string dot = to_dot(g);
  EXPECT_EQ(dot.rfind("digraph torchlean {", 0), 0u) << dot;
  EXPECT_TRUE(has(dot, "n0 [label=\"0: input\\n(1,4,4)\\ninput 0\"")) << dot;
  EXPECT_TRUE(has(dot, "n1 [label=\"1: max_pool2d\\nkH=2, kW=2, stride=2\\n(1,2,2)\"]")) << dot;
  EXPECT_TRUE(has(dot, "n2 [label=\"2: input\\n(1,2,2)\\ninput 1\"")) << dot;
  EXPECT_TRUE(has(dot, "n3 [label=\"3: add\\n(1,2,2)\\noutput 0\"")) << dot;
  EXPECT_TRUE(has(dot, "peripheries=2")) << dot;
  EXPECT_TRUE(has(dot, "n0 -> n1;")) << dot;  // single parent: no operand label
  EXPECT_TRUE(has(dot, "n1 -> n3 [label=\"0\"];")) << dot;
  EXPECT_TRUE(has(dot, "n2 -> n3 [label=\"1\"];")) << dot;
  EXPECT_FALSE(has(dot, "n0 -> n3")) << dot;
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
}

TEST(Dot, EmptyGraphIsValidDot) {
  EXPECT_EQ(to_dot(Graph{}),
            "digraph torchlean {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n}\n");
}

}  // namespace
}  // namespace torchlean::ir
