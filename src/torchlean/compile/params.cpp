// Instruction parameters from checked node shapes and attributes (the geometry each kernel
// needs), shared by the lowering (lower.cpp).
#include "torchlean/compile/detail.hpp"

namespace torchlean::compile::detail {

int64_t product(const Shape& s, int64_t begin, int64_t end) {
  int64_t n = 1;
  for (int64_t i = begin; i < end; ++i) n *= s[i];
  return n;
}

runtime::AxisParams axis_view(const Shape& s, int64_t axis) {
  return {product(s, 0, axis), s[axis], product(s, axis + 1, s.rank())};
}

runtime::PoolParams pool_params(const ir::Node& n, const Shape& in, int64_t k_h, int64_t k_w,
                                int64_t stride, int64_t padding) {
  return {in[0], in[1], in[2], k_h, k_w, stride, padding, n.shape[1], n.shape[2]};
}

runtime::PoolNchwParams pool_nchw_params(const ir::PoolNchwAttrs& a, const Shape& x,
                                         const Shape& y) {
  runtime::PoolNchwParams p;
  p.planes = x[0] * x[1];
  p.in_h = x[2];
  p.in_w = x[3];
  p.out_h = y[2];
  p.out_w = y[3];
  p.k_h = a.kH;
  p.k_w = a.kW;
  p.stride_h = a.stride_h;
  p.stride_w = a.stride_w;
  p.pad_top = a.pad_top;
  p.pad_left = a.pad_left;
  p.pad_bottom = a.pad_bottom;
  p.pad_right = a.pad_right;
  p.count_include_pad = a.count_include_pad;
  return p;
}

runtime::ConvNchwGeometry conv_nchw_geometry(const ir::Conv2dNchwAttrs& a, const Shape& x,
                                             const Shape& w, const Shape& y) {
  runtime::ConvNchwGeometry g;
  g.batch = x[0];
  g.in_c = x[1];
  g.in_h = x[2];
  g.in_w = x[3];
  g.out_c = w[0];
  g.out_h = y[2];
  g.out_w = y[3];
  g.k_h = w[2];
  g.k_w = w[3];
  g.stride_h = a.stride_h;
  g.stride_w = a.stride_w;
  g.pad_top = a.pad_top;
  g.pad_left = a.pad_left;
  g.pad_bottom = a.pad_bottom;
  g.pad_right = a.pad_right;
  g.dilation_h = a.dilation_h;
  g.dilation_w = a.dilation_w;
  g.groups = a.groups;
  return g;
}

runtime::IndexParams index_params(const Shape& data, const Shape& indices, int64_t axis) {
  return {product(data, 0, axis), data[axis], product(data, axis + 1, data.rank()),
          indices.numel()};
}

}  // namespace torchlean::compile::detail
