// ONNX import handlers for arithmetic: elementwise ops with NumPy broadcasting, activations,
// MatMul/Gemm, reductions, Softmax/LogSoftmax, comparisons and LayerNormalization (decomposed).
// Integer statics (shape arithmetic) are folded; everything real becomes IR nodes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "torchlean/core/error.hpp"
#include "torchlean/io/onnx_import_detail.hpp"

namespace torchlean::io::onnx_detail {

namespace {

using ir::OpKind;

bool int_static(const Value& v) { return v.stat && v.elem != Elem::real; }

// Flat index into a right-aligned broadcast source of shape `from` for output index `flat`.
int64_t broadcast_index(const Shape& out, const Shape& from, int64_t flat) {
  int64_t idx = 0, stride = 1;
  for (int64_t k = out.rank() - 1, j = from.rank() - 1; k >= 0; --k, --j) {
    const int64_t coord = flat % out[k];
    flat /= out[k];
    if (j >= 0) {
      if (from[j] != 1) idx += coord * stride;
      stride *= from[j];
    }
  }
  return idx;
}

// Folds a binary op on integer/boolean statics with broadcasting.
template <class F>
Value fold_binary(NodeContext& c, Elem elem, F f) {
  const StaticTensor& a = *c.input(0).stat;
  const StaticTensor& b = *c.input(1).stat;
  const std::optional<Shape> out = broadcast_shape(a.shape, b.shape);
  if (!out) c.fail("cannot broadcast " + a.shape.str() + " with " + b.shape.str());
  require_foldable(*out);
  std::vector<int64_t> v(static_cast<size_t>(out->numel()));
  for (int64_t i = 0; i < out->numel(); ++i)
    v[static_cast<size_t>(i)] = f(a.ints[static_cast<size_t>(broadcast_index(*out, a.shape, i))],
                                  b.ints[static_cast<size_t>(broadcast_index(*out, b.shape, i))]);
  StaticTensor t = static_ints(*out, std::move(v));
  t.elem = elem;
  return static_value(std::move(t));
}

// Materialises inputs `ids` and broadcasts them to their common shape.
std::vector<int64_t> broadcast_inputs(NodeContext& c, std::initializer_list<int> ids,
                                      bool any_elem = false) {
  std::vector<int64_t> nodes;
  std::optional<Shape> out = Shape{};
  for (int i : ids) {
    nodes.push_back(c.input_node(i, any_elem && i == 0));
    const Shape& s = c.im.shape(nodes.back());
    std::optional<Shape> next = broadcast_shape(*out, s);
    if (!next)
      c.fail("cannot broadcast " + out->str() + " with input " + std::to_string(i) + " " + s.str());
    out = next;
  }
  for (int64_t& n : nodes) n = c.im.broadcast(n, *out);
  return nodes;
}

void require_no_overflow(NodeContext& c, bool overflow) {
  if (overflow) c.fail("integer arithmetic overflows int64");
}

template <OpKind K>
void binary(NodeContext& c) {
  c.require_inputs(2, 2);
  if (int_static(c.input(0)) && int_static(c.input(1))) {
    c.set_output(0, fold_binary(c, Elem::integer, [&](int64_t a, int64_t b) -> int64_t {
                   int64_t r = 0;
                   switch (K) {
                     case OpKind::add:
                       require_no_overflow(c, __builtin_add_overflow(a, b, &r));
                       return r;
                     case OpKind::sub:
                       require_no_overflow(c, __builtin_sub_overflow(a, b, &r));
                       return r;
                     case OpKind::mul_elem:
                       require_no_overflow(c, __builtin_mul_overflow(a, b, &r));
                       return r;
                     default:
                       if (b == 0) c.fail("integer division by zero");
                       // ONNX integer Div truncates; INT64_MIN / -1 is the one overflow.
                       require_no_overflow(c, a == std::numeric_limits<int64_t>::min() && b == -1);
                       return a / b;
                   }
                 }));
    return;
  }
  std::vector<int64_t> n = broadcast_inputs(c, {0, 1});
  c.set_output_node(0, c.im.add(K, {n[0], n[1]}));
}

// Max/Min: variadic, folded pairwise left to right.
template <OpKind K>
void variadic_minmax(NodeContext& c) {
  c.require_inputs(1, std::numeric_limits<int>::max());
  if (c.num_inputs() == 1) {
    c.set_output(0, c.input(0));
    return;
  }
  int64_t acc = c.input_node(0);
  for (int i = 1; i < c.num_inputs(); ++i) {
    int64_t rhs = c.input_node(i);
    const std::optional<Shape> s = broadcast_shape(c.im.shape(acc), c.im.shape(rhs));
    if (!s) c.fail("cannot broadcast " + c.im.shape(acc).str() + " with " + c.im.shape(rhs).str());
    acc = c.im.add(K, {c.im.broadcast(acc, *s), c.im.broadcast(rhs, *s)});
  }
  c.set_output_node(0, acc);
}

template <OpKind K>
void unary(NodeContext& c) {
  c.require_inputs(1, 1);
  c.set_output_node(0, c.im.add(K, {c.input_node(0)}));
}

void leaky_relu(NodeContext& c) {
  c.require_inputs(1, 1);
  const double alpha = c.attrs.get_float("alpha", 0.01f);
  c.set_output_node(0, c.im.add(OpKind::leaky_relu, {c.input_node(0)}, ir::LeakyReluAttrs{alpha}));
}

double static_scalar(NodeContext& c, int i, const std::string& what) {
  const StaticTensor& t = c.static_input(i, what);
  if (t.numel() != 1) c.fail(what + " must hold one value, got shape " + t.shape.str());
  return t.as_reals(what)[0];
}

void pow(NodeContext& c) {
  c.require_inputs(2, 2);
  const double p = static_scalar(c, 1, "Pow exponent");
  int64_t x = c.input_node(0);
  const std::optional<Shape> s = broadcast_shape(c.im.shape(x), c.input(1).shape);
  if (!s)
    c.fail("cannot broadcast " + c.im.shape(x).str() + " with exponent " + c.input(1).shape.str());
  c.set_output_node(0, c.im.add(OpKind::pow_const, {c.im.broadcast(x, *s)}, ir::PowAttrs{p}));
}

void clip(NodeContext& c, std::optional<double> lo, std::optional<double> hi) {
  ir::ClampAttrs a;
  a.has_lo = lo.has_value();
  a.has_hi = hi.has_value();
  a.lo = lo.value_or(0);
  a.hi = hi.value_or(0);
  const int64_t x = c.input_node(0);
  c.set_output_node(0, (a.has_lo || a.has_hi) ? c.im.add(OpKind::clamp, {x}, a) : x);
}

// Clip-6: bounds as attributes, +-inf (FLT_MAX in old exporters) meaning none.
void clip_attrs(NodeContext& c) {
  c.require_inputs(1, 1);
  std::optional<double> lo, hi;
  if (c.attrs.has("min")) lo = c.attrs.get_float("min", 0);
  if (c.attrs.has("max")) hi = c.attrs.get_float("max", 0);
  clip(c, lo, hi);
}

// Clip-11: bounds as optional scalar inputs.
void clip_inputs(NodeContext& c) {
  c.require_inputs(1, 3);
  std::optional<double> lo, hi;
  if (c.has_input(1)) lo = static_scalar(c, 1, "Clip min");
  if (c.has_input(2)) hi = static_scalar(c, 2, "Clip max");
  clip(c, lo, hi);
}

// Softmax/LogSoftmax before opset 13: the input is coerced to 2-D at `axis` (default 1) and the op
// runs along the second dim.
template <OpKind K>
void softmax_coerced(NodeContext& c) {
  c.require_inputs(1, 1);
  const int64_t x = c.input_node(0);
  const Shape s = c.im.shape(x);
  if (s.rank() == 0) c.fail("input must have rank >= 1, got ()");
  const int64_t axis = normalize_axis(c.attrs.get_int("axis", 1), s.rank(), "axis");
  if (axis == s.rank() - 1) {
    c.set_output_node(0, c.im.add(K, {x}, ir::AxisAttrs{axis}));
    return;
  }
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < s.rank(); ++k) (k < axis ? outer : inner) *= s[k];
  const int64_t y = c.im.add(K, {c.im.reshape(x, Shape{outer, inner})}, ir::AxisAttrs{1});
  c.set_output_node(0, c.im.reshape(y, s));
}

template <OpKind K>
void softmax_axis(NodeContext& c) {
  c.require_inputs(1, 1);
  const int64_t x = c.input_node(0);
  const int64_t axis = normalize_axis(c.attrs.get_int("axis", -1), c.im.shape(x).rank(), "axis");
  c.set_output_node(0, c.im.add(K, {x}, ir::AxisAttrs{axis}));
}

// NumPy matmul: 1-D operands are promoted and the added dim removed; batch dims broadcast.
void matmul(NodeContext& c) {
  c.require_inputs(2, 2);
  int64_t a = c.input_node(0), b = c.input_node(1);
  const Shape sa = c.im.shape(a), sb = c.im.shape(b);
  if (sa.rank() == 0 || sb.rank() == 0)
    c.fail("operands must have rank >= 1, got " + sa.str() + " x " + sb.str());
  if (sa.rank() == 1) a = c.im.reshape(a, Shape{1, sa[0]});
  if (sb.rank() == 1) b = c.im.reshape(b, Shape{sb[0], 1});
  const Shape ra = c.im.shape(a), rb = c.im.shape(b);
  if (ra[ra.rank() - 1] != rb[rb.rank() - 2])
    c.fail("inner dims mismatch: " + sa.str() + " x " + sb.str());
  if (rb.rank() > 2) {
    const std::vector<int64_t> ba(ra.dims().begin(), ra.dims().end() - 2),
        bb(rb.dims().begin(), rb.dims().end() - 2);
    const std::optional<Shape> batch = broadcast_shape(Shape(ba), Shape(bb));
    if (!batch) c.fail("batch dims of " + sa.str() + " and " + sb.str() + " do not broadcast");
    std::vector<int64_t> ta = batch->dims(), tb = batch->dims();
    ta.insert(ta.end(), ra.dims().end() - 2, ra.dims().end());
    tb.insert(tb.end(), rb.dims().end() - 2, rb.dims().end());
    a = c.im.broadcast(a, Shape(ta));
    b = c.im.broadcast(b, Shape(tb));
  }
  int64_t y = c.im.add(OpKind::matmul, {a, b});
  std::vector<int64_t> dims = c.im.shape(y).dims();
  if (sb.rank() == 1) dims.pop_back();
  if (sa.rank() == 1) dims.erase(dims.end() - (sb.rank() == 1 ? 1 : 2));
  c.set_output_node(0, c.im.reshape(y, Shape(std::move(dims))));
}

// Gemm: Y = alpha * A' B' + beta * C. The common exported form (A dynamic 2-D, B and C constant,
// alpha = beta = 1, transA = 0) becomes `linear` with weight/bias payload; anything else is
// matmul, permute, mul and a broadcast add.
void gemm(NodeContext& c) {
  c.require_inputs(2, 3);
  const double alpha = c.attrs.get_float("alpha", 1.0f), beta = c.attrs.get_float("beta", 1.0f);
  const bool trans_a = c.attrs.get_int("transA", 0) != 0,
             trans_b = c.attrs.get_int("transB", 0) != 0;
  const Value& va = c.input(0);
  const Value& vb = c.input(1);
  if (va.shape.rank() != 2 || vb.shape.rank() != 2)
    c.fail("A and B must be 2-D, got " + va.shape.str() + " and " + vb.shape.str());
  const int64_t k = trans_a ? va.shape[0] : va.shape[1];
  const int64_t m = trans_a ? va.shape[1] : va.shape[0];
  const int64_t kb = trans_b ? vb.shape[1] : vb.shape[0];
  const int64_t o = trans_b ? vb.shape[0] : vb.shape[1];
  if (k != kb)
    c.fail("inner dims mismatch: A " + va.shape.str() + (trans_a ? "^T" : "") + " x B " +
           vb.shape.str() + (trans_b ? "^T" : ""));
  const Value* vc = c.has_input(2) ? &c.input(2) : nullptr;
  if (vc && !broadcast_shape(vc->shape, Shape{m, o}).has_value())
    c.fail("C " + vc->shape.str() + " does not broadcast to " + Shape{m, o}.str());
  const bool c_is_row =
      vc == nullptr || (vc->stat && vc->elem == Elem::real && vc->shape.numel() == o &&
                        vc->shape.rank() <= 2 && (vc->shape.rank() < 2 || vc->shape[0] == 1) &&
                        (vc->shape.rank() == 0 || vc->shape[vc->shape.rank() - 1] == o));
  if (!trans_a && alpha == 1.0 && beta == 1.0 && vb.stat && vb.elem == Elem::real && c_is_row) {
    const std::vector<double> bv = vb.stat->as_reals("B");
    Tensor<double> w(Shape{o, k});
    for (int64_t i = 0; i < o; ++i)
      for (int64_t j = 0; j < k; ++j)
        w[i * k + j] =
            trans_b ? bv[static_cast<size_t>(i * k + j)] : bv[static_cast<size_t>(j * o + i)];
    Tensor<double> bias(Shape{o}, 0.0);
    if (vc) bias = Tensor<double>(Shape{o}, vc->stat->as_reals("C"));
    const int64_t y = c.im.add(OpKind::linear, {c.input_node(0)}, ir::NoAttrs{}, Shape{m, o});
    c.im.b.set_payload(y, "weight", std::move(w));
    c.im.b.set_payload(y, "bias", std::move(bias));
    c.set_output_node(0, y);
    return;
  }
  int64_t a = c.input_node(0), b = c.input_node(1);
  if (trans_a) a = c.im.permute(a, {1, 0});
  if (trans_b) b = c.im.permute(b, {1, 0});
  int64_t y = c.im.add(OpKind::matmul, {a, b});
  auto scale = [&](int64_t id, double s) {
    if (s == 1.0) return id;
    const int64_t k_id = c.im.broadcast(
        c.im.constant(Tensor<double>(Shape{}, std::vector<double>{s})), c.im.shape(id));
    return c.im.add(OpKind::mul_elem, {id, k_id});
  };
  y = scale(y, alpha);
  if (vc)
    y = c.im.add(OpKind::add, {y, c.im.broadcast(scale(c.input_node(2), beta), c.im.shape(y))});
  c.set_output_node(0, y);
}

// Reduction axes normalised, sorted and distinct; empty means "all".
std::vector<int64_t> reduce_axes(NodeContext& c, const std::vector<int64_t>& raw, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t a : raw) axes.push_back(normalize_axis(a, rank, "reduction axis"));
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    c.fail("repeated reduction axis in " + dims_str(raw));
  return axes;
}

void reduce(NodeContext& c, OpKind kind, std::optional<std::vector<int64_t>> raw,
            bool noop_with_empty) {
  const bool keepdims = c.attrs.get_int("keepdims", 1) != 0;
  const int64_t x = c.input_node(0);
  const Shape s = c.im.shape(x);
  std::vector<int64_t> axes = reduce_axes(c, raw.value_or(std::vector<int64_t>{}), s.rank());
  if (axes.empty()) {
    if (noop_with_empty) {
      c.set_output_node(0, x);
      return;
    }
    axes.resize(static_cast<size_t>(s.rank()));
    std::iota(axes.begin(), axes.end(), 0);
    if (kind == OpKind::reduce_sum && !keepdims) {  // all axes: TorchLean's `sum`
      c.set_output_node(0, c.im.add(OpKind::sum, {x}));
      return;
    }
  }
  c.set_output_node(0, c.im.reduce(kind, x, axes, keepdims));
}

template <OpKind K>
void reduce_attr_axes(NodeContext& c) {
  c.require_inputs(1, 1);
  reduce(c, K, c.attrs.get_ints("axes"), false);
}

void reduce_sum_input_axes(NodeContext& c) {
  c.require_inputs(1, 2);
  std::optional<std::vector<int64_t>> axes;
  if (c.has_input(1)) axes = c.static_ints(1, "ReduceSum axes");
  reduce(c, OpKind::reduce_sum, axes, c.attrs.get_int("noop_with_empty_axes", 0) != 0);
}

// Comparisons give booleans (0/1 reals at run time); integer statics fold.
template <int Cmp>
void compare(NodeContext& c) {
  static constexpr const char* kNames[] = {"lt", "le", "gt", "ge", "eq"};
  c.require_inputs(2, 2);
  if (int_static(c.input(0)) && int_static(c.input(1))) {
    c.set_output(0, fold_binary(c, Elem::boolean, [](int64_t a, int64_t b) -> int64_t {
                   switch (Cmp) {
                     case 0:
                       return a < b;
                     case 1:
                       return a <= b;
                     case 2:
                       return a > b;
                     case 3:
                       return a >= b;
                     default:
                       return a == b;
                   }
                 }));
    return;
  }
  std::vector<int64_t> n = broadcast_inputs(c, {0, 1});
  c.set_output(
      0, dynamic_value(c.im, c.im.add(OpKind::compare, {n[0], n[1]}, ir::CompareAttrs{kNames[Cmp]}),
                       Elem::boolean));
}

void where(NodeContext& c) {
  c.require_inputs(3, 3);
  if (c.input(0).elem != Elem::boolean && c.input(0).elem != Elem::truthy)
    c.fail("condition must be a boolean tensor");
  std::vector<int64_t> n = broadcast_inputs(c, {0, 1, 2}, true);
  c.set_output_node(0, c.im.add(OpKind::where, {n[0], n[1], n[2]}));
}

// Not of a boolean: compare(x, 0, "eq"); boolean statics fold.
void logical_not(NodeContext& c) {
  c.require_inputs(1, 1);
  const Value& v = c.input(0);
  if (v.elem != Elem::boolean) c.fail("input must be a boolean tensor (a comparison result)");
  if (v.stat) {
    StaticTensor t = *v.stat;
    for (int64_t& x : t.ints) x = x == 0;
    c.set_output(0, static_value(std::move(t)));
    return;
  }
  const int64_t x = c.input_node(0);
  const int64_t zero = c.im.broadcast(
      c.im.constant(Tensor<double>(Shape{}, std::vector<double>{0.0})), c.im.shape(x));
  c.set_output(0, dynamic_value(c.im, c.im.add(OpKind::compare, {x, zero}, ir::CompareAttrs{"eq"}),
                                Elem::boolean));
}

// LayerNormalization-17, decomposed as PyTorch exports layer_norm below opset 17:
// mean, centre, mean of squares, + eps, sqrt, divide, * scale, + bias.
void layer_normalization(NodeContext& c) {
  c.require_inputs(2, 3);
  const int64_t x = c.input_node(0);
  const Shape s = c.im.shape(x);
  if (s.rank() == 0) c.fail("input must have rank >= 1, got ()");
  const int64_t axis = normalize_axis(c.attrs.get_int("axis", -1), s.rank(), "axis");
  const double eps = c.attrs.get_float("epsilon", 1e-5f);
  if (c.attrs.get_int("stash_type", 1) != 1) c.fail("only stash_type 1 (float) is supported");
  std::vector<int64_t> axes;
  for (int64_t k = axis; k < s.rank(); ++k) axes.push_back(k);
  Importer& im = c.im;
  const int64_t mean = im.reduce(OpKind::reduce_mean, x, axes, true);
  const int64_t d = im.add(OpKind::sub, {x, im.broadcast(mean, s)});
  const int64_t var = im.reduce(OpKind::reduce_mean, im.add(OpKind::mul_elem, {d, d}), axes, true);
  const int64_t e =
      im.broadcast(im.constant(Tensor<double>(Shape{}, std::vector<double>{eps})), im.shape(var));
  const int64_t sd = im.add(OpKind::sqrt, {im.add(OpKind::add, {var, e})});
  int64_t y = im.add(OpKind::div, {d, im.broadcast(sd, s)});
  auto affine = [&](int i, OpKind k) {
    const int64_t p = c.input_node(i);
    if (!broadcast_shape(im.shape(p), s) || *broadcast_shape(im.shape(p), s) != s)
      c.fail("input " + std::to_string(i) + " " + im.shape(p).str() + " does not broadcast to " +
             s.str());
    y = im.add(k, {y, im.broadcast(p, s)});
  };
  affine(1, OpKind::mul_elem);
  if (c.has_input(2)) affine(2, OpKind::add);
  c.set_output_node(0, y);
}

}  // namespace

void add_math_handlers(std::vector<HandlerEntry>& t) {
  t.insert(t.end(), {
                        {"Add", 7, binary<OpKind::add>},
                        {"Sub", 7, binary<OpKind::sub>},
                        {"Mul", 7, binary<OpKind::mul_elem>},
                        {"Div", 7, binary<OpKind::div>},
                        {"Max", 8, variadic_minmax<OpKind::max_elem>},
                        {"Min", 8, variadic_minmax<OpKind::min_elem>},
                        {"Relu", 6, unary<OpKind::relu>},
                        {"Sigmoid", 6, unary<OpKind::sigmoid>},
                        {"Tanh", 6, unary<OpKind::tanh>},
                        {"Exp", 6, unary<OpKind::exp>},
                        {"Log", 6, unary<OpKind::log>},
                        {"Sqrt", 6, unary<OpKind::sqrt>},
                        {"Neg", 6, unary<OpKind::neg>},
                        {"Abs", 6, unary<OpKind::abs>},
                        {"Reciprocal", 6, unary<OpKind::inv>},
                        {"Sin", 7, unary<OpKind::sin>},
                        {"Cos", 7, unary<OpKind::cos>},
                        {"Erf", 9, unary<OpKind::erf>},
                        {"Softplus", 1, unary<OpKind::softplus>},
                        {"LeakyRelu", 6, leaky_relu},
                        {"Pow", 7, pow},
                        {"Clip", 6, clip_attrs},
                        {"Clip", 11, clip_inputs},
                        {"Softmax", 1, softmax_coerced<OpKind::softmax>},
                        {"Softmax", 13, softmax_axis<OpKind::softmax>},
                        {"LogSoftmax", 1, softmax_coerced<OpKind::log_softmax>},
                        {"LogSoftmax", 13, softmax_axis<OpKind::log_softmax>},
                        {"MatMul", 1, matmul},
                        {"Gemm", 7, gemm},
                        {"ReduceSum", 1, reduce_attr_axes<OpKind::reduce_sum>},
                        {"ReduceSum", 13, reduce_sum_input_axes},
                        {"ReduceMean", 1, reduce_attr_axes<OpKind::reduce_mean>},
                        {"Less", 7, compare<0>},
                        {"LessOrEqual", 12, compare<1>},
                        {"Greater", 7, compare<2>},
                        {"GreaterOrEqual", 12, compare<3>},
                        {"Equal", 7, compare<4>},
                        {"Where", 9, where},
                        {"Not", 1, logical_not},
                        {"LayerNormalization", 17, layer_normalization},
                    });
}

}  // namespace torchlean::io::onnx_detail
