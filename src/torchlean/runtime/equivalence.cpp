// The equivalence checker (see equivalence.hpp). The Program runs instruction by instruction on
// its real memory plan, so a planning error (two live values sharing bytes) shows up as a wrong
// value at the first instruction that reads the clobbered one. In fast programs every
// instruction's input slots are first overwritten with the reference values of their nodes, so
// each fast kernel is judged against its own declared bound on the reference's inputs
// (node-local), not against the accumulated drift of earlier fast kernels.
#include "torchlean/runtime/equivalence.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "torchlean/core/error.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/runtime/conv.hpp"
#include "torchlean/runtime/conv_nchw.hpp"
#include "torchlean/runtime/elementwise.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/reduce.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::runtime {

namespace {

std::string number_text(double v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%a (%.9g)", v, v);
  return buf;
}

std::string multi_index(const Shape& s, int64_t flat) {
  std::vector<int64_t> idx(static_cast<size_t>(s.rank()), 0);
  for (int64_t a = s.rank(); a-- > 0;) {
    idx[static_cast<size_t>(a)] = s[a] == 0 ? 0 : flat % s[a];
    flat = s[a] == 0 ? 0 : flat / s[a];
  }
  std::string out = "[";
  for (size_t i = 0; i < idx.size(); ++i) out += (i ? "," : "") + std::to_string(idx[i]);
  return out + "]";
}

std::string shapes_text(const ir::Graph& g, const ir::Node& n) {
  std::string out = n.shape.str();
  for (size_t i = 0; i < n.parents.size(); ++i)
    out += (i ? ", " : " <- ") + g.node(n.parents[i]).shape.str();
  return out;
}

template <class T>
std::vector<Tensor<IeeeScalar<T>>> reference_inputs(const std::vector<Tensor<T>>& xs) {
  std::vector<Tensor<IeeeScalar<T>>> out;
  for (const Tensor<T>& x : xs) {
    std::vector<IeeeScalar<T>> v;
    v.reserve(x.vec().size());
    for (T e : x.vec()) v.push_back(IeeeScalar<T>{e});  // the same bits, NaN payloads included
    out.emplace_back(x.shape(), std::move(v));
  }
  return out;
}

template <class T>
ir::PayloadStore<IeeeScalar<T>> reference_payload(const ir::PayloadStore<T>& p) {
  ir::PayloadStore<IeeeScalar<T>> out;
  for (const auto& [id, slots] : p)
    for (const auto& [name, t] : slots) {
      std::vector<IeeeScalar<T>> v;
      v.reserve(t.vec().size());
      for (T e : t.vec()) v.push_back(IeeeScalar<T>{e});
      out[id].emplace(name, Tensor<IeeeScalar<T>>(t.shape(), std::move(v)));
    }
  return out;
}

// The bound a fast instruction declares for its current inputs: bound[e] >= |fast - reference|,
// where ref is the reference value of the instruction's node.
template <class T>
void fast_bound(const Instr& ins, const Program<T>& prog, const Tensor<IeeeScalar<T>>& ref,
                double* bound) {
  auto arg = [&](size_t k) { return prog.slot_data(ins.in[k]); };
  switch (ins.kernel) {
    case Kernel::gemm: {
      const auto& p = std::get<GemmParams>(ins.params);
      std::vector<T> b(static_cast<size_t>(p.m * p.n));
      for (int64_t q = 0; q < p.batch; ++q) {
        GemmProblem<T> g = gemm_problem<T>(p, arg(0), arg(1), p.bias ? arg(2) : nullptr, nullptr, q);
        gemm_fast_bound<T>(g, b.data(), p.n, nullptr);
        for (int64_t e = 0; e < p.m * p.n; ++e)
          bound[q * p.m * p.n + e] = static_cast<double>(b[static_cast<size_t>(e)]);
      }
      return;
    }
    case Kernel::conv2d: {
      const auto& p = std::get<ConvParams>(ins.params);
      std::vector<T> ws(
          conv2d_workspace_elems(p.in_c, p.in_h, p.in_w, p.k_h, p.k_w, p.stride, p.padding));
      std::vector<T> b(static_cast<size_t>(ref.numel()));
      conv2d_chw_fast_bound<T>(arg(0), p.in_c, p.in_h, p.in_w, arg(1), arg(2), p.out_c, p.k_h,
                               p.k_w, p.stride, p.padding, b.data(), ws.data(), nullptr);
      for (int64_t e = 0; e < ref.numel(); ++e)
        bound[e] = static_cast<double>(b[static_cast<size_t>(e)]);
      return;
    }
    case Kernel::conv2d_nchw: {
      const auto& p = std::get<ConvNchwParams>(ins.params);
      std::vector<T> b(static_cast<size_t>(ref.numel()));
      conv2d_nchw_fast_bound<T>(p.geom, arg(0), arg(1), p.bias ? arg(2) : nullptr, b.data());
      for (int64_t e = 0; e < ref.numel(); ++e)
        bound[e] = static_cast<double>(b[static_cast<size_t>(e)]);
      return;
    }
    case Kernel::sum:
      bound[0] = sum_fast_bound<T>(arg(0), std::get<AxisParams>(ins.params).len);
      return;
    case Kernel::mse_loss:
      bound[0] = mse_loss_fast_bound<T>(arg(0), arg(1), std::get<AxisParams>(ins.params).len);
      return;
    case Kernel::reduce_sum:
    case Kernel::reduce_mean: {
      const auto& p = std::get<AxisParams>(ins.params);
      if (ins.kernel == Kernel::reduce_sum)
        reduce_sum_fast_bound<T>(arg(0), bound, p.outer, p.len, p.inner);
      else
        reduce_mean_fast_bound<T>(arg(0), bound, p.outer, p.len, p.inner);
      return;
    }
    case Kernel::unary: {
      const UnaryOp op = *unary_op_of(std::get<ElementwiseParams>(ins.params).op);
      for (int64_t e = 0; e < ref.numel(); ++e) bound[e] = unary_fast_bound<T>(op, ref[e].v);
      return;
    }
    default:
      throw InternalError("check_equivalence: fast kernel " + std::string(kernel_name(ins.kernel)) +
                          " declares no bound");
  }
}

// Compares a slot with the reference value of `node`; fills `m` and returns false on a mismatch.
// One element against its bound: the same bits; or a +inf bound (the kernel makes no claim, e.g.
// GEMM with a non-finite input); or within_fast_bound's rigorous test (the difference enclosed
// with outward rounding, so the comparison itself cannot accept a result outside the bound).
template <class T>
bool within(T ours, T ref, double bound) {
  if (bound == std::numeric_limits<double>::infinity()) return true;
  return within_fast_bound<T>(ours, ref, bound);
}

template <class T>
bool compare(const ProgramCode& code, int64_t instr, int64_t node, const T* ours,
             const Tensor<IeeeScalar<T>>& ref, const double* bound, CheckReport& rep, Mismatch& m) {
  using Bits = typename IeeeScalar<T>::Bits;
  int64_t worst = -1, bad = 0;
  double worst_excess = -1;
  for (int64_t e = 0; e < ref.numel(); ++e) {
    const T o = ours[e], r = ref[e].v;
    bool ok;
    if (bound == nullptr) {
      ok = std::bit_cast<Bits>(o) == std::bit_cast<Bits>(r);
    } else {
      ok = within<T>(o, r, bound[e]);
      const double d = std::fabs(static_cast<double>(o) - static_cast<double>(r));
      if (ok && bound[e] > 0 && std::isfinite(bound[e]) && std::isfinite(d))
        rep.worst_bound_use = std::max(rep.worst_bound_use, d / bound[e]);
    }
    if (ok) continue;
    ++bad;
    double d = std::fabs(static_cast<double>(o) - static_cast<double>(r));
    double excess =
        std::isnan(d) ? std::numeric_limits<double>::infinity() : d - (bound ? bound[e] : 0.0);
    if (std::isnan(excess)) excess = std::numeric_limits<double>::infinity();
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = e;
    }
  }
  if (bad == 0) return true;
  const ir::Node& n = code.graph.node(node);
  m.instr = instr;
  m.node = node;
  m.op = std::string(ir::op_name(n.kind));
  if (instr >= 0) {
    const Instr& ins = code.instrs[static_cast<size_t>(instr)];
    m.kernel = std::string(kernel_name(ins.kernel)) + "." + std::string(mode_name(ins.mode));
  }
  m.shapes = shapes_text(code.graph, n);
  m.index = worst;
  m.where = multi_index(n.shape, worst);
  m.ours = static_cast<double>(ours[worst]);
  m.reference = static_cast<double>(ref[worst].v);
  m.bound = bound ? bound[worst] : 0.0;
  m.bad_elements = bad;
  return false;
}

}  // namespace

std::string CheckReport::text() const {
  std::ostringstream os;
  os << "check " << mode_name(mode) << ": ";
  if (ok && !eval_error.empty()) {
    os << "OK: the program and the reference evaluator raise the same error: " << eval_error;
    return os.str();
  }
  if (ok) {
    os << "OK: " << instructions << " instructions, " << nodes_compared
       << " nodes compared with the reference";
    if (nodes_fused > 0) os << " (" << nodes_fused << " more inside fused chains)";
    if (mode == KernelMode::fast && instructions > exact_instructions) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3g", worst_bound_use);
      os << "; " << exact_instructions << " bit-identical, " << (instructions - exact_instructions)
         << " within their declared bounds (largest |ours - reference| / bound: " << buf << ")";
    } else {
      os << ", all bit-identical";
    }
    return os.str();
  }
  os << "FAILED";
  if (!eval_error.empty()) {
    os << ": " << eval_error;
    return os.str();
  }
  if (!mismatch) return os.str();
  const Mismatch& m = *mismatch;
  os << " at ";
  if (m.instr >= 0)
    os << "instruction i" << m.instr << " (" << m.kernel << "), ";
  else
    os << "a bound value, ";
  os << "node %" << m.node << " " << m.op << ", shapes " << m.shapes << "\n  worst element "
     << m.where << " (flat " << m.index << "): ours " << number_text(m.ours) << ", reference "
     << number_text(m.reference) << ", bound ";
  if (m.bound == 0)
    os << "0 (bit equality)";
  else
    os << number_text(m.bound);
  os << "; " << m.bad_elements << " element(s) outside";
  return os.str();
}

template <class T>
CheckReport check_equivalence(Program<T>& prog, const std::vector<Tensor<T>>& inputs) {
  using S = IeeeScalar<T>;
  const ProgramCode& code = prog.code();
  const ir::Graph& g = code.graph;
  CheckReport rep;
  rep.mode = code.mode;
  TL_USER_CHECK(static_cast<int64_t>(inputs.size()) == prog.num_inputs(),
                "check: graph has " + std::to_string(prog.num_inputs()) + " input(s), got " +
                    std::to_string(inputs.size()));
  std::vector<const T*> in_ptrs;
  for (int64_t i = 0; i < prog.num_inputs(); ++i) {
    const Tensor<T>& t = inputs[static_cast<size_t>(i)];
    TL_USER_CHECK(t.shape() == prog.input_shape(i),
                  "check: input " + std::to_string(i) + " expects shape " +
                      prog.input_shape(i).str() + ", got " + t.shape().str());
    in_ptrs.push_back(t.data().data());
  }
  std::vector<Tensor<T>> outs;
  std::vector<T*> out_ptrs;
  for (int64_t i = 0; i < prog.num_outputs(); ++i) outs.emplace_back(prog.output_shape(i));
  for (Tensor<T>& t : outs) out_ptrs.push_back(t.data().data());

  std::vector<Tensor<S>> ref;
  std::string ref_error;
  try {
    ref = interp::evaluate<S>(g, reference_payload(prog.payload()), reference_inputs(inputs));
  } catch (const EvalError& e) {
    ref_error = e.what();
  }
  prog.bind(std::span<const T* const>(in_ptrs), std::span<T* const>(out_ptrs));

  if (!ref_error.empty()) {
    try {
      for (size_t i = 0; i < code.instrs.size(); ++i) prog.run_instruction(i);
    } catch (const EvalError& e) {
      rep.ok = ref_error == e.what();
      rep.eval_error = rep.ok ? ref_error
                              : "the reference raises \"" + ref_error +
                                    "\" but the program raises \"" + e.what() + "\"";
      return rep;
    }
    rep.eval_error = "the reference raises \"" + ref_error + "\" but the program does not";
    return rep;
  }

  std::vector<bool> seen(g.nodes.size(), false);
  Mismatch m;
  auto check_node = [&](int64_t instr, int64_t node, int32_t slot, const double* bound) {
    if (!compare(code, instr, node, prog.slot_data(slot), ref[static_cast<size_t>(node)], bound,
                 rep, m)) {
      rep.mismatch = m;
      return false;
    }
    if (!seen[static_cast<size_t>(node)]) ++rep.nodes_compared;
    seen[static_cast<size_t>(node)] = true;
    return true;
  };
  // Values bound before the first instruction: inputs, constants, and their aliases.
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const int32_t s = code.node_slot[v];
    if (s < 0) continue;
    const SlotKind k = code.slots[static_cast<size_t>(s)].kind;
    if ((k == SlotKind::input || k == SlotKind::param) &&
        !check_node(-1, static_cast<int64_t>(v), s, nullptr))
      return rep;
  }
  std::vector<double> bound;
  for (size_t i = 0; i < code.instrs.size(); ++i) {
    const Instr& ins = code.instrs[i];
    if (code.mode == KernelMode::fast) {
      for (int32_t s : ins.in) {
        const Slot& slot = code.slots[static_cast<size_t>(s)];
        if (slot.kind != SlotKind::arena && slot.kind != SlotKind::output) continue;
        const Tensor<S>& r = ref[static_cast<size_t>(slot.node)];
        T* dst = prog.writable_slot_data(s);
        for (int64_t e = 0; e < r.numel(); ++e) dst[e] = r[e].v;
      }
    }
    try {
      prog.run_instruction(i);
    } catch (const EvalError& e) {
      rep.eval_error = "the program raises \"" + std::string(e.what()) + "\" at instruction i" +
                       std::to_string(i) + " but the reference evaluator does not";
      return rep;
    }
    const double* b = nullptr;
    if (ins.mode == KernelMode::fast) {
      bound.assign(static_cast<size_t>(code.slots[static_cast<size_t>(ins.out)].numel), 0.0);
      fast_bound(ins, prog, ref[static_cast<size_t>(ins.nodes.back())], bound.data());
      b = bound.data();
    }
    const int64_t last = ins.nodes.back();
    if (!check_node(static_cast<int64_t>(i), last, ins.out, b)) return rep;
    for (size_t v = 0; v < g.nodes.size(); ++v)
      if (code.node_slot[v] == ins.out && static_cast<int64_t>(v) != last &&
          !check_node(static_cast<int64_t>(i), static_cast<int64_t>(v), ins.out, b))
        return rep;
    rep.nodes_fused += static_cast<int64_t>(ins.nodes.size()) - 1;
    ++rep.instructions;
    if (ins.mode == KernelMode::exact) ++rep.exact_instructions;
  }
  rep.ok = true;
  return rep;
}

template CheckReport check_equivalence(Program<float>&, const std::vector<Tensor<float>>&);
template CheckReport check_equivalence(Program<double>&, const std::vector<Tensor<double>>&);

}  // namespace torchlean::runtime
