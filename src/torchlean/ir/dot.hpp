// GraphViz output of an IR graph, for looking at models (`dot -Tsvg`).
#pragma once
#include <string>

#include "torchlean/ir/graph.hpp"

namespace torchlean::ir {

// A `digraph`: one box per node labelled "id: op", its attributes and its declared shape; an edge
// per parent (labelled with the operand position when the node has several); graph inputs and
// outputs marked and coloured. Does not check the graph.
std::string to_dot(const Graph& g);

}  // namespace torchlean::ir
