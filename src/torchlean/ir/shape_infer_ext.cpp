// Shape rules of the extension ops (docs/ir.md, "Extension ops"). Like the v1 rules they validate
// attributes and parent shapes and name the op, node and shapes in every error. Elementwise ops
// need equal shapes: there is no implicit broadcasting (importers insert `broadcast`).
// Gradient-only ops return their declared shape after checking that the forward op maps it to the
// shape of the incoming gradient.
#include <cmath>
#include <string>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ir/shape_rules_ext.hpp"

namespace torchlean::ir::ext_rules {

namespace {

[[noreturn]] void fail(const Node& n, const std::string& msg) { detail::fail_node(n, msg); }

std::string num(int64_t v) { return std::to_string(v); }

std::string list_str(const std::vector<int64_t>& v) { return Shape(v).str(); }

void require_positive(const Node& n, const char* name, int64_t v) {
  if (v <= 0) fail(n, std::string(name) + " must be > 0, got " + num(v));
}

void require_non_negative(const Node& n, const char* name, int64_t v) {
  if (v < 0) fail(n, std::string(name) + " must be >= 0, got " + num(v));
}

void require_axis(const Node& n, int64_t axis, const Shape& s) {
  if (axis < 0 || axis >= s.rank())
    fail(n, "invalid axis " + num(axis) + " for input " + s.str() + " of rank " + num(s.rank()));
}

Shape same_shapes(const Node& n, Shapes ps) {
  for (size_t i = 1; i < ps.size(); ++i)
    if (ps[i] != ps[0])
      fail(n, "shape mismatch: parent 0 is " + ps[0].str() + ", parent " + num(int64_t(i)) +
                  " is " + ps[i].str() + " (no implicit broadcasting)");
  return ps[0];
}

int64_t add_checked(const Node& n, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) fail(n, "dimension arithmetic overflows int64");
  return r;
}

int64_t mul_checked(const Node& n, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) fail(n, "dimension arithmetic overflows int64");
  return r;
}

void require_rank(const Node& n, const char* what, const Shape& s, int64_t rank,
                  const char* layout) {
  if (s.rank() != rank)
    fail(n, std::string("expected ") + what + " of shape " + layout + ", got " + s.str());
}

// ---- convolution geometry ----

// One spatial axis of a dilated convolution (PyTorch/ONNX): the kernel spans dilation*(k-1)+1
// cells of the padded input, out = (in + pad_a + pad_b - span) / stride + 1.
int64_t conv_out(const Node& n, const char* axis, int64_t in, int64_t k, int64_t stride,
                 int64_t pad_a, int64_t pad_b, int64_t dilation, const Shape& x, const Shape& w) {
  int64_t span = add_checked(n, mul_checked(n, dilation, k - 1), 1);
  int64_t padded = add_checked(n, add_checked(n, in, pad_a), pad_b);
  if (padded < span)
    fail(n, std::string("kernel ") + axis + " extent " + num(span) + " (dilation " + num(dilation) +
                ") exceeds the padded input extent " + num(padded) + " of input " + x.str() +
                " with weight " + w.str());
  return (padded - span) / stride + 1;
}

void check_conv_attrs(const Node& n, const Conv2dNchwAttrs& a) {
  require_positive(n, "stride_h", a.stride_h);
  require_positive(n, "stride_w", a.stride_w);
  require_non_negative(n, "pad_top", a.pad_top);
  require_non_negative(n, "pad_left", a.pad_left);
  require_non_negative(n, "pad_bottom", a.pad_bottom);
  require_non_negative(n, "pad_right", a.pad_right);
  require_positive(n, "dilation_h", a.dilation_h);
  require_positive(n, "dilation_w", a.dilation_w);
  require_positive(n, "groups", a.groups);
}

// The output (N, O, OH, OW) of conv2d_nchw for input x (N,C,H,W) and weight (O, C/groups, kH, kW).
Shape conv_shape(const Node& n, const Conv2dNchwAttrs& a, const Shape& x, const Shape& w) {
  check_conv_attrs(n, a);
  require_rank(n, "input", x, 4, "(N,C,H,W)");
  require_rank(n, "weight", w, 4, "(O,C/groups,kH,kW)");
  const std::string both = "input " + x.str() + ", weight " + w.str();
  if (x[1] % a.groups != 0)
    fail(n, "input channels " + num(x[1]) + " are not divisible by groups=" + num(a.groups) + " (" +
                both + ")");
  if (w[0] % a.groups != 0)
    fail(n, "output channels " + num(w[0]) + " are not divisible by groups=" + num(a.groups) +
                " (" + both + ")");
  if (w[1] != x[1] / a.groups)
    fail(n, "weight expects " + num(w[1]) + " input channels per group, input has " + num(x[1]) +
                " channels in " + num(a.groups) + " group(s) (" + both + ")");
  if (w[2] <= 0 || w[3] <= 0) fail(n, "kernel must be at least 1x1, got " + both);
  int64_t oh =
      conv_out(n, "height", x[2], w[2], a.stride_h, a.pad_top, a.pad_bottom, a.dilation_h, x, w);
  int64_t ow =
      conv_out(n, "width", x[3], w[3], a.stride_w, a.pad_left, a.pad_right, a.dilation_w, x, w);
  return Shape{x[0], w[0], oh, ow};
}

// ---- pooling geometry ----

// One spatial axis of a pool (PyTorch's pooling_output_shape): out = floor or ceil of
// (in + pad_a + pad_b - k) / stride, plus 1; in ceil mode a last window that would start in the
// end padding is dropped, so every window starts inside the input or the begin padding.
int64_t pool_out(const Node& n, const char* axis, int64_t in, int64_t k, int64_t stride,
                 int64_t pad_a, int64_t pad_b, bool ceil_mode, const Shape& x) {
  int64_t padded = add_checked(n, add_checked(n, in, pad_a), pad_b);
  if (padded < k)
    fail(n, std::string("window ") + axis + " " + num(k) + " does not fit the padded input " +
                axis + " " + num(padded) + " of input " + x.str());
  int64_t span = padded - k;
  int64_t out = (ceil_mode ? add_checked(n, span, stride - 1) : span) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_a) --out;
  return out;
}

Shape pool_shape(const Node& n, const PoolNchwAttrs& a, const Shape& x) {
  require_positive(n, "kH", a.kH);
  require_positive(n, "kW", a.kW);
  require_positive(n, "stride_h", a.stride_h);
  require_positive(n, "stride_w", a.stride_w);
  require_non_negative(n, "pad_top", a.pad_top);
  require_non_negative(n, "pad_left", a.pad_left);
  require_non_negative(n, "pad_bottom", a.pad_bottom);
  require_non_negative(n, "pad_right", a.pad_right);
  // A pad at least as large as the window would allow windows without any input cell.
  if (a.pad_top >= a.kH || a.pad_bottom >= a.kH)
    fail(n, "pad_top/pad_bottom (" + num(a.pad_top) + ", " + num(a.pad_bottom) +
                ") must be < kH=" + num(a.kH));
  if (a.pad_left >= a.kW || a.pad_right >= a.kW)
    fail(n, "pad_left/pad_right (" + num(a.pad_left) + ", " + num(a.pad_right) +
                ") must be < kW=" + num(a.kW));
  require_rank(n, "input", x, 4, "(N,C,H,W)");
  if (x[2] <= 0 || x[3] <= 0) fail(n, "input height and width must be > 0, got " + x.str());
  int64_t oh =
      pool_out(n, "height", x[2], a.kH, a.stride_h, a.pad_top, a.pad_bottom, a.ceil_mode, x);
  int64_t ow =
      pool_out(n, "width", x[3], a.kW, a.stride_w, a.pad_left, a.pad_right, a.ceil_mode, x);
  return Shape{x[0], x[1], oh, ow};
}

// ---- slicing and gathering ----

// Output dims of a strided slice. Every read index lies in [0, dim): for step > 0,
// 0 <= start, end <= dim; for step < 0, -1 <= start, end <= dim-1.
Shape slice_shape(const Node& n, const SliceAttrs& a, const Shape& in) {
  const size_t rank = static_cast<size_t>(in.rank());
  if (a.starts.size() != rank || a.ends.size() != rank || a.steps.size() != rank)
    fail(n, "starts " + list_str(a.starts) + ", ends " + list_str(a.ends) + ", steps " +
                list_str(a.steps) + " must each have one entry per axis of input " + in.str());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t d = in[static_cast<int64_t>(i)], start = a.starts[i], end = a.ends[i],
                  step = a.steps[i];
    const std::string where = "axis " + num(int64_t(i)) + " of input " + in.str() + ": start " +
                              num(start) + ", end " + num(end) + ", step " + num(step);
    if (step == 0) fail(n, where + ": step must not be 0");
    const int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? d : d - 1;
    if (start < lo || start > hi || end < lo || end > hi)
      fail(n, where + ": start and end must lie in [" + num(lo) + ", " + num(hi) +
                  "] (normalised bounds)");
    // ceil((end - start) / step) for a non-empty range; no overflow since all lie in [-1, d].
    int64_t len = step > 0 ? end - start : start - end;
    int64_t mag = step > 0 ? step : -step;
    out[i] = len <= 0 ? 0 : (len + mag - 1) / mag;
  }
  return Shape(std::move(out));
}

Shape gather_shape(const Node& n, const GatherAttrs& a, const Shape& data, const Shape& idx) {
  require_axis(n, a.axis, data);
  std::vector<int64_t> out(data.dims().begin(), data.dims().begin() + a.axis);
  out.insert(out.end(), idx.dims().begin(), idx.dims().end());
  out.insert(out.end(), data.dims().begin() + a.axis + 1, data.dims().end());
  return Shape(std::move(out));
}

// Gradient ops: the declared shape must be mapped by the forward op onto the gradient's shape.
void require_forward_shape(const Node& n, const Shape& forward, const Shape& grad,
                           const char* forward_name) {
  if (forward != grad)
    fail(n, std::string(forward_name) + " of the declared shape " + n.shape.str() + " is " +
                forward.str() + ", but the incoming gradient has shape " + grad.str());
}

}  // namespace

Shape rule_neg(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_div(const Node& n, const NoAttrs&, Shapes ps) { return same_shapes(n, ps); }

Shape rule_pow_const(const Node& n, const PowAttrs& a, Shapes ps) {
  if (!std::isfinite(a.exponent))
    fail(n, "exponent must be finite, got " + std::to_string(a.exponent));
  // Integer exponents are a chain of multiplications (docs/ops.md), so they are bounded.
  if (a.exponent == std::trunc(a.exponent) && std::fabs(a.exponent) > 1024)
    fail(n, "integer exponent " + std::to_string(a.exponent) + " exceeds the limit |p| <= 1024");
  return ps[0];
}

Shape rule_erf(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_gelu(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }

Shape rule_leaky_relu(const Node& n, const LeakyReluAttrs& a, Shapes ps) {
  if (!std::isfinite(a.alpha)) fail(n, "alpha must be finite, got " + std::to_string(a.alpha));
  return ps[0];
}

Shape rule_softplus(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }
Shape rule_silu(const Node&, const NoAttrs&, Shapes ps) { return ps[0]; }

Shape rule_clamp(const Node& n, const ClampAttrs& a, Shapes ps) {
  if ((a.has_lo && std::isnan(a.lo)) || (a.has_hi && std::isnan(a.hi)))
    fail(n, "clamp bounds must not be NaN");
  return ps[0];
}

Shape rule_compare(const Node& n, const CompareAttrs& a, Shapes ps) {
  static constexpr const char* kCmps[] = {"lt", "le", "gt", "ge", "eq", "ne"};
  bool known = false;
  for (const char* c : kCmps) known = known || a.cmp == c;
  if (!known) fail(n, "unknown comparison \"" + a.cmp + "\" (expected lt, le, gt, ge, eq or ne)");
  return same_shapes(n, ps);
}

Shape rule_where(const Node& n, const NoAttrs&, Shapes ps) { return same_shapes(n, ps); }

Shape rule_broadcast(const Node& n, const BroadcastAttrs& a, Shapes ps) {
  const Shape& from = ps[0];
  const Shape& to = a.to_shape;
  bool ok = from.rank() <= to.rank();
  for (int64_t i = 1; ok && i <= from.rank(); ++i) {
    int64_t f = from[from.rank() - i], t = to[to.rank() - i];
    ok = f == t || f == 1;
  }
  if (!ok)
    fail(n, "cannot broadcast " + from.str() + " to " + to.str() +
                " (right-aligned: each dim must equal the target dim or be 1)");
  for (int64_t d : to.dims()) require_non_negative(n, "to_shape dim", d);
  return to;
}

Shape rule_slice(const Node& n, const SliceAttrs& a, Shapes ps) { return slice_shape(n, a, ps[0]); }

Shape rule_pad(const Node& n, const PadAttrs& a, Shapes ps) {
  const Shape& in = ps[0];
  const size_t rank = static_cast<size_t>(in.rank());
  if (a.pads_begin.size() != rank || a.pads_end.size() != rank)
    fail(n, "pads_begin " + list_str(a.pads_begin) + " and pads_end " + list_str(a.pads_end) +
                " must each have one entry per axis of input " + in.str());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    require_non_negative(n, "pads_begin entry", a.pads_begin[i]);
    require_non_negative(n, "pads_end entry", a.pads_end[i]);
    out[i] =
        add_checked(n, add_checked(n, in[static_cast<int64_t>(i)], a.pads_begin[i]), a.pads_end[i]);
  }
  return Shape(std::move(out));
}

Shape rule_gather(const Node& n, const GatherAttrs& a, Shapes ps) {
  return gather_shape(n, a, ps[0], ps[1]);
}

Shape rule_log_softmax(const Node& n, const AxisAttrs& a, Shapes ps) {
  require_axis(n, a.axis, ps[0]);
  return ps[0];
}

Shape rule_cross_entropy(const Node& n, const NoAttrs&, Shapes ps) {
  const Shape& logits = ps[0];
  const Shape& targets = ps[1];
  if (logits.rank() != 2 || targets.rank() != 1 || targets[0] != logits[0])
    fail(n, "expected logits (N,C) and targets (N), got " + logits.str() + " and " + targets.str());
  if (logits[0] <= 0 || logits[1] <= 0)
    fail(n, "batch N and classes C must be > 0 (the mean over N), got logits " + logits.str());
  return Shape{};
}

Shape rule_conv2d_nchw(const Node& n, const Conv2dNchwAttrs& a, Shapes ps) {
  if (ps.size() != 2 && ps.size() != 3)
    fail(n, "expected 2 or 3 parents (input, weight[, bias]), got " + num(int64_t(ps.size())));
  Shape out = conv_shape(n, a, ps[0], ps[1]);
  if (ps.size() == 3 && ps[2] != Shape{ps[1][0]})
    fail(n, "bias has shape " + ps[2].str() + ", expected (" + num(ps[1][0]) + ") for weight " +
                ps[1].str());
  return out;
}

Shape rule_max_pool2d_nchw(const Node& n, const PoolNchwAttrs& a, Shapes ps) {
  return pool_shape(n, a, ps[0]);
}

Shape rule_avg_pool2d_nchw(const Node& n, const PoolNchwAttrs& a, Shapes ps) {
  return pool_shape(n, a, ps[0]);
}

// (x, g) -> dx with dx shaped like x.
Shape rule_max_pool2d_nchw_grad(const Node& n, const PoolNchwAttrs& a, Shapes ps) {
  if (n.shape != ps[0])
    fail(n, "declared shape " + n.shape.str() + " differs from input " + ps[0].str());
  require_forward_shape(n, pool_shape(n, a, ps[0]), ps[1], "max_pool2d_nchw");
  return ps[0];
}

// (g) -> dx, dx shape declared.
Shape rule_avg_pool2d_nchw_grad(const Node& n, const PoolNchwAttrs& a, Shapes ps) {
  require_forward_shape(n, pool_shape(n, a, n.shape), ps[0], "avg_pool2d_nchw");
  return n.shape;
}

// (g, weight) -> dx, dx shape declared.
Shape rule_conv2d_nchw_grad_input(const Node& n, const Conv2dNchwAttrs& a, Shapes ps) {
  require_forward_shape(n, conv_shape(n, a, n.shape, ps[1]), ps[0], "conv2d_nchw");
  return n.shape;
}

// (x, g) -> dweight, dweight shape declared.
Shape rule_conv2d_nchw_grad_weight(const Node& n, const Conv2dNchwAttrs& a, Shapes ps) {
  require_forward_shape(n, conv_shape(n, a, ps[0], n.shape), ps[1], "conv2d_nchw");
  return n.shape;
}

// (indices, g) -> d data, data shape declared.
Shape rule_gather_grad(const Node& n, const GatherAttrs& a, Shapes ps) {
  require_forward_shape(n, gather_shape(n, a, n.shape, ps[0]), ps[1], "gather");
  return n.shape;
}

// (g) -> d input, input shape declared.
Shape rule_slice_grad(const Node& n, const SliceAttrs& a, Shapes ps) {
  require_forward_shape(n, slice_shape(n, a, n.shape), ps[0], "slice");
  return n.shape;
}

}  // namespace torchlean::ir::ext_rules
