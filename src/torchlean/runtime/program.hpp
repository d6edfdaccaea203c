// The compiled Program (DESIGN §5.2): a flat instruction list over numbered slots, a static memory
// plan over one arena, and payload bound by reference. `ProgramCode` is the element-type-free
// description that compile::compile produces and `to_text` prints (inspect --program, golden
// snapshots); `Program<T>` (T = float or double) binds it to a payload and an arena and runs it
// (executor.cpp). Running does no shape checks and no heap allocation. docs/runtime.md describes
// the format.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"
#include "torchlean/runtime/conv_nchw.hpp"
#include "torchlean/runtime/elementwise.hpp"
#include "torchlean/runtime/gemm.hpp"

namespace torchlean::runtime {

class ThreadPool;

// exact: bit-identical to the reference evaluator (DESIGN §3.3). fast: a reordered kernel whose
// distance to the reference is within a declared, rigorously computed bound (DESIGN §5.3).
enum class KernelMode : uint8_t { exact, fast };
std::string_view mode_name(KernelMode m);

enum class ElemType : uint8_t { f32, f64 };
std::string_view elem_name(ElemType e);
template <class T>
constexpr ElemType elem_type_of();
template <>
constexpr ElemType elem_type_of<float>() {
  return ElemType::f32;
}
template <>
constexpr ElemType elem_type_of<double>() {
  return ElemType::f64;
}

// Where a slot's elements live.
//   input:  the caller's i-th input buffer (bound per run)
//   output: the caller's i-th output buffer (bound per run); the producing instruction writes it
//   param:  a payload tensor (bound by pointer at compile time)
//   arena:  [offset, offset + numel) of the Program's arena, placed by the memory plan
enum class SlotKind : uint8_t { input, output, param, arena };

struct Slot {
  SlotKind kind = SlotKind::arena;
  int64_t index = -1;  // input/output position; -1 otherwise
  int64_t node = -1;   // the node whose value it holds; -1 for a kernel workspace
  std::string param;   // param: payload slot name ("weight", "value", ...)
  Shape shape;
  int64_t numel = 0;
  int64_t offset = 0;  // arena: element offset (its byte offset is a multiple of 64)
  int64_t first = -1;  // arena: instruction that writes it (live interval [first, last])
  int64_t last = -1;   // arena: last instruction that reads it
};

// Instruction kernels. Their names appear in program text; keep them stable.
enum class Kernel : uint8_t {
  gather,          // layout ops and output copies: runs of strided copies (GatherParams)
  rand_uniform,    // SplitMix64 stream (RandParams)
  bernoulli_mask,  // keepProb > U_j (RandParams), in[0] = keepProb
  unary,           // one elementwise op (ElementwiseParams)
  binary,          // one elementwise op on two equal-shape operands (ElementwiseParams)
  fused,           // a chain of elementwise ops in one pass (FusedParams)
  gemm,            // matmul (batched) and linear (GemmParams)
  conv2d,          // CHW conv via im2col + GEMM (ConvParams), workspace slot
  max_pool2d,      // (PoolParams)
  avg_pool2d,      // (PoolParams)
  sum,             // (AxisParams: outer 1, len n, inner 1)
  reduce_sum,      // (AxisParams)
  reduce_mean,     // (AxisParams)
  mse_loss,        // (AxisParams: outer 1, len n, inner 1)
  softmax,         // (AxisParams)
  layernorm,       // (AxisParams: outer rows, len width, inner 1)
  batch_norm,      // (AxisParams: outer N, len C, inner H*W); in = x, gamma, beta, mean, var, eps
  // Extension ops (docs/runtime.md, "Extension-op kernels").
  map,                      // parametrised elementwise ops: pow_const ... where (MapParams)
  conv2d_nchw,              // batched grouped conv via im2col + GEMM (ConvNchwParams), workspace
  max_pool2d_nchw,          // (PoolNchwParams)
  avg_pool2d_nchw,          // (PoolNchwParams)
  index_gather,             // gather: in = data, indices (IndexParams)
  log_softmax,              // (AxisParams)
  cross_entropy,            // in = logits (N, C), targets (N) (AxisParams: outer N, len C)
  max_pool2d_nchw_grad,     // in = x, g (PoolNchwParams)
  avg_pool2d_nchw_grad,     // in = g (PoolNchwParams)
  conv2d_nchw_grad_input,   // in = g, weight (ConvNchwParams)
  conv2d_nchw_grad_weight,  // in = x, g (ConvNchwParams)
  scatter_add,              // gather_grad: in = indices, g (IndexParams)
};
std::string_view kernel_name(Kernel k);
// Whether the runtime has a fast (reordered, bounded) variant of kernel `k` for op `op`; the
// lowering uses the exact-order kernel otherwise (its bound is 0).
bool has_fast_variant(Kernel k, ir::OpKind op);

// A run of the gather kernel: out[dst + t] = in[src][offset + t * step] for t in [0, count), or
// out[dst + t] = the fill value when src is kFillRun (pad's value, slice_grad's zeros).
inline constexpr int32_t kFillRun = -1;
struct GatherRun {
  int32_t src = 0;  // index into the instruction's inputs, or kFillRun
  int64_t dst = 0;
  int64_t offset = 0;
  int64_t count = 0;
  int64_t step = 1;
};
struct GatherParams {
  std::vector<GatherRun> runs;
  double fill = 0;  // converted to T as the reference converts the attribute
};
struct RandParams {
  uint64_t key = 0;  // splitmix64(seed + node id)
  int64_t n = 0;
};
struct ElementwiseParams {
  ir::OpKind op = ir::OpKind::relu;
  int64_t n = 0;
};
// One step of a fused chain: the chain value v becomes op(v) (unary), op(v, in[operand]) or
// op(in[operand], v) (binary; `value_first` says which side v is on).
struct FusedStep {
  ir::OpKind op = ir::OpKind::relu;
  int32_t operand = -1;  // index into the instruction's inputs for a binary step; -1 for unary
  bool value_first = true;
  bool scalar = false;  // the operand input holds one element, read at every position
};
// The longest elementwise chain fused into one instruction, and so its most inputs.
inline constexpr int kMaxFusedSteps = 8;
inline constexpr int kMaxFusedInputs = kMaxFusedSteps + 1;
// The chain starts from op(in[0]) (a unary first op) or op(in[0], in[operand]) (a binary one;
// op(in[operand], in[0]) when its value_first is false).
struct FusedParams {
  std::vector<FusedStep> steps;
  int64_t n = 0;
};
// C[b] = A[b] · op(B[b]) (+ bias), op(B) = B^T when b_transposed (linear's W is (out, in)).
// Leading dims are the natural row-major ones: lda = k, ldb = b_transposed ? k : n, ldc = n.
struct GemmParams {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool b_transposed = false;
  bool bias = false;  // in[2] is the bias (length n), added after the fold
};
// The GEMM of batch item `q` of a gemm instruction, over its argument and output slots.
template <class T>
GemmProblem<T> gemm_problem(const GemmParams& p, const T* a, const T* b, const T* bias, T* c,
                            int64_t q) {
  GemmProblem<T> g;
  g.m = p.m;
  g.n = p.n;
  g.k = p.k;
  g.a = a + q * p.m * p.k;
  g.lda = p.k;
  g.b = b + q * p.k * p.n;
  g.ldb = p.b_transposed ? p.k : p.n;
  g.b_transposed = p.b_transposed;
  g.c = c == nullptr ? nullptr : c + q * p.m * p.n;
  g.ldc = p.n;
  g.bias = p.bias ? bias : nullptr;
  return g;
}
struct ConvParams {
  int64_t in_c = 0, in_h = 0, in_w = 0, out_c = 0, k_h = 0, k_w = 0, stride = 1, padding = 0;
  int64_t out_h = 0, out_w = 0;
};
struct PoolParams {
  int64_t channels = 0, in_h = 0, in_w = 0, k_h = 0, k_w = 0, stride = 1, padding = 0;
  int64_t out_h = 0, out_w = 0;
};
// A reduction's view of its input as (outer, len, inner), row-major, reducing over `len`.
struct AxisParams {
  int64_t outer = 1, len = 0, inner = 1;
};
// An elementwise op with attributes (the node's own, as the reference reads them).
struct MapParams {
  ir::OpKind op = ir::OpKind::pow_const;
  int64_t n = 0;
  ir::Attrs attrs;
  // Bit k: input k holds one element, read at every position (compare's second input, where's
  // second and third; the compiler's scalar operands, docs/runtime.md "Fusion").
  uint8_t scalar_inputs = 0;
};
struct ConvNchwParams {
  ConvNchwGeometry geom;
  bool bias = false;  // in[2] is the bias (forward conv only)
};
// NCHW pooling: N*C planes of in_h x in_w, windows k_h x k_w at (oh*stride_h - pad_top,
// ow*stride_w - pad_left); out_h/out_w come from the checked node shape (ceil_mode included).
struct PoolNchwParams {
  int64_t planes = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0, k_h = 1, k_w = 1;
  int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;
};
// gather / gather_grad: data viewed as (outer, axis_len, inner), `count` indices; the gathered
// tensor is (outer, count, inner).
struct IndexParams {
  int64_t outer = 1, axis_len = 0, inner = 1, count = 0;
};
using InstrParams =
    std::variant<GatherParams, RandParams, ElementwiseParams, FusedParams, GemmParams, ConvParams,
                 PoolParams, AxisParams, MapParams, ConvNchwParams, PoolNchwParams, IndexParams>;

struct Instr {
  Kernel kernel = Kernel::gather;
  KernelMode mode = KernelMode::exact;
  std::vector<int64_t> nodes;  // IR nodes it computes, in id order; the last is the output's
  std::vector<int32_t> in;     // input slots
  int32_t out = -1;            // output slot
  int32_t workspace = -1;      // scratch arena slot, or -1
  InstrParams params;
};

struct MemoryPlan {
  int64_t arena_bytes = 0;        // the plan's peak: the arena size
  int64_t lower_bound_bytes = 0;  // max over instructions of the bytes of arena values live there
  bool reuse = true;              // false: every value has its own region (no reuse)
};

// The element-type-free program.
struct ProgramCode {
  ElemType elem = ElemType::f32;
  KernelMode mode = KernelMode::exact;
  int threads = 1;
  bool fused = false;
  ir::Graph graph;  // the checked source graph (for messages and the checker)
  std::vector<Slot> slots;
  std::vector<Instr> instrs;
  std::vector<int32_t> node_slot;  // node id -> slot holding its value (-1: not materialised,
                                   // i.e. an intermediate of a fused chain)
  MemoryPlan plan;
};

// Arena regions start at multiples of 64 bytes (one cache line, one AVX-512 register).
inline constexpr int64_t kArenaAlignBytes = 64;

// The program as text: header, slots, instructions, memory plan (docs/runtime.md shows one).
std::string to_text(const ProgramCode& code);

// A graph's payload as runtime tensors of T (binary64 -> T rounds to nearest; NaN becomes the
// canonical quiet NaN, as the reference's F32/F64 conversion does, so both see the same bits).
template <class T>
ir::PayloadStore<T> to_runtime_payload(const ir::Payload& p);

// A compiled program bound to a payload (by reference: the store must outlive the Program and
// must not be resized; values may change between runs) and owning its arena and thread pool.
template <class T>
class Program {
 public:
  Program(ProgramCode code, const ir::PayloadStore<T>& payload);
  ~Program();
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;

  const ProgramCode& code() const { return code_; }
  const ir::PayloadStore<T>& payload() const { return *payload_; }
  int64_t num_inputs() const { return static_cast<int64_t>(code_.graph.input_ids.size()); }
  int64_t num_outputs() const { return static_cast<int64_t>(code_.graph.output_ids.size()); }
  const Shape& input_shape(int64_t i) const;
  const Shape& output_shape(int64_t i) const;

  // The hot path: no shape checks, no allocation. inputs[i] / outputs[i] point to row-major
  // buffers of the graph's i-th input / output shape; outputs must not overlap inputs.
  // Throws EvalError as the reference does (log of x <= 0), naming the node.
  void run(std::span<const T* const> inputs, std::span<T* const> outputs);
  // Convenience: checks counts and shapes, allocates the outputs.
  std::vector<Tensor<T>> run(const std::vector<Tensor<T>>& inputs);

  // Step-wise execution for the equivalence checker: bind buffers, then run instructions one at
  // a time and read (or overwrite) any slot in between.
  void bind(std::span<const T* const> inputs, std::span<T* const> outputs);
  void run_instruction(size_t i);
  const T* slot_data(int32_t slot) const { return ptrs_[static_cast<size_t>(slot)]; }
  // Only arena and output slots are writable.
  T* writable_slot_data(int32_t slot);

  // Test hook: after instruction `instr` runs, flip bit `bit` (0 = the lowest) of its output
  // element `element`, so a test can show the checker catches a wrong kernel. -1 disables it.
  void set_fault_for_testing(int64_t instr, int64_t element, int bit = 0);

 private:
  ProgramCode code_;
  const ir::PayloadStore<T>* payload_;
  std::vector<T> arena_;
  std::vector<T*> ptrs_;                  // slot -> storage, refreshed by bind()
  std::vector<const T*> args_;            // scratch for an instruction's input pointers
  std::vector<ElementwiseChain> chains_;  // per instruction: the kernel chain of a fused one
  std::vector<uint16_t> scalar_inputs_;   // per fused instruction: bit k, input k is a scalar
  std::unique_ptr<ThreadPool> pool_;
  int64_t fault_instr_ = -1, fault_element_ = 0;
  int fault_bit_ = 0;
};

extern template class Program<float>;
extern template class Program<double>;

}  // namespace torchlean::runtime
