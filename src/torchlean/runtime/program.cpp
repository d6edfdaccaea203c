// Names of the Program format's enums, the text form of a program, and payload conversion.
#include "torchlean/runtime/program.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "torchlean/core/error.hpp"

namespace torchlean::runtime {

std::string_view mode_name(KernelMode m) { return m == KernelMode::exact ? "exact" : "fast"; }

std::string_view elem_name(ElemType e) { return e == ElemType::f32 ? "f32" : "f64"; }

std::string_view kernel_name(Kernel k) {
  switch (k) {
    case Kernel::gather:
      return "gather";
    case Kernel::rand_uniform:
      return "rand_uniform";
    case Kernel::bernoulli_mask:
      return "bernoulli_mask";
    case Kernel::unary:
      return "unary";
    case Kernel::binary:
      return "binary";
    case Kernel::fused:
      return "fused";
    case Kernel::gemm:
      return "gemm";
    case Kernel::conv2d:
      return "conv2d";
    case Kernel::max_pool2d:
      return "max_pool2d";
    case Kernel::avg_pool2d:
      return "avg_pool2d";
    case Kernel::sum:
      return "sum";
    case Kernel::reduce_sum:
      return "reduce_sum";
    case Kernel::reduce_mean:
      return "reduce_mean";
    case Kernel::mse_loss:
      return "mse_loss";
    case Kernel::softmax:
      return "softmax";
    case Kernel::layernorm:
      return "layernorm";
    case Kernel::batch_norm:
      return "batch_norm";
    case Kernel::map:
      return "map";
    case Kernel::conv2d_nchw:
      return "conv2d_nchw";
    case Kernel::max_pool2d_nchw:
      return "max_pool2d_nchw";
    case Kernel::avg_pool2d_nchw:
      return "avg_pool2d_nchw";
    case Kernel::index_gather:
      return "index_gather";
    case Kernel::log_softmax:
      return "log_softmax";
    case Kernel::cross_entropy:
      return "cross_entropy";
    case Kernel::max_pool2d_nchw_grad:
      return "max_pool2d_nchw_grad";
    case Kernel::avg_pool2d_nchw_grad:
      return "avg_pool2d_nchw_grad";
    case Kernel::conv2d_nchw_grad_input:
      return "conv2d_nchw_grad_input";
    case Kernel::conv2d_nchw_grad_weight:
      return "conv2d_nchw_grad_weight";
    case Kernel::scatter_add:
      return "scatter_add";
  }
  return "?";
}

namespace {

std::string slot_text(const ProgramCode& code, int32_t id) {
  const Slot& s = code.slots[static_cast<size_t>(id)];
  std::string where;
  switch (s.kind) {
    case SlotKind::input:
      where = "input " + std::to_string(s.index);
      break;
    case SlotKind::output:
      where = "output " + std::to_string(s.index);
      break;
    case SlotKind::param:
      where = "param %" + std::to_string(s.node) + "." + s.param;
      break;
    case SlotKind::arena:
      where = "arena @" + std::to_string(s.offset * (code.elem == ElemType::f32 ? 4 : 8)) +
              (s.node < 0 ? " workspace" : "");
      break;
  }
  std::string line = "s" + std::to_string(id) + " " + where + " " + s.shape.str();
  if (s.node >= 0 && s.kind != SlotKind::param) line += " %" + std::to_string(s.node);
  if (s.kind == SlotKind::arena || s.kind == SlotKind::output)
    line += " live [" + std::to_string(s.first) + "," + std::to_string(s.last) + "]";
  return line;
}

std::string params_text(const Instr& in) {
  std::ostringstream os;
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, GatherParams>) {
          os << "runs=" << p.runs.size();
          for (const GatherRun& r : p.runs)
            if (r.src == kFillRun) {
              os << " fill=" << p.fill;
              break;
            }
        } else if constexpr (std::is_same_v<P, RandParams>) {
          os << "n=" << p.n << " key=" << p.key;
        } else if constexpr (std::is_same_v<P, ElementwiseParams>) {
          os << ir::op_name(p.op) << " n=" << p.n;
        } else if constexpr (std::is_same_v<P, FusedParams>) {
          os << "n=" << p.n << " [";
          for (size_t i = 0; i < p.steps.size(); ++i) {
            const FusedStep& s = p.steps[i];
            os << (i ? "; " : "") << ir::op_name(s.op);
            // A scalar operand reads as "in2[0]": element 0 at every position.
            const std::string operand = "in" + std::to_string(s.operand) + (s.scalar ? "[0]" : "");
            const std::string value = i == 0 ? "in0" : "v";
            if (s.operand < 0)
              os << "(" << value << ")";
            else if (s.value_first)
              os << "(" << value << ", " << operand << ")";
            else
              os << "(" << operand << ", " << value << ")";
          }
          os << "]";
        } else if constexpr (std::is_same_v<P, GemmParams>) {
          if (p.batch != 1) os << "batch=" << p.batch << " ";
          os << "m=" << p.m << " n=" << p.n << " k=" << p.k << (p.b_transposed ? " B^T" : "")
             << (p.bias ? " +bias" : "");
        } else if constexpr (std::is_same_v<P, ConvParams>) {
          os << "in=(" << p.in_c << "," << p.in_h << "," << p.in_w << ") out=(" << p.out_c << ","
             << p.out_h << "," << p.out_w << ") k=" << p.k_h << "x" << p.k_w
             << " stride=" << p.stride << " pad=" << p.padding;
        } else if constexpr (std::is_same_v<P, PoolParams>) {
          os << "in=(" << p.channels << "," << p.in_h << "," << p.in_w << ") out=(" << p.channels
             << "," << p.out_h << "," << p.out_w << ") k=" << p.k_h << "x" << p.k_w
             << " stride=" << p.stride << " pad=" << p.padding;
        } else if constexpr (std::is_same_v<P, AxisParams>) {
          os << "outer=" << p.outer << " len=" << p.len << " inner=" << p.inner;
        } else if constexpr (std::is_same_v<P, MapParams>) {
          os << ir::op_name(p.op) << " n=" << p.n;
          const std::string a = ir::attrs_to_string(p.attrs);
          if (!a.empty()) os << " " << a;
          for (int k = 0; k < 8; ++k)
            if ((p.scalar_inputs >> k) & 1) os << " in" << k << "[0]";
        } else if constexpr (std::is_same_v<P, ConvNchwParams>) {
          const ConvNchwGeometry& g = p.geom;
          os << "in=(" << g.batch << "," << g.in_c << "," << g.in_h << "," << g.in_w << ") out=("
             << g.batch << "," << g.out_c << "," << g.out_h << "," << g.out_w << ") k=" << g.k_h
             << "x" << g.k_w << " stride=" << g.stride_h << "x" << g.stride_w << " pad=("
             << g.pad_top << "," << g.pad_left << "," << g.pad_bottom << "," << g.pad_right
             << ") dilation=" << g.dilation_h << "x" << g.dilation_w << " groups=" << g.groups
             << (p.bias ? " +bias" : "");
        } else if constexpr (std::is_same_v<P, PoolNchwParams>) {
          os << "planes=" << p.planes << " in=" << p.in_h << "x" << p.in_w << " out=" << p.out_h
             << "x" << p.out_w << " k=" << p.k_h << "x" << p.k_w << " stride=" << p.stride_h << "x"
             << p.stride_w << " pad=(" << p.pad_top << "," << p.pad_left << "," << p.pad_bottom
             << "," << p.pad_right << ")" << (p.count_include_pad ? " count_include_pad" : "");
        } else if constexpr (std::is_same_v<P, IndexParams>) {
          os << "outer=" << p.outer << " axis=" << p.axis_len << " inner=" << p.inner
             << " indices=" << p.count;
        }
      },
      in.params);
  return os.str();
}

std::string ratio_text(int64_t peak, int64_t lower) {
  if (lower == 0) return peak == 0 ? "1.000" : "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(peak) / static_cast<double>(lower));
  return buf;
}

}  // namespace

std::string to_text(const ProgramCode& code) {
  std::ostringstream os;
  os << "program " << elem_name(code.elem) << " " << mode_name(code.mode)
     << " fuse=" << (code.fused ? "on" : "off") << " reuse=" << (code.plan.reuse ? "on" : "off")
     << ": " << code.instrs.size() << " instructions, " << code.slots.size() << " slots\n";
  os << "slots:\n";
  for (size_t i = 0; i < code.slots.size(); ++i)
    os << "  " << slot_text(code, static_cast<int32_t>(i)) << "\n";
  os << "instructions:\n";
  for (size_t i = 0; i < code.instrs.size(); ++i) {
    const Instr& in = code.instrs[i];
    os << "  i" << i << " " << kernel_name(in.kernel) << "." << mode_name(in.mode) << " ";
    for (size_t k = 0; k < in.nodes.size(); ++k)
      os << (k ? "," : "") << "%" << in.nodes[k] << ":"
         << ir::op_name(code.graph.node(in.nodes[k]).kind);
    os << " (";
    for (size_t k = 0; k < in.in.size(); ++k) os << (k ? ", " : "") << "s" << in.in[k];
    os << ") -> s" << in.out;
    if (in.workspace >= 0) os << " ws s" << in.workspace;
    os << " " << params_text(in) << "\n";
  }
  os << "memory: arena " << code.plan.arena_bytes << " bytes, liveness lower bound "
     << code.plan.lower_bound_bytes << " bytes, ratio "
     << ratio_text(code.plan.arena_bytes, code.plan.lower_bound_bytes) << "\n";
  return os.str();
}

template <class T>
ir::PayloadStore<T> to_runtime_payload(const ir::Payload& p) {
  ir::PayloadStore<T> out;
  for (const auto& [id, slots] : p) {
    for (const auto& [name, t] : slots) {
      std::vector<T> v;
      v.reserve(t.vec().size());
      for (double x : t.vec())
        v.push_back(std::isnan(x) ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(x));
      out[id].emplace(name, Tensor<T>(t.shape(), std::move(v)));
    }
  }
  return out;
}

template ir::PayloadStore<float> to_runtime_payload(const ir::Payload&);
template ir::PayloadStore<double> to_runtime_payload(const ir::Payload&);

}  // namespace torchlean::runtime
