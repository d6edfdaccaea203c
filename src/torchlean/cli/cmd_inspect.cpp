// `torchlean inspect` and `torchlean dot`.
#include <iostream>

#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"
#include "torchlean/compile/compile.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ir/dot.hpp"

namespace torchlean::cli {

namespace {

int run_inspect(const ParsedArgs& args) {
  const bool program = args.has("--program");
  compile::CompileOptions options;
  runtime::ElemType elem = runtime::ElemType::f32;
  if (args.has("--mode") && !program) throw UsageError("inspect: --mode needs --program");
  parse_kernel_mode(args, options);
  if (auto sem = args.get("--semantics")) {
    if (!program) throw UsageError("inspect: --semantics needs --program");
    if (*sem != "f32" && *sem != "f64") throw UsageError("inspect: --semantics must be f32 or f64 for --program, got '" + *sem + "'");
    elem = *sem == "f32" ? runtime::ElemType::f32 : runtime::ElemType::f64;
  }
  // Parse without checking first, so the checker's verdict is reported rather than thrown.
  const ir::Graph g = read_graph(args.positional(0), load_options(args));
  std::cout << "graph " << args.positional(0) << ": " << g.nodes.size() << " nodes\n";
  for (const ir::Node& n : g.nodes) {
    std::string parents;
    for (int64_t p : n.parents) parents += (parents.empty() ? "" : ",") + std::to_string(p);
    std::string attrs = ir::attrs_to_string(n.attrs);
    std::cout << "  %" << n.id << " = " << ir::op_name(n.kind) << "(" << parents << ")"
              << (attrs.empty() ? "" : " {" + attrs + "}") << " : " << n.shape.str() << "\n";
  }
  auto ids = [](const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t i : v) s += (s.empty() ? "%" : ", %") + std::to_string(i);
    return s;
  };
  std::cout << "inputs: " << ids(g.input_ids) << "\noutputs: " << ids(g.output_ids) << "\n";
  try {
    ir::check_graph(g);
  } catch (const UserError& e) {
    std::cout << "checker: REJECTED: " << e.what() << "\n";
    return 1;
  }
  int64_t total = 0;
  for (int64_t id : ir::parameterised_nodes(g)) {
    int64_t count = 0;
    for (const ir::PayloadSlot& s : ir::payload_slots(g, g.node(id))) count += s.shape.numel();
    std::cout << "  params %" << id << " (" << ir::op_name(g.node(id).kind) << "): " << count << "\n";
    total += count;
  }
  std::cout << "parameters: " << total << "\n";
  if (auto w = args.get("--weights")) {
    Model m = load_model(args.positional(0), std::filesystem::path(*w), load_options(args));
    (void)m;  // load_model checks the payload against the graph
    std::cout << "weights " << *w << ": match the graph\n";
  }
  std::cout << "checker: OK (structure and shapes)\n";
  if (program) std::cout << runtime::to_text(compile::lower(g, elem, options));
  return 0;
}

int run_dot(const ParsedArgs& args) {
  std::cout << ir::to_dot(load_model(args.positional(0), std::nullopt, load_options(args)).graph);
  return 0;
}

}  // namespace

const Command kInspect{{"inspect", "MODEL.json [--weights W] [--program [--mode exact|fast] [--semantics f32|f64]]",
                        "Print nodes, shapes, parameter counts and the checker's verdict (and the lowered program).",
                        {"MODEL.json"},
                        {{"--weights", "W", "weights (.safetensors, state-dict .json, paramlist bits .json)"},
                         kBatchOption,
                         {"--program", "", "also print the compiled program: slots, instructions, fused groups, memory plan"},
                         {"--mode", "M", "with --program: exact (default) or fast kernels"},
                         kFastVariantsOption,
                         {"--semantics", "D", "with --program: element type f32 (default) or f64"}}},
                       run_inspect};

const Command kDot{{"dot", "MODEL.json", "Write the graph as GraphViz to stdout.", {"MODEL.json"}, {kBatchOption}}, run_dot};

}  // namespace torchlean::cli
