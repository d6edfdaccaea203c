// Lowering a checked graph to instructions over slots: one instruction per computing node (or
// per fused elementwise chain), aliases for the ops that do not change the element sequence
// (reshape, flatten, detach), payload bound as param slots, graph outputs written in place.
// The memory plan (memory_plan.cpp) then places the arena slots.
#include <algorithm>
#include <set>
#include <string>

#include "torchlean/compile/compile.hpp"
#include "torchlean/compile/detail.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::compile {

namespace {

using detail::axis_view;
using detail::conv_nchw_geometry;
using detail::index_params;
using detail::pool_nchw_params;
using detail::pool_params;
using detail::product;
using ir::OpKind;
using runtime::Instr;
using runtime::Kernel;
using runtime::KernelMode;
using runtime::Slot;
using runtime::SlotKind;

// Rows shorter than this are summed by the exact-order fold even in fast mode (see
// fast_variant_pays): on LeNet's bias gradients, 10752 rows of 28 took 2.6 ms with the fast sum
// and 0.09 ms with the serial fold.
constexpr int64_t kFastSumMinLength = 1024;

bool is_unary_elementwise(OpKind k) {
  switch (k) {
    case OpKind::abs:
    case OpKind::sqrt:
    case OpKind::inv:
    case OpKind::relu:
    case OpKind::tanh:
    case OpKind::sigmoid:
    case OpKind::exp:
    case OpKind::log:
    case OpKind::sin:
    case OpKind::cos:
    case OpKind::neg:
    case OpKind::erf:
      return true;
    default:
      return false;
  }
}

bool is_binary_elementwise(OpKind k) {
  switch (k) {
    case OpKind::add:
    case OpKind::sub:
    case OpKind::mul_elem:
    case OpKind::max_elem:
    case OpKind::min_elem:
    case OpKind::div:
      return true;
    default:
      return false;
  }
}

// Ops whose value is their (single) parent's element sequence: the slot is shared, no copy.
bool is_alias(OpKind k) {
  return k == OpKind::reshape || k == OpKind::flatten || k == OpKind::detach;
}

bool is_layout_gather(OpKind k) {
  switch (k) {
    case OpKind::permute:
    case OpKind::broadcast_to:
    case OpKind::concat:
    case OpKind::swap_first_two:
    case OpKind::transpose3d_last_two:
    case OpKind::broadcast:
    case OpKind::slice:
    case OpKind::pad:
    case OpKind::slice_grad:
      return true;
    default:
      return false;
  }
}

// Elementwise ops with attributes or more than two operands: the `map` kernel.
bool is_map(OpKind k) {
  switch (k) {
    case OpKind::pow_const:
    case OpKind::gelu:
    case OpKind::leaky_relu:
    case OpKind::softplus:
    case OpKind::silu:
    case OpKind::clamp:
    case OpKind::compare:
    case OpKind::where:
      return true;
    default:
      return false;
  }
}

Kernel kernel_of(OpKind k) {
  if (is_unary_elementwise(k)) return Kernel::unary;
  if (is_binary_elementwise(k)) return Kernel::binary;
  if (is_layout_gather(k)) return Kernel::gather;
  if (is_map(k)) return Kernel::map;
  switch (k) {
    case OpKind::rand_uniform:
      return Kernel::rand_uniform;
    case OpKind::bernoulli_mask:
      return Kernel::bernoulli_mask;
    case OpKind::matmul:
    case OpKind::linear:
      return Kernel::gemm;
    case OpKind::conv2d:
      return Kernel::conv2d;
    case OpKind::max_pool2d:
    case OpKind::max_pool2d_pad:
      return Kernel::max_pool2d;
    case OpKind::avg_pool2d:
    case OpKind::avg_pool2d_pad:
      return Kernel::avg_pool2d;
    case OpKind::sum:
      return Kernel::sum;
    case OpKind::reduce_sum:
      return Kernel::reduce_sum;
    case OpKind::reduce_mean:
      return Kernel::reduce_mean;
    case OpKind::mse_loss:
      return Kernel::mse_loss;
    case OpKind::softmax:
      return Kernel::softmax;
    case OpKind::layernorm:
      return Kernel::layernorm;
    case OpKind::batch_norm2d_nchw_eval:
      return Kernel::batch_norm;
    case OpKind::conv2d_nchw:
      return Kernel::conv2d_nchw;
    case OpKind::max_pool2d_nchw:
      return Kernel::max_pool2d_nchw;
    case OpKind::avg_pool2d_nchw:
      return Kernel::avg_pool2d_nchw;
    case OpKind::gather:
      return Kernel::index_gather;
    case OpKind::gather_grad:
      return Kernel::scatter_add;
    case OpKind::log_softmax:
      return Kernel::log_softmax;
    case OpKind::cross_entropy:
      return Kernel::cross_entropy;
    case OpKind::max_pool2d_nchw_grad:
      return Kernel::max_pool2d_nchw_grad;
    case OpKind::avg_pool2d_nchw_grad:
      return Kernel::avg_pool2d_nchw_grad;
    case OpKind::conv2d_nchw_grad_input:
      return Kernel::conv2d_nchw_grad_input;
    case OpKind::conv2d_nchw_grad_weight:
      return Kernel::conv2d_nchw_grad_weight;
    default:
      throw InternalError("lower: no kernel for op " + std::string(ir::op_name(k)));
  }
}

class Lowering {
 public:
  Lowering(const ir::Graph& g, runtime::ElemType elem, const CompileOptions& opt)
      : g_(g), opt_(opt) {
    code_.elem = elem;
    code_.mode = opt.mode;
    code_.threads = opt.threads;
    code_.graph = g;
    code_.node_slot.assign(g.nodes.size(), -1);
  }

  runtime::ProgramCode run() {
    count_uses();
    if (opt_.fuse) choose_fusion();
    for (const ir::Node& n : g_.nodes) lower_node(n);
    bind_outputs();
    code_.fused = opt_.fuse;
    return std::move(code_);
  }

 private:
  const ir::Graph& g_;
  const CompileOptions& opt_;
  runtime::ProgramCode code_;
  std::vector<int> uses_;  // number of parent references to each node
  std::vector<bool> is_output_;
  std::vector<int64_t> fused_into_;  // node -> the consumer whose chain absorbs it, or -1
  // node -> bit k set when parents[k], a broadcast of one element, is read as a scalar
  std::vector<uint8_t> scalar_reads_;
  std::vector<bool> scalar_only_;  // broadcast node read as a scalar by every use: no array

  void count_uses() {
    uses_.assign(g_.nodes.size(), 0);
    is_output_.assign(g_.nodes.size(), false);
    for (const ir::Node& n : g_.nodes)
      for (int64_t p : n.parents) ++uses_[static_cast<size_t>(p)];
    for (int64_t o : g_.output_ids) is_output_[static_cast<size_t>(o)] = true;
  }

  KernelMode mode_for(Kernel k, OpKind op) const {
    return opt_.mode == KernelMode::fast && runtime::has_fast_variant(k, op) ? KernelMode::fast
                                                                             : KernelMode::exact;
  }

  // Whether fast mode should keep the fast variant of `in` (fast mode may always use an
  // exact-order kernel: its bound is 0). Measured on this project's benchmarks
  // (docs/performance.md): our AVX-512 exact-order GEMM beats the installed OpenBLAS, and for a
  // handful of rows the exact small-m kernel beats it on any path (OpenBLAS's row-major
  // x . W^T has no GEMV path); the fast sum's vector setup and bound check cost more than a
  // short row's serial fold.
  bool fast_variant_pays(const Instr& in) const {
    if (in.kernel == Kernel::gemm &&
        std::get<runtime::GemmParams>(in.params).m < opt_.fast_gemm_min_rows)
      return false;
    if (opt_.fast_variants == compile::FastVariants::all) return true;
    switch (in.kernel) {
      case Kernel::gemm:
      case Kernel::conv2d:
      case Kernel::conv2d_nchw:
        return runtime::gemm_default_path() != runtime::GemmPath::avx512;
      case Kernel::sum:
      case Kernel::reduce_sum:
      case Kernel::reduce_mean:
        return std::get<runtime::AxisParams>(in.params).len >= kFastSumMinLength;
      default:
        return true;
    }
  }

  bool elementwise_exact(const ir::Node& n) const {
    const bool ew = is_unary_elementwise(n.kind) || is_binary_elementwise(n.kind);
    return ew && mode_for(kernel_of(n.kind), n.kind) == KernelMode::exact;
  }

  // A node joins its consumer's chain when both are exact elementwise ops, it has exactly that one
  // use and is not a graph output. log never fuses: it can raise an EvalError, and moving it to its
  // consumer's position could change which node's error is reported first.
  bool fusable_into(const ir::Node& v, const ir::Node& c) const {
    (void)c;
    return elementwise_exact(v) && v.kind != OpKind::log && uses_[static_cast<size_t>(v.id)] == 1 &&
           !is_output_[static_cast<size_t>(v.id)];
  }

  void choose_fusion() {
    fused_into_.assign(g_.nodes.size(), -1);
    std::vector<int> chain_len(g_.nodes.size(), 1);
    for (const ir::Node& c : g_.nodes) {
      if (!elementwise_exact(c) || c.kind == OpKind::log) continue;
      for (int64_t p : c.parents) {
        const ir::Node& v = g_.node(p);
        if (!fusable_into(v, c)) continue;
        if (chain_len[static_cast<size_t>(p)] + 1 > runtime::kMaxFusedSteps) continue;
        fused_into_[static_cast<size_t>(p)] = c.id;
        chain_len[static_cast<size_t>(c.id)] = chain_len[static_cast<size_t>(p)] + 1;
        break;  // a chain is linear: it follows one operand (the first fusable one)
      }
    }
    choose_scalar_operands();
  }

  // A broadcast of a one-element value that a consumer reads as a scalar operand (an
  // optimizer's lr * g, relu's backward where(x > 0, g, 0)) needs no array: the consumer reads the
  // source's element at every position, which is the broadcast's value there, so the bits are the
  // same. Consumers that can: a binary step of an exact elementwise chain (a chain starts from an
  // array, so its first step keeps one array operand), compare's second operand and where's
  // second and third. A broadcast all of whose uses read it so is not materialised.
  void choose_scalar_operands() {
    scalar_reads_.assign(g_.nodes.size(), 0);
    scalar_only_.assign(g_.nodes.size(), false);
    std::vector<int64_t> scalar_uses(g_.nodes.size(), 0);
    auto one_element_broadcast = [&](int64_t id) {
      const ir::Node& b = g_.node(id);
      return (b.kind == OpKind::broadcast || b.kind == OpKind::broadcast_to) &&
             g_.node(b.parents[0]).shape.numel() == 1;
    };
    for (const ir::Node& c : g_.nodes) {
      std::vector<size_t> positions;
      const bool binary_step = elementwise_exact(c) && c.parents.size() == 2;
      if (binary_step)
        positions = {1, 0};
      else if (c.kind == OpKind::compare)
        positions = {1};
      else if (c.kind == OpKind::where)
        positions = {1, 2};
      const bool distinct_parents =
          std::set<int64_t>(c.parents.begin(), c.parents.end()).size() == c.parents.size();
      if (positions.empty() || !distinct_parents) continue;
      const bool continues_chain = std::any_of(c.parents.begin(), c.parents.end(), [&](int64_t p) {
        return fused_into_[static_cast<size_t>(p)] == c.id;
      });
      uint8_t& bits = scalar_reads_[static_cast<size_t>(c.id)];
      for (size_t k : positions) {
        const int64_t p = c.parents[k];
        if (!one_element_broadcast(p)) continue;
        if (binary_step && !continues_chain && (bits & (1u << (1 - k)))) continue;
        bits = static_cast<uint8_t>(bits | (1u << k));
        ++scalar_uses[static_cast<size_t>(p)];
      }
    }
    for (const ir::Node& n : g_.nodes) {
      const size_t id = static_cast<size_t>(n.id);
      scalar_only_[id] = scalar_uses[id] > 0 && scalar_uses[id] == uses_[id] && !is_output_[id];
    }
  }

  bool absorbed(int64_t id) const {
    return (!fused_into_.empty() && fused_into_[static_cast<size_t>(id)] >= 0) ||
           (!scalar_only_.empty() && scalar_only_[static_cast<size_t>(id)]);
  }

  // Whether node n reads its k-th parent as a scalar (see choose_scalar_operands).
  bool scalar_read(const ir::Node& n, size_t k) const {
    return !scalar_reads_.empty() && (scalar_reads_[static_cast<size_t>(n.id)] >> k) & 1u;
  }
  uint8_t scalar_reads(const ir::Node& n) const {
    return scalar_reads_.empty() ? 0 : scalar_reads_[static_cast<size_t>(n.id)];
  }

  // The slot an instruction reads for n's k-th parent: a scalar read takes the broadcast's
  // one-element source.
  int32_t operand_slot(const ir::Node& n, size_t k) const {
    const int64_t p = n.parents[k];
    return slot_of(scalar_read(n, k) ? g_.node(p).parents[0] : p);
  }

  int32_t add_slot(Slot s) {
    s.numel = s.shape.numel();
    code_.slots.push_back(std::move(s));
    return static_cast<int32_t>(code_.slots.size() - 1);
  }

  int32_t param_slot(const ir::Node& n, const std::string& name, const Shape& shape) {
    Slot s;
    s.kind = SlotKind::param;
    s.node = n.id;
    s.param = name;
    s.shape = shape;
    return add_slot(std::move(s));
  }

  // Kernel scratch: an arena slot live only during its instruction.
  int32_t workspace_slot(int64_t elems) {
    Slot s;
    s.kind = SlotKind::arena;
    s.shape = Shape{elems};
    return add_slot(std::move(s));
  }

  int32_t value_slot(const ir::Node& n) {
    Slot s;
    s.kind = SlotKind::arena;
    s.node = n.id;
    s.shape = n.shape;
    int32_t id = add_slot(std::move(s));
    code_.node_slot[static_cast<size_t>(n.id)] = id;
    return id;
  }

  int32_t slot_of(int64_t node) const {
    int32_t s = code_.node_slot[static_cast<size_t>(node)];
    TL_INTERNAL_CHECK(s >= 0, "lower: node " + std::to_string(node) + " used before it has a slot");
    return s;
  }

  void emit(Instr in) { code_.instrs.push_back(std::move(in)); }

  Instr instr(const ir::Node& n, Kernel k) {
    Instr in;
    in.kernel = k;
    in.mode = mode_for(k, n.kind);
    in.nodes = {n.id};
    for (size_t k = 0; k < n.parents.size(); ++k) in.in.push_back(operand_slot(n, k));
    return in;
  }

  void lower_node(const ir::Node& n) {
    const size_t id = static_cast<size_t>(n.id);
    if (n.kind == OpKind::input) {
      Slot s;
      s.kind = SlotKind::input;
      s.node = n.id;
      s.shape = n.shape;
      auto it = std::find(g_.input_ids.begin(), g_.input_ids.end(), n.id);
      s.index = it - g_.input_ids.begin();
      code_.node_slot[id] = add_slot(std::move(s));
      return;
    }
    if (n.kind == OpKind::constant) {
      code_.node_slot[id] = param_slot(n, "value", std::get<ir::ConstAttrs>(n.attrs).value_shape);
      return;
    }
    if (is_alias(n.kind)) {
      code_.node_slot[id] = slot_of(n.parents[0]);
      return;
    }
    if (absorbed(n.id)) return;  // computed by its consumer's fused instruction
    if (is_unary_elementwise(n.kind) || is_binary_elementwise(n.kind)) {
      lower_elementwise(n);
      return;
    }
    const Shape& in0 = n.parents.empty() ? n.shape : g_.node(n.parents[0]).shape;
    Instr in = instr(n, kernel_of(n.kind));
    switch (n.kind) {
      case OpKind::permute:
      case OpKind::broadcast_to:
      case OpKind::concat:
      case OpKind::swap_first_two:
      case OpKind::transpose3d_last_two:
      case OpKind::broadcast:
      case OpKind::slice:
      case OpKind::pad:
      case OpKind::slice_grad:
        in.params = detail::layout_gather(g_, n);
        break;
      case OpKind::pow_const:
      case OpKind::gelu:
      case OpKind::leaky_relu:
      case OpKind::softplus:
      case OpKind::silu:
      case OpKind::clamp:
      case OpKind::compare:
      case OpKind::where:
        in.params = runtime::MapParams{n.kind, n.shape.numel(), n.attrs, scalar_reads(n)};
        break;
      case OpKind::conv2d_nchw: {
        const Shape& w = g_.node(n.parents[1]).shape;
        runtime::ConvNchwParams p{
            conv_nchw_geometry(std::get<ir::Conv2dNchwAttrs>(n.attrs), in0, w, n.shape),
            n.parents.size() == 3};
        const int64_t ws = runtime::conv_nchw_workspace_elems(p.geom, opt_.threads);
        in.params = p;
        if (ws > 0) in.workspace = workspace_slot(ws);
        break;
      }
      case OpKind::conv2d_nchw_grad_input: {  // (g, weight) -> dx: the node is x's shape
        const runtime::ConvNchwGeometry geo = conv_nchw_geometry(
            std::get<ir::Conv2dNchwAttrs>(n.attrs), n.shape, g_.node(n.parents[1]).shape, in0);
        in.params = runtime::ConvNchwParams{geo, false};
        if (const int64_t ws = runtime::conv_nchw_grad_input_workspace_elems(geo); ws > 0)
          in.workspace = workspace_slot(ws);
        break;
      }
      case OpKind::conv2d_nchw_grad_weight: {  // (x, g) -> dweight: the node is the weight's shape
        const runtime::ConvNchwGeometry geo = conv_nchw_geometry(
            std::get<ir::Conv2dNchwAttrs>(n.attrs), in0, n.shape, g_.node(n.parents[1]).shape);
        in.params = runtime::ConvNchwParams{geo, false};
        if (const int64_t ws = runtime::conv_nchw_grad_weight_workspace_elems(geo); ws > 0)
          in.workspace = workspace_slot(ws);
        break;
      }
      case OpKind::max_pool2d_nchw:
      case OpKind::avg_pool2d_nchw:
      case OpKind::max_pool2d_nchw_grad:  // (x, g) -> dx
        in.params = pool_nchw_params(
            std::get<ir::PoolNchwAttrs>(n.attrs), in0,
            n.kind == OpKind::max_pool2d_nchw_grad ? g_.node(n.parents[1]).shape : n.shape);
        break;
      case OpKind::avg_pool2d_nchw_grad:  // (g) -> dx: the node is x's shape
        in.params = pool_nchw_params(std::get<ir::PoolNchwAttrs>(n.attrs), n.shape, in0);
        break;
      case OpKind::gather:
        in.params =
            index_params(in0, g_.node(n.parents[1]).shape, std::get<ir::GatherAttrs>(n.attrs).axis);
        break;
      case OpKind::gather_grad:  // (indices, g) -> d data: the node is the data's shape
        in.params = index_params(n.shape, in0, std::get<ir::GatherAttrs>(n.attrs).axis);
        break;
      case OpKind::log_softmax:
        in.params = axis_view(in0, std::get<ir::AxisAttrs>(n.attrs).axis);
        break;
      case OpKind::cross_entropy:
        in.params = runtime::AxisParams{in0[0], in0[1], 1};
        break;
      case OpKind::rand_uniform:
      case OpKind::bernoulli_mask: {
        const int64_t seed = std::get<ir::SeedAttrs>(n.attrs).seed;
        in.params = runtime::RandParams{
            SplitMix64(static_cast<uint64_t>(seed) + static_cast<uint64_t>(n.id)).next(),
            n.shape.numel()};
        break;
      }
      case OpKind::matmul: {
        // (m,n)x(n,p); (b...,m,n)x(b...,n,p): one GEMM per batch item; (b...,m,n)x(n,p): B is
        // shared, so the batch rows stack into one GEMM of prod(b)*m rows.
        const Shape& b = g_.node(n.parents[1]).shape;
        const int64_t r = in0.rank(), m = in0[r - 2], k = in0[r - 1], p = b[b.rank() - 1];
        const int64_t batch = product(in0, 0, r - 2);
        if (b.rank() == 2)
          in.params = runtime::GemmParams{1, batch * m, p, k, false, false};
        else
          in.params = runtime::GemmParams{batch, m, p, k, false, false};
        break;
      }
      case OpKind::linear: {
        const int64_t k = in0[in0.rank() - 1];
        const int64_t out = n.shape[n.shape.rank() - 1];
        in.in.push_back(param_slot(n, "weight", Shape{out, k}));
        in.in.push_back(param_slot(n, "bias", Shape{out}));
        in.params = runtime::GemmParams{1, product(in0, 0, in0.rank() - 1), out, k, true, true};
        break;
      }
      case OpKind::conv2d: {
        const auto& a = std::get<ir::Conv2dAttrs>(n.attrs);
        in.in.push_back(param_slot(n, "weight", Shape{a.outC, a.inC, a.kH, a.kW}));
        in.in.push_back(param_slot(n, "bias", Shape{a.outC}));
        runtime::ConvParams p{a.inC, in0[1],   in0[2],    a.outC,     a.kH,
                              a.kW,  a.stride, a.padding, n.shape[1], n.shape[2]};
        in.params = p;
        const int64_t ws = detail::conv_workspace_elems(p);
        if (ws > 0) in.workspace = workspace_slot(ws);
        break;
      }
      case OpKind::max_pool2d:
      case OpKind::avg_pool2d: {
        const auto& a = std::get<ir::Pool2dAttrs>(n.attrs);
        in.params = pool_params(n, in0, a.kH, a.kW, a.stride, 0);
        break;
      }
      case OpKind::max_pool2d_pad:
      case OpKind::avg_pool2d_pad: {
        const auto& a = std::get<ir::Pool2dPadAttrs>(n.attrs);
        in.params = pool_params(n, in0, a.kH, a.kW, a.stride, a.padding);
        break;
      }
      case OpKind::sum:
      case OpKind::mse_loss:
        in.params = runtime::AxisParams{1, in0.numel(), 1};
        break;
      case OpKind::reduce_sum:
      case OpKind::reduce_mean:
      case OpKind::softmax:
        in.params = axis_view(in0, std::get<ir::AxisAttrs>(n.attrs).axis);
        break;
      case OpKind::layernorm: {
        const int64_t axis = std::get<ir::AxisAttrs>(n.attrs).axis;
        in.params = runtime::AxisParams{product(in0, 0, axis), product(in0, axis, in0.rank()), 1};
        break;
      }
      case OpKind::batch_norm2d_nchw_eval:
        for (const char* name : {"gamma", "beta", "mean", "var"})
          in.in.push_back(param_slot(n, name, Shape{in0[1]}));
        in.in.push_back(param_slot(n, "eps", Shape{}));
        in.params = runtime::AxisParams{in0[0], in0[1], in0[2] * in0[3]};
        break;
      default:
        throw InternalError("lower: unhandled op " + std::string(ir::op_name(n.kind)));
    }
    if (in.mode == KernelMode::fast && !fast_variant_pays(in)) in.mode = KernelMode::exact;
    in.out = value_slot(n);
    emit(std::move(in));
  }

  // An elementwise node ending a chain (possibly of length 1). The chain is collected backwards
  // through the absorbed parents, then emitted in evaluation order.
  void lower_elementwise(const ir::Node& last) {
    std::vector<const ir::Node*> chain{&last};
    for (;;) {
      const ir::Node* head = chain.back();
      const ir::Node* prev = nullptr;
      for (int64_t p : head->parents)
        if (absorbed(p) && fused_into_[static_cast<size_t>(p)] == head->id) prev = &g_.node(p);
      if (!prev) break;
      chain.push_back(prev);
    }
    std::reverse(chain.begin(), chain.end());
    if (chain.size() == 1 && scalar_reads(last) == 0) {
      Instr in = instr(last, kernel_of(last.kind));
      in.params = runtime::ElementwiseParams{last.kind, last.shape.numel()};
      in.out = value_slot(last);
      emit(std::move(in));
      return;
    }
    Instr in;
    in.kernel = Kernel::fused;
    in.mode = KernelMode::exact;
    runtime::FusedParams fp;
    fp.n = last.shape.numel();
    auto input_index = [&](const ir::Node& n, size_t k) {
      const int32_t s = operand_slot(n, k);
      for (size_t i = 0; i < in.in.size(); ++i)
        if (in.in[i] == s) return static_cast<int32_t>(i);
      in.in.push_back(s);
      return static_cast<int32_t>(in.in.size() - 1);
    };
    for (size_t i = 0; i < chain.size(); ++i) {
      const ir::Node& n = *chain[i];
      in.nodes.push_back(n.id);
      runtime::FusedStep step;
      step.op = n.kind;
      if (i == 0) {
        // The chain starts from array in0; a scalar first operand makes it op(operand, in0).
        const bool scalar_first = scalar_read(n, 0);
        input_index(n, scalar_first ? 1 : 0);
        if (n.parents.size() == 2) {
          const size_t k = scalar_first ? 0 : 1;
          step.value_first = !scalar_first;
          step.operand = input_index(n, k);
          step.scalar = scalar_read(n, k);
        }
      } else if (n.parents.size() == 2) {
        // One parent is the chain value (the previous chain node), the other an input.
        const bool first_is_value = n.parents[0] == chain[i - 1]->id;
        const size_t k = first_is_value ? 1 : 0;
        step.value_first = first_is_value;
        step.operand = input_index(n, k);
        step.scalar = scalar_read(n, k);
      }
      fp.steps.push_back(step);
    }
    in.params = std::move(fp);
    in.out = value_slot(last);
    emit(std::move(in));
  }

  // Graph outputs are written straight into the caller's buffers: an arena value listed as an
  // output becomes that output's slot. Values that are not an instruction's own result (graph
  // inputs, payload constants, a value listed twice) are copied by a final gather.
  void bind_outputs() {
    for (size_t k = 0; k < g_.output_ids.size(); ++k) {
      const ir::Node& n = g_.node(g_.output_ids[k]);
      const int32_t s = slot_of(n.id);
      Slot& slot = code_.slots[static_cast<size_t>(s)];
      if (slot.kind == SlotKind::arena) {
        slot.kind = SlotKind::output;
        slot.index = static_cast<int64_t>(k);
        continue;
      }
      Instr copy;
      copy.kernel = Kernel::gather;
      copy.mode = KernelMode::exact;
      copy.nodes = {n.id};
      copy.in = {s};
      const int64_t count = n.shape.numel();
      runtime::GatherParams gp;
      if (count > 0) gp.runs.push_back(runtime::GatherRun{0, 0, 0, count, 1});
      copy.params = std::move(gp);
      Slot out;
      out.kind = SlotKind::output;
      out.index = static_cast<int64_t>(k);
      out.node = n.id;
      out.shape = n.shape;
      copy.out = add_slot(std::move(out));
      emit(std::move(copy));
    }
  }
};

}  // namespace

runtime::ProgramCode lower(const ir::Graph& g, runtime::ElemType elem,
                           const CompileOptions& options) {
  TL_USER_CHECK(options.threads >= 1,
                "compile: threads must be at least 1, got " + std::to_string(options.threads));
  ir::check_graph(g);
  runtime::ProgramCode code = Lowering(g, elem, options).run();
  detail::plan_memory(code, options.reuse_memory);
  return code;
}

}  // namespace torchlean::compile
