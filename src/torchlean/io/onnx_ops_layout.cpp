// ONNX import handlers for layout and constants: Reshape, Flatten, Transpose, Squeeze, Unsqueeze,
// Concat, Slice, Gather, Pad, Expand, Shape, Constant, ConstantOfShape, Identity, Cast, Dropout.
// Integer statics (the Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains PyTorch exports)
// are folded at import; real values always become IR nodes, so export -> import is the identity.
#include <algorithm>
#include <limits>
#include <numeric>

#include "torchlean/core/error.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/io/onnx_import_detail.hpp"

namespace torchlean::io::onnx_detail {

namespace {

using ir::OpKind;

bool int_static(const Value& v) { return v.stat && v.elem != Elem::real; }

// Binds output 0 to input 0 reshaped to `to` (folded for integer statics).
void reshape_to(NodeContext& c, const Shape& to) {
  const Value& v = c.input(0);
  if (v.shape.numel() != to.numel())
    c.fail("cannot reshape " + v.shape.str() + " (" + std::to_string(v.shape.numel()) +
           " elements) to " + to.str());
  if (int_static(v)) {
    StaticTensor t = *v.stat;
    t.shape = to;
    c.set_output(0, static_value(std::move(t)));
    return;
  }
  const Elem elem = v.elem;
  c.set_output(0, dynamic_value(c.im, c.im.reshape(c.input_node(0), to), elem));
}

Shape checked_dims(NodeContext& c, std::vector<int64_t> dims) {
  int64_t count = 1;
  for (int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(count, d, &count) || count > kOnnxMaxElements)
      c.fail("invalid target shape " + dims_str(dims));
  return Shape(std::move(dims));
}

void reshape(NodeContext& c) {
  c.require_inputs(2, 2);
  const bool allowzero = c.attrs.get_int("allowzero", 0) != 0;
  std::vector<int64_t> dims = c.static_ints(1, "Reshape shape");
  const Shape& in = c.input(0).shape;
  int64_t infer = -1, known = 1;
  for (size_t k = 0; k < dims.size(); ++k) {
    if (dims[k] == 0 && !allowzero) {
      if (static_cast<int64_t>(k) >= in.rank())
        c.fail("shape " + dims_str(dims) + ": 0 at axis " + std::to_string(k) +
               " has no input dim to copy");
      dims[k] = in[static_cast<int64_t>(k)];
    }
    if (dims[k] == -1) {
      if (infer >= 0) c.fail("shape " + dims_str(dims) + " has more than one -1");
      infer = static_cast<int64_t>(k);
    } else if (dims[k] < 0) {
      c.fail("shape " + dims_str(dims) + " has a negative dim");
    } else if (__builtin_mul_overflow(known, dims[k], &known)) {
      c.fail("shape " + dims_str(dims) + " overflows int64");
    }
  }
  if (infer >= 0) {
    if (known == 0 || in.numel() % known != 0)
      c.fail("cannot infer the -1 in " + dims_str(dims) + " for input " + in.str());
    dims[static_cast<size_t>(infer)] = in.numel() / known;
  }
  reshape_to(c, checked_dims(c, dims));
}

void flatten(NodeContext& c) {
  c.require_inputs(1, 1);
  const Shape& in = c.input(0).shape;
  int64_t axis = c.attrs.get_int("axis", 1);
  if (axis < 0) axis += in.rank();
  if (axis < 0 || axis > in.rank())
    c.fail("axis " + std::to_string(axis) + " out of range for " + in.str());
  int64_t outer = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= in[k];
  reshape_to(c, Shape{outer, outer == 0 ? 0 : in.numel() / outer});
}

void squeeze(NodeContext& c, std::optional<std::vector<int64_t>> raw) {
  const Shape& in = c.input(0).shape;
  std::vector<bool> drop(static_cast<size_t>(in.rank()), false);
  if (!raw) {
    for (int64_t k = 0; k < in.rank(); ++k) drop[static_cast<size_t>(k)] = in[k] == 1;
  } else {
    for (int64_t a : *raw) {
      const int64_t k = normalize_axis(a, in.rank(), "axis");
      if (in[k] != 1)
        c.fail("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(in[k]) +
               " in " + in.str());
      drop[static_cast<size_t>(k)] = true;
    }
  }
  std::vector<int64_t> dims;
  for (int64_t k = 0; k < in.rank(); ++k)
    if (!drop[static_cast<size_t>(k)]) dims.push_back(in[k]);
  reshape_to(c, Shape(std::move(dims)));
}

void squeeze_attr(NodeContext& c) {
  c.require_inputs(1, 1);
  squeeze(c, c.attrs.get_ints("axes"));
}

void squeeze_input(NodeContext& c) {
  c.require_inputs(1, 2);
  squeeze(c, c.has_input(1) ? std::optional(c.static_ints(1, "Squeeze axes")) : std::nullopt);
}

void unsqueeze(NodeContext& c, const std::vector<int64_t>& raw) {
  const Shape& in = c.input(0).shape;
  const int64_t rank = in.rank() + static_cast<int64_t>(raw.size());
  std::vector<bool> ones(static_cast<size_t>(rank), false);
  for (int64_t a : raw) {
    const int64_t k = normalize_axis(a, rank, "axis");
    if (ones[static_cast<size_t>(k)]) c.fail("repeated axis in " + dims_str(raw));
    ones[static_cast<size_t>(k)] = true;
  }
  std::vector<int64_t> dims;
  for (int64_t k = 0, j = 0; k < rank; ++k)
    dims.push_back(ones[static_cast<size_t>(k)] ? 1 : in[j++]);
  reshape_to(c, Shape(std::move(dims)));
}

void unsqueeze_attr(NodeContext& c) {
  c.require_inputs(1, 1);
  auto axes = c.attrs.get_ints("axes");
  if (!axes) c.fail("missing attribute 'axes'");
  unsqueeze(c, *axes);
}

void unsqueeze_input(NodeContext& c) {
  c.require_inputs(2, 2);
  unsqueeze(c, c.static_ints(1, "Unsqueeze axes"));
}

void transpose(NodeContext& c) {
  c.require_inputs(1, 1);
  const int64_t rank = c.input(0).shape.rank();
  std::vector<int64_t> perm(static_cast<size_t>(rank));
  std::iota(perm.rbegin(), perm.rend(), 0);
  if (auto p = c.attrs.get_ints("perm")) perm = *p;
  if (static_cast<int64_t>(perm.size()) != rank)
    c.fail("perm " + dims_str(perm) + " does not match rank " + std::to_string(rank));
  const Elem elem = c.input(0).elem;
  c.set_output(0, dynamic_value(c.im, c.im.permute(c.input_node(0), perm), elem));
}

void concat(NodeContext& c) {
  c.require_inputs(1, std::numeric_limits<int>::max());
  if (!c.attrs.has("axis")) c.fail("missing attribute 'axis'");
  const int64_t rank = c.input(0).shape.rank();
  const int64_t axis = normalize_axis(c.attrs.get_int("axis", 0), rank, "axis");
  bool all_int = true;
  for (int i = 0; i < c.num_inputs(); ++i) all_int = all_int && int_static(c.input(i));
  if (all_int) {
    // Concatenation of integer statics (shape vectors, usually 1-D).
    std::vector<int64_t> dims = c.input(0).shape.dims();
    dims[static_cast<size_t>(axis)] = 0;
    for (int i = 0; i < c.num_inputs(); ++i) {
      const Shape& s = c.input(i).shape;
      for (int64_t k = 0; k < rank; ++k)
        if (s.rank() != rank || (k != axis && s[k] != dims[static_cast<size_t>(k)]))
          c.fail("input " + std::to_string(i) + " " + s.str() + " does not match input 0 " +
                 c.input(0).shape.str());
      dims[static_cast<size_t>(axis)] += s[axis];
    }
    int64_t outer = 1;
    for (int64_t k = 0; k < axis; ++k) outer *= dims[static_cast<size_t>(k)];
    std::vector<int64_t> v;
    for (int64_t o = 0; o < outer; ++o)
      for (int i = 0; i < c.num_inputs(); ++i) {
        const StaticTensor& t = *c.input(i).stat;
        const int64_t chunk = outer == 0 ? 0 : t.numel() / outer;
        v.insert(v.end(), t.ints.begin() + o * chunk, t.ints.begin() + (o + 1) * chunk);
      }
    c.set_output(0, static_value(static_ints(Shape(dims), std::move(v))));
    return;
  }
  if (c.num_inputs() == 1) {
    c.set_output(0, c.input(0));
    return;
  }
  std::vector<int64_t> parents;
  for (int i = 0; i < c.num_inputs(); ++i) parents.push_back(c.input_node(i));
  c.set_output_node(0, c.im.add(OpKind::concat, parents, ir::AxisAttrs{axis}));
}

// Slice with ONNX clamping, giving the IR's normalised per-axis (start, end, step).
void slice(NodeContext& c, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
           std::optional<std::vector<int64_t>> axes_in,
           std::optional<std::vector<int64_t>> steps_in) {
  const Shape in = c.input(0).shape;
  const size_t n = starts.size();
  std::vector<int64_t> axes = axes_in.value_or(std::vector<int64_t>{});
  if (!axes_in)
    for (size_t k = 0; k < n; ++k) axes.push_back(static_cast<int64_t>(k));
  const std::vector<int64_t> steps = steps_in.value_or(std::vector<int64_t>(n, 1));
  if (ends.size() != n || axes.size() != n || steps.size() != n)
    c.fail("starts " + dims_str(starts) + ", ends " + dims_str(ends) + ", axes " + dims_str(axes) +
           " and steps " + dims_str(steps) + " must have equal lengths");
  ir::SliceAttrs a;
  for (int64_t k = 0; k < in.rank(); ++k) {
    a.starts.push_back(0);
    a.ends.push_back(in[k]);
    a.steps.push_back(1);
  }
  std::vector<bool> seen(static_cast<size_t>(in.rank()), false);
  for (size_t k = 0; k < n; ++k) {
    const int64_t ax = normalize_axis(axes[k], in.rank(), "axis");
    if (seen[static_cast<size_t>(ax)]) c.fail("repeated axis in " + dims_str(axes));
    seen[static_cast<size_t>(ax)] = true;
    const int64_t dim = in[ax], step = steps[k];
    if (step == 0) c.fail("step 0 at axis " + std::to_string(ax));
    auto clampv = [](int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v, lo), hi); };
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s = s < -dim ? -1 - dim : s + dim;  // keeps very negative values below range
    if (e < 0) e = e < -dim ? -1 - dim : e + dim;
    if (step > 0) {
      s = clampv(s, 0, dim);
      e = clampv(e, 0, dim);
    } else {
      s = clampv(s, 0, dim - 1);
      e = clampv(e, -1, dim - 1);
    }
    a.starts[static_cast<size_t>(ax)] = s;
    a.ends[static_cast<size_t>(ax)] = e;
    a.steps[static_cast<size_t>(ax)] = step;
  }
  bool identity = true;
  for (int64_t k = 0; k < in.rank(); ++k)
    identity = identity && a.starts[static_cast<size_t>(k)] == 0 &&
               a.ends[static_cast<size_t>(k)] == in[k] && a.steps[static_cast<size_t>(k)] == 1;
  if (identity) {
    c.set_output(0, c.input(0));
    return;
  }
  if (int_static(c.input(0))) {
    if (in.rank() != 1)
      c.fail("slicing an integer tensor of rank " + std::to_string(in.rank()) +
             " is not supported");
    const StaticTensor& t = *c.input(0).stat;
    std::vector<int64_t> v;
    for (int64_t i = a.starts[0]; a.steps[0] > 0 ? i < a.ends[0] : i > a.ends[0]; i += a.steps[0])
      v.push_back(t.ints[static_cast<size_t>(i)]);
    StaticTensor out = static_ints(Shape{static_cast<int64_t>(v.size())}, std::move(v));
    out.elem = t.elem;
    c.set_output(0, static_value(std::move(out)));
    return;
  }
  c.set_output_node(0, c.im.add(OpKind::slice, {c.input_node(0)}, a));
}

void slice_attrs(NodeContext& c) {
  c.require_inputs(1, 1);
  auto starts = c.attrs.get_ints("starts");
  auto ends = c.attrs.get_ints("ends");
  if (!starts || !ends) c.fail("missing attribute 'starts' or 'ends'");
  slice(c, *starts, *ends, c.attrs.get_ints("axes"), std::nullopt);
}

void slice_inputs(NodeContext& c) {
  c.require_inputs(3, 5);
  slice(c, c.static_ints(1, "Slice starts"), c.static_ints(2, "Slice ends"),
        c.has_input(3) ? std::optional(c.static_ints(3, "Slice axes")) : std::nullopt,
        c.has_input(4) ? std::optional(c.static_ints(4, "Slice steps")) : std::nullopt);
}

// Split into slices along axis: sizes from the attribute (< 13) or input (13+), else equal parts.
void split(NodeContext& c, std::optional<std::vector<int64_t>> sizes) {
  const Shape in = c.input(0).shape;
  if (in.rank() == 0) c.fail("input must have rank >= 1, got ()");
  const int64_t axis = normalize_axis(c.attrs.get_int("axis", 0), in.rank(), "axis");
  const int64_t parts = c.node.output_size();
  if (!sizes) {
    if (parts == 0 || in[axis] % parts != 0)
      c.fail("cannot split dim " + std::to_string(in[axis]) + " into " + std::to_string(parts) +
             " equal parts");
    sizes = std::vector<int64_t>(static_cast<size_t>(parts), in[axis] / parts);
  }
  if (static_cast<int64_t>(sizes->size()) != parts)
    c.fail("split sizes " + dims_str(*sizes) + " do not match the " + std::to_string(parts) +
           " outputs");
  int64_t total = 0;
  for (int64_t s : *sizes)
    if (s < 0 || __builtin_add_overflow(total, s, &total))
      c.fail("invalid split sizes " + dims_str(*sizes));
  if (total != in[axis])
    c.fail("split sizes " + dims_str(*sizes) + " do not sum to dim " + std::to_string(in[axis]));
  const int64_t x = c.input_node(0);
  int64_t start = 0;
  for (int64_t k = 0; k < parts; ++k) {
    ir::SliceAttrs a;
    for (int64_t d = 0; d < in.rank(); ++d) {
      a.starts.push_back(d == axis ? start : 0);
      a.ends.push_back(d == axis ? start + (*sizes)[static_cast<size_t>(k)] : in[d]);
      a.steps.push_back(1);
    }
    start += (*sizes)[static_cast<size_t>(k)];
    if (!c.node.output(static_cast<int>(k)).empty())
      c.set_output_node(static_cast<int>(k), parts == 1 ? x : c.im.add(OpKind::slice, {x}, a));
  }
}

void split_attr(NodeContext& c) {
  c.require_inputs(1, 1);
  split(c, c.attrs.get_ints("split"));
}

void split_input(NodeContext& c) {
  c.require_inputs(1, 2);
  split(c, c.has_input(1) ? std::optional(c.static_ints(1, "Split split")) : std::nullopt);
}

void gather(NodeContext& c) {
  c.require_inputs(2, 2);
  const Shape data = c.input(0).shape;
  if (data.rank() == 0) c.fail("data must have rank >= 1, got ()");
  const int64_t axis = normalize_axis(c.attrs.get_int("axis", 0), data.rank(), "axis");
  const Value& idx = c.input(1);
  if (idx.stat && idx.elem == Elem::integer)
    for (int64_t i : idx.stat->ints)
      if (i < -data[axis] || i >= data[axis])
        c.fail("index " + std::to_string(i) + " out of range for axis " + std::to_string(axis) +
               " of " + data.str());
  if (int_static(c.input(0)) && idx.stat && idx.elem == Elem::integer) {
    const StaticTensor& d = *c.input(0).stat;
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < data.rank(); ++k)
      if (k < axis)
        outer *= data[k];
      else if (k > axis)
        inner *= data[k];
    std::vector<int64_t> dims(data.dims().begin(), data.dims().begin() + axis);
    dims.insert(dims.end(), idx.shape.dims().begin(), idx.shape.dims().end());
    dims.insert(dims.end(), data.dims().begin() + axis + 1, data.dims().end());
    require_foldable(Shape(dims));
    std::vector<int64_t> v;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : idx.stat->ints) {
        const int64_t j = i < 0 ? i + data[axis] : i;
        const auto at = d.ints.begin() + (o * data[axis] + j) * inner;
        v.insert(v.end(), at, at + inner);
      }
    StaticTensor out = static_ints(Shape(dims), std::move(v));
    out.elem = d.elem;
    c.set_output(0, static_value(std::move(out)));
    return;
  }
  const int64_t x = c.input_node(0);
  int64_t i_node;
  if (idx.stat && idx.elem == Elem::integer) {
    i_node = c.im.constant(idx.stat->as_tensor("Gather indices"));
  } else {
    i_node = c.input_node(1, true);
  }
  c.set_output_node(0, c.im.add(OpKind::gather, {x, i_node}, ir::GatherAttrs{axis}));
}

void pad(NodeContext& c, const std::vector<int64_t>& pads, const std::string& mode, double value) {
  if (mode != "constant") c.fail("unsupported mode '" + mode + "' (only 'constant' is supported)");
  const Shape& in = c.input(0).shape;
  if (static_cast<int64_t>(pads.size()) != 2 * in.rank())
    c.fail("pads " + dims_str(pads) + " must have 2 * rank = " + std::to_string(2 * in.rank()) +
           " values for " + in.str());
  ir::PadAttrs a;
  a.value = value;
  bool any = false;
  for (int64_t k = 0; k < in.rank(); ++k) {
    const int64_t b = pads[static_cast<size_t>(k)], e = pads[static_cast<size_t>(k + in.rank())];
    if (b < 0 || e < 0) c.fail("negative pads " + dims_str(pads) + " (cropping) are not supported");
    a.pads_begin.push_back(b);
    a.pads_end.push_back(e);
    any = any || b > 0 || e > 0;
  }
  const int64_t x = c.input_node(0);
  c.set_output_node(0, any ? c.im.add(OpKind::pad, {x}, a) : x);
}

void pad_attrs(NodeContext& c) {
  c.require_inputs(1, 1);
  auto pads = c.attrs.get_ints("pads");
  if (!pads) c.fail("missing attribute 'pads'");
  pad(c, *pads, c.attrs.get_string("mode", "constant"), c.attrs.get_float("value", 0.0f));
}

void pad_inputs(NodeContext& c) {
  c.require_inputs(2, 3);
  double value = 0;
  if (c.has_input(2)) {
    const StaticTensor& v = c.static_input(2, "Pad constant_value");
    if (v.numel() != 1) c.fail("constant_value must hold one value, got shape " + v.shape.str());
    value = v.as_reals("constant_value")[0];
  }
  pad(c, c.static_ints(1, "Pad pads"), c.attrs.get_string("mode", "constant"), value);
}

void expand(NodeContext& c) {
  c.require_inputs(2, 2);
  const std::vector<int64_t> dims = c.static_ints(1, "Expand shape");
  for (int64_t d : dims)
    if (d < 0) c.fail("negative dim in shape " + dims_str(dims));
  const std::optional<Shape> to = broadcast_shape(c.input(0).shape, Shape(dims));
  if (!to) c.fail("cannot expand " + c.input(0).shape.str() + " to " + dims_str(dims));
  checked_dims(c, to->dims());
  if (int_static(c.input(0))) {
    const StaticTensor& t = *c.input(0).stat;
    require_foldable(*to);
    std::vector<int64_t> v(static_cast<size_t>(to->numel()));
    const std::vector<int64_t> st = t.shape.strides();
    for (int64_t i = 0; i < to->numel(); ++i) {
      int64_t rem = i, src = 0;
      for (int64_t k = to->rank() - 1, j = t.shape.rank() - 1; k >= 0; --k, --j) {
        const int64_t coord = rem % (*to)[k];
        rem /= (*to)[k];
        if (j >= 0 && t.shape[j] != 1) src += coord * st[static_cast<size_t>(j)];
      }
      v[static_cast<size_t>(i)] = t.ints[static_cast<size_t>(src)];
    }
    StaticTensor out = static_ints(*to, std::move(v));
    out.elem = t.elem;
    c.set_output(0, static_value(std::move(out)));
    return;
  }
  const Elem elem = c.input(0).elem;
  c.set_output(0, dynamic_value(c.im, c.im.broadcast(c.input_node(0), *to), elem));
}

void shape_op(NodeContext& c) {
  c.require_inputs(1, 1);
  const std::vector<int64_t>& dims = c.input(0).shape.dims();
  const int64_t rank = static_cast<int64_t>(dims.size());
  int64_t start = c.attrs.get_int("start", 0), end = c.attrs.get_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> v(dims.begin() + start, dims.begin() + end);
  const int64_t n = static_cast<int64_t>(v.size());
  c.set_output(0, static_value(static_ints(Shape{n}, std::move(v))));
}

void constant(NodeContext& c) {
  c.require_inputs(0, 0);
  const std::string what = "Constant value";
  if (const onnx::TensorProto* t = c.attrs.get_tensor("value")) {
    c.set_output(0, static_value(decode_tensor(*t, what)));
  } else if (c.attrs.has("value_float")) {
    StaticTensor s;
    s.real = {c.attrs.get_float("value_float", 0)};
    c.set_output(0, static_value(std::move(s)));
  } else if (auto fs = c.attrs.get_floats("value_floats")) {
    StaticTensor s;
    s.shape = Shape{static_cast<int64_t>(fs->size())};
    s.real.assign(fs->begin(), fs->end());
    c.set_output(0, static_value(std::move(s)));
  } else if (c.attrs.has("value_int")) {
    c.set_output(0, static_value(static_ints(Shape{}, {c.attrs.get_int("value_int", 0)})));
  } else if (auto is = c.attrs.get_ints("value_ints")) {
    const int64_t n = static_cast<int64_t>(is->size());
    c.set_output(0, static_value(static_ints(Shape{n}, std::move(*is))));
  } else {
    c.fail(
        "needs one of the attributes value, value_float(s), value_int(s) (sparse and string "
        "constants are not supported)");
  }
}

void constant_of_shape(NodeContext& c) {
  c.require_inputs(1, 1);
  const Shape shape = checked_dims(c, c.static_ints(0, "ConstantOfShape shape"));
  require_foldable(shape);
  StaticTensor fill;
  fill.real = {0.0};
  if (const onnx::TensorProto* t = c.attrs.get_tensor("value"))
    fill = decode_tensor(*t, "ConstantOfShape value");
  if (fill.numel() != 1) c.fail("value must hold one element, got shape " + fill.shape.str());
  StaticTensor out;
  out.shape = shape;
  out.elem = fill.elem;
  if (fill.elem == Elem::real)
    out.real.assign(static_cast<size_t>(shape.numel()), fill.real[0]);
  else
    out.ints.assign(static_cast<size_t>(shape.numel()), fill.ints[0]);
  c.set_output(0, static_value(std::move(out)));
}

void identity(NodeContext& c) {
  c.require_inputs(1, 1);
  c.set_output(0, c.input(0));
}

// Cast: a no-op among float types (the evaluation domain fixes precision); integer statics fold.
void cast(NodeContext& c) {
  c.require_inputs(1, 1);
  const int64_t to = c.attrs.get_int("to", 0);
  const Value& v = c.input(0);
  const bool to_float = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
  const bool to_int = to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32;
  if (to_float) {
    if (!v.stat && (v.elem == Elem::integer || v.elem == Elem::truthy))
      c.fail("casting a run-time integer or BOOL-cast tensor back to float is not supported");
    if (v.stat && v.elem != Elem::real) {
      StaticTensor t;
      t.shape = v.shape;
      t.real = v.stat->as_reals("Cast input");
      c.set_output(0, static_value(std::move(t)));
      return;
    }
    Value out = v;
    out.elem = Elem::real;
    c.set_output(0, std::move(out));
    return;
  }
  if (to_int && v.stat) {
    StaticTensor t = *v.stat;
    if (t.elem == Elem::real) {
      for (double x : t.real) {
        if (!(x >= -9.2e18 && x <= 9.2e18))
          c.fail("cannot cast " + std::to_string(x) + " to an integer");
        t.ints.push_back(static_cast<int64_t>(x));  // C truncation, as ONNX
      }
      t.real.clear();
    }
    t.elem = Elem::integer;
    c.set_output(0, static_value(std::move(t)));
    return;
  }
  if (to == onnx::TensorProto::BOOL) {
    Value out = v;
    if (v.stat) {
      StaticTensor& t = *out.stat;
      for (double x : t.real) t.ints.push_back(x != 0);
      t.real.clear();
      for (int64_t& x : t.ints) x = x != 0;
      t.elem = out.elem = Elem::boolean;
    } else if (v.elem != Elem::boolean) {
      out.elem = Elem::truthy;
    }
    c.set_output(0, std::move(out));
    return;
  }
  if (to_int && !v.stat && v.elem != Elem::truthy) {  // run-time indices (Gather only)
    Value out = v;
    out.elem = Elem::integer;
    c.set_output(0, std::move(out));
    return;
  }
  c.fail("cast to " + dtype_name(static_cast<int32_t>(to)) + " of a " +
         (v.stat ? "" : "run-time ") +
         "tensor is not supported (only casts among float types, and of constants to integers)");
}

void dropout_attr(NodeContext& c) {
  c.require_inputs(1, 1);
  c.attrs.get_float("ratio", 0.5f);
  if (c.attrs.has("is_test") && c.attrs.get_int("is_test", 1) == 0)
    c.fail("training mode (is_test = 0) is not supported");
  c.set_output(0, c.input(0));
}

// Dropout-12: ratio and training_mode are inputs; inference only.
void dropout_input(NodeContext& c) {
  c.require_inputs(1, 3);
  c.attrs.get_int("seed", 0);
  if (c.has_input(2)) {
    const StaticTensor& t = c.static_input(2, "Dropout training_mode");
    if (t.numel() != 1 || t.elem == Elem::real || t.ints[0] != 0)
      c.fail("training mode is not supported");
  }
  c.set_output(0, c.input(0));
}

}  // namespace

void add_layout_handlers(std::vector<HandlerEntry>& t) {
  t.insert(t.end(), {
                        {"Reshape", 5, reshape},
                        {"Flatten", 1, flatten},
                        {"Squeeze", 1, squeeze_attr},
                        {"Squeeze", 13, squeeze_input},
                        {"Unsqueeze", 1, unsqueeze_attr},
                        {"Unsqueeze", 13, unsqueeze_input},
                        {"Transpose", 1, transpose},
                        {"Concat", 4, concat},
                        {"Slice", 1, slice_attrs},
                        {"Slice", 10, slice_inputs},
                        {"Gather", 1, gather},
                        {"Split", 2, split_attr},
                        {"Split", 13, split_input},
                        {"Pad", 2, pad_attrs},
                        {"Pad", 11, pad_inputs},
                        {"Expand", 8, expand},
                        {"Shape", 1, shape_op},
                        {"Constant", 1, constant},
                        {"ConstantOfShape", 9, constant_of_shape},
                        {"Identity", 1, identity},
                        {"Cast", 6, cast},
                        {"Dropout", 7, dropout_attr},
                        {"Dropout", 12, dropout_input},
                    });
}

}  // namespace torchlean::io::onnx_detail
