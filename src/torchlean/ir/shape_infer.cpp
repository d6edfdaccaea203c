// The ONE shape-inference function: a rule per op, matching TorchLean v1 (NN/IR/Infer.lean and
// NN/IR/OpContracts.lean). The dispatch is generated from TORCHLEAN_OPS, so an op without a
// `rule_<op>` fails to compile. Rules also validate attributes; TorchLean's attributes are Nat,
// ours are int64, so every rule rejects negative values that TorchLean cannot even represent.
// The extension ops' rules live in shape_infer_ext.cpp.
#include <limits>
#include <string>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ir/shape_rules_ext.hpp"

namespace torchlean::ir {

namespace detail {
std::string node_prefix(const Node& n) {
  return "[" + std::string(op_name(n.kind)) + "] node " + std::to_string(n.id) + ": ";
}

void fail_node(const Node& n, const std::string& msg) { throw UserError(node_prefix(n) + msg); }
}  // namespace detail

namespace {

using ext_rules::Shapes;

[[noreturn]] void fail(const Node& n, const std::string& msg) { detail::fail_node(n, msg); }

std::string dims_str(const std::vector<int64_t>& v) {
  std::string out = "(";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + ")";
}

void require_positive(const Node& n, const char* name, int64_t v) {
  if (v <= 0) fail(n, std::string(name) + " must be > 0, got " + std::to_string(v));
}

void require_non_negative(const Node& n, const char* name, int64_t v) {
  if (v < 0) fail(n, std::string(name) + " must be >= 0, got " + std::to_string(v));
}

// Element count, reported against the op (Shape::numel would name "shape" instead).
int64_t numel_of(const Node& n, const Shape& s) {
  int64_t count = 1;
  for (int64_t d : s.dims()) {
    if (__builtin_mul_overflow(count, d, &count))
      fail(n, "element count of " + s.str() + " overflows int64");
  }
  return count;
}

void require_axis(const Node& n, int64_t axis, const Shape& s) {
  if (axis < 0 || axis >= s.rank())
    fail(n, "invalid axis " + std::to_string(axis) + " for input " + s.str() + " of rank " +
                std::to_string(s.rank()));
}

Shape same_shape_pair(const Node& n, Shapes ps) {
  if (ps[0] != ps[1]) fail(n, "shape mismatch: " + ps[0].str() + " vs " + ps[1].str());
  return ps[0];
}

// One spatial axis of a sliding window: TorchLean's checkWindowFits then slidingWindowOutDim,
// out = (in + 2*padding - k) / stride + 1.
int64_t window_out(const Node& n, int64_t in, int64_t k, int64_t stride, int64_t padding,
                   const std::string& window_desc, const Shape& input) {
  int64_t padded = 0;
  if (__builtin_mul_overflow(padding, int64_t{2}, &padded) ||
      __builtin_add_overflow(padded, in, &padded))
    fail(n, "padding " + std::to_string(padding) + " overflows int64 for input " + input.str());
  if (padded < k) fail(n, window_desc + " does not fit input " + input.str());
  return (padded - k) / stride + 1;
}

// CHW pooling / convolution spatial arithmetic shared by the four pools and conv2d.
Shape window_chw(const Node& n, int64_t channels_out, int64_t kH, int64_t kW, int64_t stride,
                 int64_t padding, const Shape& in) {
  std::string desc = "window " + std::to_string(kH) + "x" + std::to_string(kW) + " (stride " +
                     std::to_string(stride) + ", padding " + std::to_string(padding) + ")";
  int64_t out_h = window_out(n, in[1], kH, stride, padding, desc, in);
  int64_t out_w = window_out(n, in[2], kW, stride, padding, desc, in);
  return Shape{channels_out, out_h, out_w};
}

Shape pool(const Node& n, int64_t kH, int64_t kW, int64_t stride, int64_t padding,
           const Shape& in) {
  require_positive(n, "kH", kH);
  require_positive(n, "kW", kW);
  require_positive(n, "stride", stride);
  require_non_negative(n, "padding", padding);
  if (in.rank() != 3) fail(n, "expected input shape (C,H,W), got " + in.str());
  return window_chw(n, in[0], kH, kW, stride, padding, in);
}

// TorchLean's mkCanBroadcastTo?: left-aligned and greedy. Walking both shapes outermost first, a
// source dim is consumed by an equal target dim or (if it is 1) by any target dim; otherwise the
// target dim is a new axis. Once the source is exhausted the rest of the target is free.
bool can_broadcast_to(const Shape& from, const Shape& to) {
  int64_t i = 0, j = 0;
  while (i < from.rank()) {
    if (j == to.rank()) return false;
    if (from[i] == to[j] || from[i] == 1) ++i;
    ++j;
  }
  return true;
}

// ---- rules, one per op, in registry order ----

Shape rule_input(const Node& n, const NoAttrs&, Shapes) { return n.shape; }

Shape rule_constant(const Node&, const ConstAttrs& a, Shapes) { return a.value_shape; }

Shape rule_permute(const Node& n, const PermuteAttrs& a, Shapes ps) {
  const Shape& s = ps[0];
  std::vector<bool> seen(static_cast<size_t>(s.rank()), false);
  bool ok = static_cast<int64_t>(a.perm.size()) == s.rank();
  std::vector<int64_t> out;
  for (size_t k = 0; ok && k < a.perm.size(); ++k) {
    int64_t p = a.perm[k];
    ok = p >= 0 && p < s.rank() && !seen[static_cast<size_t>(p)];
    if (ok) {
      seen[static_cast<size_t>(p)] = true;
      out.push_back(s[p]);  // out[k] = in[perm[k]], as torch.permute
    }
  }
  if (!ok)
    fail(n, "perm " + dims_str(a.perm) + " is not a permutation of the " +
                std::to_string(s.rank()) + " axes of input " + s.str());
  return Shape(std::move(out));
}

Shape rule_detach(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }

Shape rule_rand_uniform(const Node& n, const SeedAttrs&, Shapes) { return n.shape; }

Shape rule_bernoulli_mask(const Node& n, const SeedAttrs&, Shapes ps) {
  if (ps[0].rank() != 0) fail(n, "expected scalar keepProb parent (), got " + ps[0].str());
  return n.shape;
}

Shape rule_add(const Node& n, const NoAttrs&, Shapes ps) { return same_shape_pair(n, ps); }
Shape rule_sub(const Node& n, const NoAttrs&, Shapes ps) { return same_shape_pair(n, ps); }
Shape rule_mul_elem(const Node& n, const NoAttrs&, Shapes ps) { return same_shape_pair(n, ps); }
Shape rule_abs(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_sqrt(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_inv(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_max_elem(const Node& n, const NoAttrs&, Shapes ps) { return same_shape_pair(n, ps); }
Shape rule_min_elem(const Node& n, const NoAttrs&, Shapes ps) { return same_shape_pair(n, ps); }

Shape rule_max_pool2d(const Node& n, const Pool2dAttrs& a, Shapes ps) {
  return pool(n, a.kH, a.kW, a.stride, 0, ps[0]);
}
Shape rule_max_pool2d_pad(const Node& n, const Pool2dPadAttrs& a, Shapes ps) {
  return pool(n, a.kH, a.kW, a.stride, a.padding, ps[0]);
}
Shape rule_avg_pool2d(const Node& n, const Pool2dAttrs& a, Shapes ps) {
  return pool(n, a.kH, a.kW, a.stride, 0, ps[0]);
}
Shape rule_avg_pool2d_pad(const Node& n, const Pool2dPadAttrs& a, Shapes ps) {
  return pool(n, a.kH, a.kW, a.stride, a.padding, ps[0]);
}

Shape rule_broadcast_to(const Node& n, const BroadcastToAttrs& a, Shapes ps) {
  if (ps[0] != a.from_shape)
    fail(n, "parent shape " + ps[0].str() + " differs from from_shape " + a.from_shape.str());
  if (!can_broadcast_to(a.from_shape, a.to_shape))
    fail(n, "cannot broadcast " + a.from_shape.str() + " to " + a.to_shape.str() +
                " (TorchLean rule: left-aligned, a dim must equal the target dim or be 1)");
  return a.to_shape;
}

Shape reduce_axis(const Node& n, const AxisAttrs& a, const Shape& s) {
  require_axis(n, a.axis, s);
  std::vector<int64_t> dims = s.dims();
  dims.erase(dims.begin() + a.axis);
  return Shape(std::move(dims));
}
Shape rule_reduce_sum(const Node& n, const AxisAttrs& a, Shapes ps) { return reduce_axis(n, a, ps[0]); }
Shape rule_reduce_mean(const Node& n, const AxisAttrs& a, Shapes ps) { return reduce_axis(n, a, ps[0]); }
Shape rule_sum(const Node&, const NoAttrs&, Shapes) { return Shape{}; }

// TorchLean v1's inferMatmulOutShape accepts exactly (m,n)x(n,p) and (b,m,n)x(b,n,p). Extension
// forms: any equal rank >= 2 with equal leading batch dims, and (b...,m,n) x (n,p) with the 2-D
// right operand shared across the batch.
Shape rule_matmul(const Node& n, const NoAttrs&, Shapes ps) {
  const Shape& a = ps[0];
  const Shape& b = ps[1];
  std::string both = a.str() + " x " + b.str();
  if (a.rank() < 2 || b.rank() < 2 || (b.rank() != 2 && b.rank() != a.rank()))
    fail(n, "unsupported shapes " + both +
                "; expected (b...,m,n) x (b...,n,p) with equal batch dims, or (b...,m,n) x (n,p)");
  const int64_t r = a.rank();
  if (b.rank() == r) {
    for (int64_t i = 0; i + 2 < r; ++i)
      if (a[i] != b[i]) fail(n, "batch dims mismatch: " + both);
  }
  if (a[r - 1] != b[b.rank() - 2]) fail(n, "inner dims mismatch: " + both);
  std::vector<int64_t> out(a.dims().begin(), a.dims().end() - 1);
  out.push_back(b[b.rank() - 1]);
  return Shape(std::move(out));
}

// Linear acts on the last dim and keeps the leading ones; the out features come from the declared
// shape (the payload check pins them to the weight's rows).
Shape rule_linear(const Node& n, const NoAttrs&, Shapes ps) {
  const Shape& in = ps[0];
  if (in.rank() < 1 || n.shape.rank() < 1)
    fail(n, "expected rank >= 1 input and output, got input " + in.str() + ", declared " +
                n.shape.str());
  std::vector<int64_t> lead_in(in.dims().begin(), in.dims().end() - 1);
  std::vector<int64_t> lead_out(n.shape.dims().begin(), n.shape.dims().end() - 1);
  if (lead_in != lead_out)
    fail(n, "leading dims must be preserved: input " + in.str() + ", declared " + n.shape.str());
  return n.shape;
}

Shape rule_conv2d(const Node& n, const Conv2dAttrs& a, Shapes ps) {
  const Shape& in = ps[0];
  require_positive(n, "inC", a.inC);
  require_non_negative(n, "outC", a.outC);
  require_positive(n, "kH", a.kH);
  require_positive(n, "kW", a.kW);
  require_positive(n, "stride", a.stride);
  require_non_negative(n, "padding", a.padding);
  if (in.rank() != 3) fail(n, "expected input shape (inC,H,W), got " + in.str());
  if (in[0] != a.inC)
    fail(n, "inC=" + std::to_string(a.inC) + " does not match input channels of " + in.str());
  return window_chw(n, a.outC, a.kH, a.kW, a.stride, a.padding, in);
}

Shape rule_batch_norm2d_nchw_eval(const Node& n, const BatchNormAttrs& a, Shapes ps) {
  const Shape& in = ps[0];
  require_positive(n, "channels", a.channels);
  if (in.rank() != 4) fail(n, "expected input shape (N,C,H,W), got " + in.str());
  if (in[0] <= 0 || in[2] <= 0 || in[3] <= 0)
    fail(n, "batch, height and width must be > 0, got input " + in.str());
  if (in[1] != a.channels)
    fail(n, "channels=" + std::to_string(a.channels) + " does not match input " + in.str());
  return in;
}

Shape rule_relu(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_tanh(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_sigmoid(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_exp(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_log(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_sin(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_cos(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }

Shape rule_softmax(const Node& n, const AxisAttrs& a, Shapes ps) {
  require_axis(n, a.axis, ps[0]);
  return ps[0];
}

// The axis starts the normalised suffix (PyTorch's normalized_shape = dims[axis:]).
Shape rule_layernorm(const Node& n, const AxisAttrs& a, Shapes ps) {
  require_axis(n, a.axis, ps[0]);
  return ps[0];
}

Shape rule_reshape(const Node& n, const ReshapeAttrs& a, Shapes ps) {
  if (ps[0] != a.in_shape)
    fail(n, "parent shape " + ps[0].str() + " differs from in_shape " + a.in_shape.str());
  int64_t in_count = numel_of(n, a.in_shape);
  int64_t out_count = numel_of(n, a.out_shape);
  if (in_count != out_count)
    fail(n, "element count mismatch: " + a.in_shape.str() + " has " + std::to_string(in_count) +
                ", " + a.out_shape.str() + " has " + std::to_string(out_count));
  return a.out_shape;
}

Shape rule_flatten(const Node& n, const FlattenAttrs& a, Shapes ps) {
  if (ps[0] != a.value_shape)
    fail(n, "parent shape " + ps[0].str() + " differs from value_shape " + a.value_shape.str());
  return Shape{numel_of(n, a.value_shape)};
}

// TorchLean v1's inferConcatOutShape: at least two parents of one rank, equal except along axis.
Shape rule_concat(const Node& n, const AxisAttrs& a, Shapes ps) {
  if (ps.size() < 2)
    fail(n, "expected at least 2 parents, got " + std::to_string(ps.size()));
  const Shape& first = ps[0];
  require_axis(n, a.axis, first);
  std::vector<int64_t> out = first.dims();
  for (size_t k = 1; k < ps.size(); ++k) {
    const Shape& s = ps[k];
    if (s.rank() != first.rank())
      fail(n, "parent " + std::to_string(k) + " has shape " + s.str() + " of rank " +
                  std::to_string(s.rank()) + ", parent 0 has " + first.str());
    for (int64_t d = 0; d < s.rank(); ++d) {
      if (d != a.axis && s[d] != first[d])
        fail(n, "parent " + std::to_string(k) + " has shape " + s.str() + ", parent 0 has " +
                    first.str() + "; shapes must agree except along axis " +
                    std::to_string(a.axis));
    }
    int64_t& total = out[static_cast<size_t>(a.axis)];
    if (__builtin_add_overflow(total, s[a.axis], &total))
      fail(n, "concatenated dim overflows int64");
  }
  return Shape(std::move(out));
}

Shape rule_swap_first_two(const Node& n, const NoAttrs&, Shapes ps) {
  if (ps[0].rank() < 2) fail(n, "expected rank >= 2, got " + ps[0].str());
  std::vector<int64_t> dims = ps[0].dims();
  std::swap(dims[0], dims[1]);
  return Shape(std::move(dims));
}

Shape rule_transpose3d_last_two(const Node& n, const NoAttrs&, Shapes ps) {
  const Shape& s = ps[0];
  if (s.rank() != 3) fail(n, "expected rank 3, got " + s.str());
  return Shape{s[0], s[2], s[1]};
}

Shape rule_mse_loss(const Node& n, const NoAttrs&, Shapes ps) {
  if (ps[0] != ps[1]) fail(n, "prediction/target shape mismatch: " + ps[0].str() + " vs " + ps[1].str());
  return Shape{};
}

using detail::attrs_of;
using namespace ext_rules;  // the extension ops' rules (shape_infer_ext.cpp)

}  // namespace

Shape infer_shape(const Node& n, std::span<const Shape> parent_shapes) {
  int arity = op_info(n.kind).arity;
  size_t got = parent_shapes.size();
  if (arity >= 0 && got != static_cast<size_t>(arity))
    fail(n, "expected " + std::to_string(arity) + " parent" + (arity == 1 ? "" : "s") + ", got " +
                std::to_string(got));
  if (arity < 0 && got == 0) fail(n, "expected at least 1 parent, got 0");
  switch (n.kind) {
#define TL_X(name, json, A, arity) \
  case OpKind::name:               \
    return rule_##name(n, attrs_of<A>(n), parent_shapes);
    TORCHLEAN_OPS(TL_X)
#undef TL_X
  }
  throw InternalError("infer_shape: op kind " + std::to_string(static_cast<int>(n.kind)) +
                      " outside the registry");
}

}  // namespace torchlean::ir
