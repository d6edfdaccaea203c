// Shape rules of the extension ops (shape_infer_ext.cpp), one `rule_<op>` per op, called by the
// registry-generated dispatch in shape_infer.cpp. Internal to torchlean_ir.
#pragma once
#include <span>

#include "torchlean/core/shape.hpp"
#include "torchlean/ir/graph.hpp"

namespace torchlean::ir::ext_rules {

using Shapes = std::span<const Shape>;

Shape rule_neg(const Node& n, const NoAttrs& a, Shapes ps);
Shape rule_div(const Node& n, const NoAttrs& a, Shapes ps);
Shape rule_pow_const(const Node& n, const PowAttrs& a, Shapes ps);
Shape rule_erf(const Node& n, const NoAttrs& a, Shapes ps);
Shape rule_gelu(const Node& n, const NoAttrs& a, Shapes ps);
Shape rule_leaky_relu(const Node& n, const LeakyReluAttrs& a, Shapes ps);
Shape rule_softplus(const Node& n, const NoAttrs& a, Shapes ps);
Shape rule_silu(const Node& n, const NoAttrs& a, Shapes ps);
Shape rule_clamp(const Node& n, const ClampAttrs& a, Shapes ps);
Shape rule_compare(const Node& n, const CompareAttrs& a, Shapes ps);
Shape rule_where(const Node& n, const NoAttrs& a, Shapes ps);
Shape rule_broadcast(const Node& n, const BroadcastAttrs& a, Shapes ps);
Shape rule_slice(const Node& n, const SliceAttrs& a, Shapes ps);
Shape rule_pad(const Node& n, const PadAttrs& a, Shapes ps);
Shape rule_gather(const Node& n, const GatherAttrs& a, Shapes ps);
Shape rule_log_softmax(const Node& n, const AxisAttrs& a, Shapes ps);
Shape rule_cross_entropy(const Node& n, const NoAttrs& a, Shapes ps);
Shape rule_conv2d_nchw(const Node& n, const Conv2dNchwAttrs& a, Shapes ps);
Shape rule_max_pool2d_nchw(const Node& n, const PoolNchwAttrs& a, Shapes ps);
Shape rule_avg_pool2d_nchw(const Node& n, const PoolNchwAttrs& a, Shapes ps);
Shape rule_max_pool2d_nchw_grad(const Node& n, const PoolNchwAttrs& a, Shapes ps);
Shape rule_avg_pool2d_nchw_grad(const Node& n, const PoolNchwAttrs& a, Shapes ps);
Shape rule_conv2d_nchw_grad_input(const Node& n, const Conv2dNchwAttrs& a, Shapes ps);
Shape rule_conv2d_nchw_grad_weight(const Node& n, const Conv2dNchwAttrs& a, Shapes ps);
Shape rule_gather_grad(const Node& n, const GatherAttrs& a, Shapes ps);
Shape rule_slice_grad(const Node& n, const SliceAttrs& a, Shapes ps);

}  // namespace torchlean::ir::ext_rules
