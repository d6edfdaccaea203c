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

using Attrs = std::variant<NoAttrs, ConstAttrs, PermuteAttrs, SeedAttrs, Pool2dAttrs, Pool2dPadAttrs,
                           BroadcastToAttrs, AxisAttrs, Conv2dAttrs, BatchNormAttrs, ReshapeAttrs,
                           FlattenAttrs>;

// "kH=2, kW=2, stride=2" for messages and GraphViz labels.
std::string attrs_to_string(const Attrs& attrs);

}  // namespace torchlean::ir
