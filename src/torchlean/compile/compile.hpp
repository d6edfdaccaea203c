// compile(graph, payload, options) -> Program (DESIGN §5.2): check the graph and payload once,
// pick an exact-order or fast kernel per node, fuse single-consumer elementwise chains, plan the
// arena statically by liveness, and emit a flat instruction list over slots.
#pragma once
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"
#include "torchlean/runtime/program.hpp"

namespace torchlean::compile {

enum class FastVariants : uint8_t { faster, all };

struct CompileOptions {
  runtime::KernelMode mode = runtime::KernelMode::exact;
  bool fuse = true;          // fuse chains of elementwise ops into one instruction
  bool reuse_memory = true;  // false: every arena value keeps its own region (debugging)
  int threads = 1;           // worker threads of the Program's pool (>= 1)
  // Fast mode: GEMMs with fewer rows use the exact-order kernel (faster there than OpenBLAS,
  // whose row-major x . W^T with a handful of rows has no GEMV path). 0 forces fast GEMMs.
  int64_t fast_gemm_min_rows = 16;
  // Fast mode: which reordered kernels to take. `faster`: only where they beat the exact-order
  // kernel on this CPU (docs/runtime.md, "Fast mode's kernel choice"); an exact-order kernel
  // is always a valid fast kernel (its bound is 0). `all`: every fast variant, e.g. to test the
  // fast kernels and their bounds, or for programs whose text must not depend on the CPU.
  FastVariants fast_variants = FastVariants::faster;
};

// The element-type-free lowering (what `inspect --program` prints). Checks the graph; the payload
// is checked by compile(), which needs its values.
runtime::ProgramCode lower(const ir::Graph& g, runtime::ElemType elem,
                           const CompileOptions& options);

// Checks `g` and `payload` (UserError on failure, as ir::check_payload) and lowers. The payload
// is bound by reference: it must outlive the Program.
template <class T>
runtime::Program<T> compile(const ir::Graph& g, const ir::PayloadStore<T>& payload,
                            const CompileOptions& options);

extern template runtime::Program<float> compile(const ir::Graph&, const ir::PayloadStore<float>&,
                                                const CompileOptions&);
extern template runtime::Program<double> compile(const ir::Graph&, const ir::PayloadStore<double>&,
                                                 const CompileOptions&);

}  // namespace torchlean::compile
