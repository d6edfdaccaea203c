// The equivalence checker (DESIGN §5.3, our form of TorchLean's compile-correctness theorem): run
// a Program on given inputs and compare it, node by node, with the reference evaluator in the
// same binary format (F32 for float programs, F64 for double).
//   - exact-order instructions: the output is bit-identical to the reference value of its node;
//   - fast instructions: node-locally, i.e. run on the REFERENCE values of its inputs, every
//     element is within the bound its kernel declares (computed with upward rounding) of the
//     reference value.
// Nodes that share a slot with a checked value (reshape, flatten, detach, graph inputs and
// constants) are compared too; the intermediate nodes of a fused chain have no value of their own
// and are covered by the chain's output. When the reference raises an EvalError, the Program must
// raise the same message. It lives in runtime, next to the executor, because it drives a Program
// instruction by instruction (docs/runtime.md).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/runtime/program.hpp"

namespace torchlean::runtime {

// The first node whose compiled value disagrees with the reference.
struct Mismatch {
  int64_t instr = -1;  // instruction index (-1: a slot bound before any instruction)
  int64_t node = -1;
  std::string op;                             // the node's op
  std::string kernel;                         // "gemm.fast"
  std::string shapes;                         // "(2,3) <- (2,4), (4,3)": output and parent shapes
  int64_t index = 0;                          // flat index of the worst element
  std::string where;                          // its multi-index, "[1,2]"
  double ours = 0, reference = 0, bound = 0;  // bound 0: bit equality required
  int64_t bad_elements = 0;                   // elements outside the bound
};

struct CheckReport {
  bool ok = false;
  KernelMode mode = KernelMode::exact;
  int64_t instructions = 0;        // instructions checked
  int64_t exact_instructions = 0;  // of which bit-identical ones (the rest: within bounds)
  int64_t nodes_compared = 0;      // nodes whose value was compared directly
  int64_t nodes_fused = 0;         // chain intermediates covered by their chain's output
  double worst_bound_use = 0;      // fast: max |ours - reference| / bound over bounded elements
  std::string eval_error;          // both raised this EvalError (ok), or the disagreement
  std::optional<Mismatch> mismatch;

  // A human-readable verdict, one line when ok, a few when not.
  std::string text() const;
};

// Checks `program` on `inputs` (shapes are checked). The program's arena is used, and so are its
// output buffers; the program stays usable afterwards.
template <class T>
CheckReport check_equivalence(Program<T>& program, const std::vector<Tensor<T>>& inputs);

extern template CheckReport check_equivalence(Program<float>&, const std::vector<Tensor<float>>&);
extern template CheckReport check_equivalence(Program<double>&, const std::vector<Tensor<double>>&);

}  // namespace torchlean::runtime
