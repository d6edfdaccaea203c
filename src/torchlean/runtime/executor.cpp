// Running a Program: binding buffers to slots and dispatching each instruction to its kernel.
// Nothing here allocates once the Program is built (the arena, the slot pointer table and the
// thread pool are created by the constructor; kernels get raw pointers), and nothing checks
// shapes: the compiler did that once. Kernel errors (log of x <= 0) come back as flags and are
// turned into the reference evaluator's EvalError message after the instruction.
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/runtime/conv.hpp"
#include "torchlean/runtime/conv_nchw.hpp"
#include "torchlean/runtime/elementwise.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/index_kernels.hpp"
#include "torchlean/runtime/layout_kernels.hpp"
#include "torchlean/runtime/loss_kernels.hpp"
#include "torchlean/runtime/map_kernels.hpp"
#include "torchlean/runtime/pool_nchw.hpp"
#include "torchlean/runtime/program.hpp"
#include "torchlean/runtime/reduce.hpp"
#include "torchlean/runtime/thread_pool.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::runtime {

static_assert(kMaxFusedSteps <= kMaxChainSteps, "a fused instruction must fit one kernel chain");

bool has_fast_variant(Kernel k, ir::OpKind op) {
  if (k == Kernel::unary) {
    const std::optional<UnaryOp> u = unary_op_of(op);
    return u && unary_has_fast_variant(*u);
  }
  return k == Kernel::gemm || k == Kernel::conv2d || k == Kernel::conv2d_nchw || k == Kernel::sum ||
         k == Kernel::reduce_sum || k == Kernel::reduce_mean || k == Kernel::mse_loss;
}

namespace {

// The elementwise kernels' form of a fused instruction (built once, by the constructor).
ElementwiseChain elementwise_chain(const FusedParams& p) {
  ElementwiseChain chain;
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const FusedStep& s = p.steps[i];
    const ChainOperand v = i == 0 ? ChainOperand::array(0) : ChainOperand::value();
    if (s.operand < 0) {
      const std::optional<UnaryOp> u = unary_op_of(s.op);
      TL_INTERNAL_CHECK(u.has_value(), "fused step " + std::to_string(i) + " is not unary");
      chain.then(ChainStep::of(*u, v));
    } else {
      const std::optional<BinaryOp> b = binary_op_of(s.op);
      TL_INTERNAL_CHECK(b.has_value(), "fused step " + std::to_string(i) + " is not binary");
      const auto index = static_cast<uint8_t>(s.operand);
      const ChainOperand other =
          s.scalar ? ChainOperand::scalar(index) : ChainOperand::array(index);
      chain.then(s.value_first ? ChainStep::of(*b, v, other) : ChainStep::of(*b, other, v));
    }
  }
  return chain;
}

// Elementwise work is split into chunks of this many elements; chunks are independent, so the
// split never changes a result.
constexpr int64_t kChunk = int64_t{1} << 14;

template <class T>
std::string value_text(T v) {
  return to_string(IeeeScalar<T>{v});
}

// Splits `rows` independent rows of `row_elems` elements each into tasks of about kChunk elements
// (at least one row each). Rows do not interact, so the split never changes a result.
template <class F>
void for_rows(ThreadPool* pool, int64_t rows, int64_t row_elems, F&& fn) {
  if (rows <= 0) return;
  const int64_t per_task = std::max<int64_t>(1, kChunk / std::max<int64_t>(1, row_elems));
  const int64_t tasks = (rows + per_task - 1) / per_task;
  if (tasks <= 1) {
    fn(int64_t{0}, rows);
    return;
  }
  pool->parallel_for(tasks,
                     [&](int64_t t) { fn(t * per_task, std::min(rows, (t + 1) * per_task)); });
}

template <class T>
[[noreturn]] void throw_log_error(const ir::Node& node, int64_t index, T value) {
  throw EvalError(ir::detail::node_prefix(node) + "argument at index " + std::to_string(index) +
                  " is " + value_text(value) + ", not positive");
}

template <class F>
void for_chunks(ThreadPool* pool, int64_t n, F&& fn) {
  const int64_t tasks = (n + kChunk - 1) / kChunk;
  if (tasks <= 1) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  pool->parallel_for(tasks, [&](int64_t t) { fn(t * kChunk, std::min(n, (t + 1) * kChunk)); });
}

}  // namespace

template <class T>
Program<T>::Program(ProgramCode code, const ir::PayloadStore<T>& payload)
    : code_(std::move(code)), payload_(&payload) {
  TL_INTERNAL_CHECK(code_.elem == elem_type_of<T>(),
                    "Program: code lowered for " + std::string(elem_name(code_.elem)));
  arena_.assign(static_cast<size_t>(code_.plan.arena_bytes) / sizeof(T), T(0));
  ptrs_.assign(code_.slots.size(), nullptr);
  for (size_t i = 0; i < code_.slots.size(); ++i) {
    const Slot& s = code_.slots[i];
    if (s.kind == SlotKind::arena) {
      ptrs_[i] = arena_.data() + s.offset;
    } else if (s.kind == SlotKind::param) {
      const ir::Node& n = code_.graph.node(s.node);
      auto node_it = payload.find(s.node);
      const Tensor<T>* t = nullptr;
      if (node_it != payload.end()) {
        auto it = node_it->second.find(s.param);
        if (it != node_it->second.end()) t = &it->second;
      }
      TL_USER_CHECK(t != nullptr,
                    ir::detail::node_prefix(n) + "missing payload slot '" + s.param + "'");
      TL_USER_CHECK(t->numel() == s.numel, ir::detail::node_prefix(n) + "payload '" + s.param +
                                               "' has shape " + t->shape().str() + ", expected " +
                                               s.shape.str());
      ptrs_[i] = const_cast<T*>(t->data().data());  // never written: params are inputs only
    }
  }
  size_t max_inputs = 0;
  for (const Instr& in : code_.instrs) max_inputs = std::max(max_inputs, in.in.size());
  args_.assign(max_inputs, nullptr);
  chains_.resize(code_.instrs.size());
  scalar_inputs_.assign(code_.instrs.size(), 0);
  for (size_t i = 0; i < code_.instrs.size(); ++i) {
    const Instr& in = code_.instrs[i];
    if (in.kernel != Kernel::fused) continue;
    TL_INTERNAL_CHECK(in.in.size() <= static_cast<size_t>(kMaxFusedInputs),
                      "Program: fused instruction i" + std::to_string(i) + " has too many inputs");
    const auto& fp = std::get<FusedParams>(in.params);
    chains_[i] = elementwise_chain(fp);
    for (const FusedStep& s : fp.steps)
      if (s.scalar)
        scalar_inputs_[i] = static_cast<uint16_t>(scalar_inputs_[i] | (1u << s.operand));
    check_chain(chains_[i], static_cast<int>(in.in.size()), static_cast<int>(in.in.size()));
  }
  pool_ = std::make_unique<ThreadPool>(code_.threads);
}

template <class T>
Program<T>::~Program() = default;
template <class T>
Program<T>::Program(Program&&) noexcept = default;
template <class T>
Program<T>& Program<T>::operator=(Program&&) noexcept = default;

template <class T>
const Shape& Program<T>::input_shape(int64_t i) const {
  return code_.graph.node(code_.graph.input_ids.at(static_cast<size_t>(i))).shape;
}

template <class T>
const Shape& Program<T>::output_shape(int64_t i) const {
  return code_.graph.node(code_.graph.output_ids.at(static_cast<size_t>(i))).shape;
}

template <class T>
void Program<T>::bind(std::span<const T* const> inputs, std::span<T* const> outputs) {
  for (size_t i = 0; i < code_.slots.size(); ++i) {
    const Slot& s = code_.slots[i];
    if (s.kind == SlotKind::input)
      ptrs_[i] = const_cast<T*>(inputs[static_cast<size_t>(s.index)]);  // read-only by contract
    else if (s.kind == SlotKind::output)
      ptrs_[i] = outputs[static_cast<size_t>(s.index)];
  }
}

template <class T>
T* Program<T>::writable_slot_data(int32_t slot) {
  const SlotKind k = code_.slots.at(static_cast<size_t>(slot)).kind;
  TL_INTERNAL_CHECK(k == SlotKind::arena || k == SlotKind::output,
                    "Program: slot s" + std::to_string(slot) + " is not writable");
  return ptrs_[static_cast<size_t>(slot)];
}

template <class T>
void Program<T>::set_fault_for_testing(int64_t instr, int64_t element, int bit) {
  fault_instr_ = instr;
  fault_element_ = element;
  fault_bit_ = bit;
}

template <class T>
void Program<T>::run(std::span<const T* const> inputs, std::span<T* const> outputs) {
  bind(inputs, outputs);
  for (size_t i = 0; i < code_.instrs.size(); ++i) run_instruction(i);
}

template <class T>
std::vector<Tensor<T>> Program<T>::run(const std::vector<Tensor<T>>& inputs) {
  TL_USER_CHECK(static_cast<int64_t>(inputs.size()) == num_inputs(),
                "run: graph has " + std::to_string(num_inputs()) + " input(s), got " +
                    std::to_string(inputs.size()));
  std::vector<const T*> in;
  for (int64_t i = 0; i < num_inputs(); ++i) {
    const Tensor<T>& t = inputs[static_cast<size_t>(i)];
    TL_USER_CHECK(t.shape() == input_shape(i), "run: input " + std::to_string(i) +
                                                   " expects shape " + input_shape(i).str() +
                                                   ", got " + t.shape().str());
    in.push_back(t.data().data());
  }
  std::vector<Tensor<T>> outs;
  std::vector<T*> out;
  for (int64_t i = 0; i < num_outputs(); ++i) outs.emplace_back(output_shape(i));
  for (Tensor<T>& t : outs) out.push_back(t.data().data());
  run(std::span<const T* const>(in), std::span<T* const>(out));
  return outs;
}

template <class T>
void Program<T>::run_instruction(size_t i) {
  const Instr& ins = code_.instrs[i];
  auto arg = [&](size_t k) -> const T* { return ptrs_[static_cast<size_t>(ins.in[k])]; };
  T* out = ptrs_[static_cast<size_t>(ins.out)];
  ThreadPool* pool = pool_.get();
  const ir::Node& node = code_.graph.node(ins.nodes.back());
  switch (ins.kernel) {
    case Kernel::gather: {
      const auto& p = std::get<GatherParams>(ins.params);
      for (size_t k = 0; k < ins.in.size(); ++k) args_[k] = arg(k);
      const T fill =
          std::isnan(p.fill) ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(p.fill);
      gather_runs<T>(p.runs, args_.data(), out, fill);
      break;
    }
    case Kernel::rand_uniform: {
      const auto& p = std::get<RandParams>(ins.params);
      rand_uniform<T>(p.key, out, p.n);
      break;
    }
    case Kernel::bernoulli_mask: {
      const auto& p = std::get<RandParams>(ins.params);
      bernoulli_mask<T>(p.key, arg(0)[0], out, p.n);
      break;
    }
    case Kernel::unary: {
      const auto& p = std::get<ElementwiseParams>(ins.params);
      const UnaryOp op = *unary_op_of(p.op);
      const T* x = arg(0);
      const bool fast = ins.mode == KernelMode::fast;
      if (p.op == ir::OpKind::log) {
        // One pass on the calling thread, so the reported index is the first offending one.
        ElementwiseError err;
        if (fast)
          unary_fast<T>(op, x, out, p.n, &err);
        else
          unary_exact<T>(op, x, out, p.n, &err);
        if (err.failed()) throw_log_error(node, err.index, x[err.index]);
      } else {
        for_chunks(pool, p.n, [&](int64_t b, int64_t e) {
          if (fast)
            unary_fast<T>(op, x + b, out + b, e - b);
          else
            unary_exact<T>(op, x + b, out + b, e - b);
        });
      }
      break;
    }
    case Kernel::binary: {
      const auto& p = std::get<ElementwiseParams>(ins.params);
      const BinaryOp op = *binary_op_of(p.op);
      const T* a = arg(0);
      const T* b = arg(1);
      for_chunks(pool, p.n,
                 [&](int64_t s, int64_t e) { binary_exact<T>(op, a + s, b + s, out + s, e - s); });
      break;
    }
    case Kernel::fused: {
      const auto& p = std::get<FusedParams>(ins.params);
      const ElementwiseChain& chain = chains_[i];
      const int64_t arrays = static_cast<int64_t>(ins.in.size());
      // One table of input pointers per chunk would need storage per task; instead each task
      // offsets the shared table's pointers into its own stack copy.
      // Scalar operands are passed by value, indexed like the inputs (scalars[k] = in[k][0]).
      const uint16_t scalar = scalar_inputs_[i];
      T scalars[kMaxFusedInputs] = {};
      for (size_t k = 0; k < ins.in.size(); ++k) {
        args_[k] = arg(k);
        if ((scalar >> k) & 1u) scalars[k] = args_[k][0];
      }
      const T* const* base = args_.data();
      for_chunks(pool, p.n, [&](int64_t s, int64_t e) {
        const T* local[kMaxFusedInputs];
        for (int64_t k = 0; k < arrays; ++k) local[k] = (scalar >> k) & 1u ? base[k] : base[k] + s;
        chain_run<T>(chain, local, scalars, out + s, e - s);
      });
      break;
    }
    case Kernel::gemm: {
      const auto& p = std::get<GemmParams>(ins.params);
      for (int64_t b = 0; b < p.batch; ++b) {
        GemmProblem<T> g = gemm_problem<T>(p, arg(0), arg(1), p.bias ? arg(2) : nullptr, out, b);
        if (ins.mode == KernelMode::fast)
          gemm_fast<T>(g, pool);
        else
          gemm_exact<T>(g, pool);
      }
      break;
    }
    case Kernel::conv2d: {
      const auto& p = std::get<ConvParams>(ins.params);
      T* ws = ins.workspace >= 0 ? ptrs_[static_cast<size_t>(ins.workspace)] : nullptr;
      if (ins.mode == KernelMode::fast)
        conv2d_chw_fast<T>(arg(0), p.in_c, p.in_h, p.in_w, arg(1), arg(2), p.out_c, p.k_h, p.k_w,
                           p.stride, p.padding, out, ws, pool);
      else
        conv2d_chw_exact<T>(arg(0), p.in_c, p.in_h, p.in_w, arg(1), arg(2), p.out_c, p.k_h, p.k_w,
                            p.stride, p.padding, out, ws, pool);
      break;
    }
    case Kernel::max_pool2d:
    case Kernel::avg_pool2d: {
      const auto& p = std::get<PoolParams>(ins.params);
      const T* x = arg(0);
      const bool max = ins.kernel == Kernel::max_pool2d;
      const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
      for_rows(pool, p.channels, in_plane + out_plane, [&](int64_t c0, int64_t c1) {
        const PoolGeometry g{c1 - c0, p.in_h, p.in_w,   p.out_h,  p.out_w,
                             p.k_h,   p.k_w,  p.stride, p.padding};
        if (max)
          max_pool2d_exact<T>(x + c0 * in_plane, out + c0 * out_plane, g);
        else
          avg_pool2d_exact<T>(x + c0 * in_plane, out + c0 * out_plane, g);
      });
      break;
    }
    case Kernel::sum: {
      const auto& p = std::get<AxisParams>(ins.params);
      out[0] =
          ins.mode == KernelMode::fast ? sum_fast<T>(arg(0), p.len) : sum_exact<T>(arg(0), p.len);
      break;
    }
    case Kernel::mse_loss: {
      const auto& p = std::get<AxisParams>(ins.params);
      out[0] = ins.mode == KernelMode::fast ? mse_loss_fast<T>(arg(0), arg(1), p.len)
                                            : mse_loss_exact<T>(arg(0), arg(1), p.len);
      break;
    }
    case Kernel::reduce_sum:
    case Kernel::reduce_mean: {
      const auto& p = std::get<AxisParams>(ins.params);
      const T* x = arg(0);
      const bool mean = ins.kernel == Kernel::reduce_mean, fast = ins.mode == KernelMode::fast;
      for_rows(pool, p.outer, p.len * p.inner, [&](int64_t o0, int64_t o1) {
        const T* xs = x + o0 * p.len * p.inner;
        T* ys = out + o0 * p.inner;
        const int64_t rows = o1 - o0;
        if (mean)
          fast ? reduce_mean_fast<T>(xs, ys, rows, p.len, p.inner)
               : reduce_mean_exact<T>(xs, ys, rows, p.len, p.inner);
        else
          fast ? reduce_sum_fast<T>(xs, ys, rows, p.len, p.inner)
               : reduce_sum_exact<T>(xs, ys, rows, p.len, p.inner);
      });
      break;
    }
    case Kernel::softmax: {
      const auto& p = std::get<AxisParams>(ins.params);
      const T* x = arg(0);
      const int64_t row = p.len * p.inner;
      for_rows(pool, p.outer, row, [&](int64_t o0, int64_t o1) {
        softmax_exact<T>(x + o0 * row, out + o0 * row, o1 - o0, p.len, p.inner);
      });
      break;
    }
    case Kernel::layernorm: {
      const auto& p = std::get<AxisParams>(ins.params);
      const T* x = arg(0);
      for_rows(pool, p.outer, p.len, [&](int64_t r0, int64_t r1) {
        layernorm_exact<T>(x + r0 * p.len, out + r0 * p.len, r1 - r0, p.len);
      });
      break;
    }
    case Kernel::batch_norm: {
      const auto& p = std::get<AxisParams>(ins.params);
      const T* x = arg(0);
      const T *gamma = arg(1), *beta = arg(2), *mean = arg(3), *var = arg(4), eps = arg(5)[0];
      const int64_t image = p.len * p.inner;
      for_rows(pool, p.outer, image, [&](int64_t n0, int64_t n1) {
        batch_norm_exact<T>(x + n0 * image, gamma, beta, mean, var, eps, out + n0 * image, n1 - n0,
                            p.len, p.inner);
      });
      break;
    }
    case Kernel::map: {
      const auto& p = std::get<MapParams>(ins.params);
      if (const int64_t bad = map_domain_error<T>(p, arg(0), p.n); bad >= 0)
        throw EvalError(ir::detail::node_prefix(node) + "base at index " + std::to_string(bad) +
                        " is " + value_text(arg(0)[bad]) + ", but x^" +
                        std::to_string(std::get<ir::PowAttrs>(p.attrs).exponent) +
                        " = exp(p*log x) needs x > 0");
      for (size_t k = 0; k < ins.in.size(); ++k) args_[k] = arg(k);
      const T* const* a = args_.data();
      for_chunks(pool, p.n, [&](int64_t s, int64_t e) { map_exact<T>(p, a, out, s, e); });
      break;
    }
    case Kernel::conv2d_nchw: {
      const auto& p = std::get<ConvNchwParams>(ins.params);
      T* ws = ins.workspace >= 0 ? ptrs_[static_cast<size_t>(ins.workspace)] : nullptr;
      const T* bias = p.bias ? arg(2) : nullptr;
      if (ins.mode == KernelMode::fast)
        conv2d_nchw_fast<T>(p.geom, arg(0), arg(1), bias, out, ws, pool);
      else
        conv2d_nchw_exact<T>(p.geom, arg(0), arg(1), bias, out, ws, pool);
      break;
    }
    case Kernel::conv2d_nchw_grad_input: {
      const auto& p = std::get<ConvNchwParams>(ins.params);
      T* ws = ins.workspace >= 0 ? ptrs_[static_cast<size_t>(ins.workspace)] : nullptr;
      conv2d_nchw_grad_input_exact<T>(p.geom, arg(0), arg(1), out, ws, pool);
      break;
    }
    case Kernel::conv2d_nchw_grad_weight: {
      const auto& p = std::get<ConvNchwParams>(ins.params);
      T* ws = ins.workspace >= 0 ? ptrs_[static_cast<size_t>(ins.workspace)] : nullptr;
      conv2d_nchw_grad_weight_exact<T>(p.geom, arg(0), arg(1), out, ws, pool);
      break;
    }
    case Kernel::max_pool2d_nchw:
    case Kernel::avg_pool2d_nchw:
    case Kernel::max_pool2d_nchw_grad:
    case Kernel::avg_pool2d_nchw_grad: {
      const auto& p = std::get<PoolNchwParams>(ins.params);
      const T* a0 = arg(0);
      const T* a1 = ins.in.size() > 1 ? arg(1) : nullptr;
      const Kernel k = ins.kernel;
      for_rows(pool, p.planes, p.in_h * p.in_w + p.out_h * p.out_w, [&](int64_t c0, int64_t c1) {
        if (k == Kernel::max_pool2d_nchw)
          max_pool2d_nchw_exact<T>(p, a0, out, c0, c1);
        else if (k == Kernel::avg_pool2d_nchw)
          avg_pool2d_nchw_exact<T>(p, a0, out, c0, c1);
        else if (k == Kernel::max_pool2d_nchw_grad)
          max_pool2d_nchw_grad_exact<T>(p, a0, a1, out, c0, c1);
        else
          avg_pool2d_nchw_grad_exact<T>(p, a0, out, c0, c1);
      });
      break;
    }
    case Kernel::index_gather:
    case Kernel::scatter_add: {
      const auto& p = std::get<IndexParams>(ins.params);
      const bool gather = ins.kernel == Kernel::index_gather;
      const T* indices = gather ? arg(1) : arg(0);
      const IndexError err = check_indices<T>(indices, p.count, p.axis_len, true);
      if (err.failed()) throw_index_error(node, "index", err);
      if (gather)
        gather_exact<T>(p, arg(0), indices, out);
      else
        scatter_add_exact<T>(p, indices, arg(1), out);
      break;
    }
    case Kernel::log_softmax: {
      const auto& p = std::get<AxisParams>(ins.params);
      const T* x = arg(0);
      const int64_t row = p.len * p.inner;
      for_rows(pool, p.outer, row, [&](int64_t o0, int64_t o1) {
        log_softmax_exact<T>(x + o0 * row, out + o0 * row, o1 - o0, p.len, p.inner);
      });
      break;
    }
    case Kernel::cross_entropy: {
      const auto& p = std::get<AxisParams>(ins.params);
      const IndexError err = check_indices<T>(arg(1), p.outer, p.len, false);
      if (err.failed()) throw_index_error(node, "target", err);
      out[0] = cross_entropy_exact<T>(arg(0), arg(1), p.outer, p.len);
      break;
    }
  }
  if (static_cast<int64_t>(i) == fault_instr_ && fault_element_ >= 0 &&
      fault_element_ < code_.slots[static_cast<size_t>(ins.out)].numel) {
    using Bits = typename IeeeScalar<T>::Bits;
    T& v = out[fault_element_];
    v = std::bit_cast<T>(static_cast<Bits>(std::bit_cast<Bits>(v) ^ (Bits{1} << fault_bit_)));
  }
}

template class Program<float>;
template class Program<double>;

}  // namespace torchlean::runtime
