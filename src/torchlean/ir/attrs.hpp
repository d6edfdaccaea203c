// Typed attributes of IR ops. Each struct lists its fields once, in `for_each_field`, with the flat
// JSON key TorchLean uses; equality, hashing, JSON and printing all derive from that one list.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "torchlean/core/shape.hpp"

namespace torchlean::ir {

struct NoAttrs {
  template <class V> void for_each_field(V&&) {}
  template <class V> void for_each_field(V&&) const {}
  bool operator==(const NoAttrs&) const = default;
};

// const: the payload tensor's shape (defaults to the node shape in JSON).
struct ConstAttrs {
  Shape value_shape;
  template <class V> void for_each_field(V&& v) { v("value_shape", value_shape); }
  template <class V> void for_each_field(V&& v) const { v("value_shape", value_shape); }
  bool operator==(const ConstAttrs&) const = default;
};

struct PermuteAttrs {
  std::vector<int64_t> perm;
  template <class V> void for_each_field(V&& v) { v("perm", perm); }
  template <class V> void for_each_field(V&& v) const { v("perm", perm); }
  bool operator==(const PermuteAttrs&) const = default;
};

// rand_uniform, bernoulli_mask: the stream seed (combined with the node index).
struct SeedAttrs {
  int64_t seed = 0;
  template <class V> void for_each_field(V&& v) { v("seed", seed); }
  template <class V> void for_each_field(V&& v) const { v("seed", seed); }
  bool operator==(const SeedAttrs&) const = default;
};

// max_pool2d, avg_pool2d: square stride, no padding.
struct Pool2dAttrs {
  int64_t kH = 0, kW = 0, stride = 0;
  template <class V> void for_each_field(V&& v) { v("kH", kH); v("kW", kW); v("stride", stride); }
  template <class V> void for_each_field(V&& v) const { v("kH", kH); v("kW", kW); v("stride", stride); }
  bool operator==(const Pool2dAttrs&) const = default;
};

struct Pool2dPadAttrs {
  int64_t kH = 0, kW = 0, stride = 0, padding = 0;
  template <class V> void for_each_field(V&& v) {
    v("kH", kH); v("kW", kW); v("stride", stride); v("padding", padding);
  }
  template <class V> void for_each_field(V&& v) const {
    v("kH", kH); v("kW", kW); v("stride", stride); v("padding", padding);
  }
  bool operator==(const Pool2dPadAttrs&) const = default;
};

struct BroadcastToAttrs {
  Shape from_shape, to_shape;
  template <class V> void for_each_field(V&& v) { v("from_shape", from_shape); v("to_shape", to_shape); }
  template <class V> void for_each_field(V&& v) const { v("from_shape", from_shape); v("to_shape", to_shape); }
  bool operator==(const BroadcastToAttrs&) const = default;
};

// reduce_sum, reduce_mean, softmax, layernorm, concat.
struct AxisAttrs {
  int64_t axis = 0;
  template <class V> void for_each_field(V&& v) { v("axis", axis); }
  template <class V> void for_each_field(V&& v) const { v("axis", axis); }
  bool operator==(const AxisAttrs&) const = default;
};

// conv2d on a single CHW image (TorchLean v1), square stride and padding.
struct Conv2dAttrs {
  int64_t inC = 0, outC = 0, kH = 0, kW = 0, stride = 0, padding = 0;
  template <class V> void for_each_field(V&& v) {
    v("inC", inC); v("outC", outC); v("kH", kH); v("kW", kW); v("stride", stride); v("padding", padding);
  }
  template <class V> void for_each_field(V&& v) const {
    v("inC", inC); v("outC", outC); v("kH", kH); v("kW", kW); v("stride", stride); v("padding", padding);
  }
  bool operator==(const Conv2dAttrs&) const = default;
};

struct BatchNormAttrs {
  int64_t channels = 0;
  template <class V> void for_each_field(V&& v) { v("channels", channels); }
  template <class V> void for_each_field(V&& v) const { v("channels", channels); }
  bool operator==(const BatchNormAttrs&) const = default;
};

struct ReshapeAttrs {
  Shape in_shape, out_shape;
  template <class V> void for_each_field(V&& v) { v("in_shape", in_shape); v("out_shape", out_shape); }
  template <class V> void for_each_field(V&& v) const { v("in_shape", in_shape); v("out_shape", out_shape); }
  bool operator==(const ReshapeAttrs&) const = default;
};

// flatten: the input shape it expects (output is 1-D).
struct FlattenAttrs {
  Shape value_shape;
  template <class V> void for_each_field(V&& v) { v("value_shape", value_shape); }
  template <class V> void for_each_field(V&& v) const { v("value_shape", value_shape); }
  bool operator==(const FlattenAttrs&) const = default;
};

// ---- extension ops (not in TorchLean v1; written only in torchlean_cpp.ir.v1x files) ----
// Integer fields of extension ops are signed in JSON (slice ends may be -1); each shape rule says
// which values are valid. Double fields must be finite in JSON except where noted.

// pow_const: x^exponent.
struct PowAttrs {
  double exponent = 0;
  template <class V> void for_each_field(V&& v) { v("exponent", exponent); }
  template <class V> void for_each_field(V&& v) const { v("exponent", exponent); }
  bool operator==(const PowAttrs&) const = default;
};

// leaky_relu: x >= 0 ? x : alpha*x.
struct LeakyReluAttrs {
  double alpha = 0;
  template <class V> void for_each_field(V&& v) { v("alpha", alpha); }
  template <class V> void for_each_field(V&& v) const { v("alpha", alpha); }
  bool operator==(const LeakyReluAttrs&) const = default;
};

// clamp: min(max(x, lo), hi); a bound applies only when its has_ flag is set.
struct ClampAttrs {
  double lo = 0, hi = 0;
  bool has_lo = false, has_hi = false;
  template <class V> void for_each_field(V&& v) {
    v("lo", lo); v("hi", hi); v("has_lo", has_lo); v("has_hi", has_hi);
  }
  template <class V> void for_each_field(V&& v) const {
    v("lo", lo); v("hi", hi); v("has_lo", has_lo); v("has_hi", has_hi);
  }
  bool operator==(const ClampAttrs&) const = default;
};

// compare: cmp is one of "lt", "le", "gt", "ge", "eq", "ne".
struct CompareAttrs {
  std::string cmp;
  template <class V> void for_each_field(V&& v) { v("cmp", cmp); }
  template <class V> void for_each_field(V&& v) const { v("cmp", cmp); }
  bool operator==(const CompareAttrs&) const = default;
};

// broadcast: NumPy/ONNX right-aligned broadcasting to to_shape.
struct BroadcastAttrs {
  Shape to_shape;
  template <class V> void for_each_field(V&& v) { v("to_shape", to_shape); }
  template <class V> void for_each_field(V&& v) const { v("to_shape", to_shape); }
  bool operator==(const BroadcastAttrs&) const = default;
};

// slice, slice_grad: one normalised (start, end, step) per axis, as Python's range(start, end,
// step); ends may be -1 for negative steps.
struct SliceAttrs {
  std::vector<int64_t> starts, ends, steps;
  template <class V> void for_each_field(V&& v) { v("starts", starts); v("ends", ends); v("steps", steps); }
  template <class V> void for_each_field(V&& v) const { v("starts", starts); v("ends", ends); v("steps", steps); }
  bool operator==(const SliceAttrs&) const = default;
};

// pad: constant padding, pads_begin[i] before and pads_end[i] after axis i. value may be +-inf or
// NaN in memory (JSON: finite only).
struct PadAttrs {
  std::vector<int64_t> pads_begin, pads_end;
  double value = 0;
  template <class V> void for_each_field(V&& v) {
    v("pads_begin", pads_begin); v("pads_end", pads_end); v("value", value);
  }
  template <class V> void for_each_field(V&& v) const {
    v("pads_begin", pads_begin); v("pads_end", pads_end); v("value", value);
  }
  bool operator==(const PadAttrs&) const;  // bitwise on value (NaN == NaN)
};

// gather, gather_grad: ONNX Gather along `axis` (0 <= axis < rank of data).
struct GatherAttrs {
  int64_t axis = 0;
  template <class V> void for_each_field(V&& v) { v("axis", axis); }
  template <class V> void for_each_field(V&& v) const { v("axis", axis); }
  bool operator==(const GatherAttrs&) const = default;
};

// conv2d_nchw and its two gradients: per-axis stride, asymmetric padding, dilation, groups.
struct Conv2dNchwAttrs {
  int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0,
          dilation_h = 1, dilation_w = 1, groups = 1;
  template <class V> void for_each_field(V&& v) {
    v("stride_h", stride_h); v("stride_w", stride_w); v("pad_top", pad_top); v("pad_left", pad_left);
    v("pad_bottom", pad_bottom); v("pad_right", pad_right); v("dilation_h", dilation_h);
    v("dilation_w", dilation_w); v("groups", groups);
  }
  template <class V> void for_each_field(V&& v) const {
    v("stride_h", stride_h); v("stride_w", stride_w); v("pad_top", pad_top); v("pad_left", pad_left);
    v("pad_bottom", pad_bottom); v("pad_right", pad_right); v("dilation_h", dilation_h);
    v("dilation_w", dilation_w); v("groups", groups);
  }
  bool operator==(const Conv2dNchwAttrs&) const = default;
};

// max/avg_pool2d_nchw and their gradients.
struct PoolNchwAttrs {
  int64_t kH = 0, kW = 0, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0,
          pad_right = 0;
  bool ceil_mode = false, count_include_pad = false;
  template <class V> void for_each_field(V&& v) {
    v("kH", kH); v("kW", kW); v("stride_h", stride_h); v("stride_w", stride_w); v("pad_top", pad_top);
    v("pad_left", pad_left); v("pad_bottom", pad_bottom); v("pad_right", pad_right);
    v("ceil_mode", ceil_mode); v("count_include_pad", count_include_pad);
  }
  template <class V> void for_each_field(V&& v) const {
    v("kH", kH); v("kW", kW); v("stride_h", stride_h); v("stride_w", stride_w); v("pad_top", pad_top);
    v("pad_left", pad_left); v("pad_bottom", pad_bottom); v("pad_right", pad_right);
    v("ceil_mode", ceil_mode); v("count_include_pad", count_include_pad);
  }
  bool operator==(const PoolNchwAttrs&) const = default;
};

using Attrs = std::variant<NoAttrs, ConstAttrs, PermuteAttrs, SeedAttrs, Pool2dAttrs, Pool2dPadAttrs,
                           BroadcastToAttrs, AxisAttrs, Conv2dAttrs, BatchNormAttrs, ReshapeAttrs,
                           FlattenAttrs, PowAttrs, LeakyReluAttrs, ClampAttrs, CompareAttrs,
                           BroadcastAttrs, SliceAttrs, PadAttrs, GatherAttrs, Conv2dNchwAttrs,
                           PoolNchwAttrs>;

// "kH=2, kW=2, stride=2" for messages and GraphViz labels.
std::string attrs_to_string(const Attrs& attrs);

}  // namespace torchlean::ir
