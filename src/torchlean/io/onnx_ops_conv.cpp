// ONNX import handlers for NCHW networks: Conv, MaxPool, AveragePool, GlobalAveragePool,
// GlobalMaxPool and BatchNormalization (inference).
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/io/onnx_import_detail.hpp"

namespace torchlean::io::onnx_detail {

namespace {

using ir::OpKind;

struct Window {
  int64_t kh = 0, kw = 0, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t top = 0, left = 0, bottom = 0, right = 0;
};

std::vector<int64_t> pair_attr(NodeContext& c, const std::string& name, int64_t dflt) {
  auto v = c.attrs.get_ints(name);
  if (!v) return {dflt, dflt};
  if (v->size() != 2)
    c.fail("attribute '" + name + "' " + dims_str(*v) + " must have 2 values (2-D only)");
  return *v;
}

// Reads kernel_shape/strides/dilations/pads/auto_pad for a 2-D window over input (N,C,H,W).
Window read_window(NodeContext& c, const Shape& in, std::optional<std::vector<int64_t>> kernel,
                   bool dilations) {
  Window w;
  if (!kernel) kernel = c.attrs.get_ints("kernel_shape");
  if (!kernel) c.fail("missing attribute 'kernel_shape'");
  if (kernel->size() != 2)
    c.fail("kernel_shape " + dims_str(*kernel) + " is not 2-D; only 2-D windows are supported");
  w.kh = (*kernel)[0];
  w.kw = (*kernel)[1];
  const std::vector<int64_t> s = pair_attr(c, "strides", 1);
  w.sh = s[0];
  w.sw = s[1];
  if (dilations) {
    const std::vector<int64_t> d = pair_attr(c, "dilations", 1);
    w.dh = d[0];
    w.dw = d[1];
  }
  if (w.kh <= 0 || w.kw <= 0 || w.sh <= 0 || w.sw <= 0 || w.dh <= 0 || w.dw <= 0)
    c.fail("kernel " + dims_str(*kernel) + ", strides and dilations must be positive");
  const std::string auto_pad = c.attrs.get_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    if (auto p = c.attrs.get_ints("pads")) {
      if (p->size() != 4) c.fail("pads " + dims_str(*p) + " must have 4 values");
      for (int64_t v : *p)
        if (v < 0) c.fail("negative pads " + dims_str(*p));
      w.top = (*p)[0];
      w.left = (*p)[1];
      w.bottom = (*p)[2];
      w.right = (*p)[3];
    }
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // Output = ceil(in / stride); the odd padding unit goes at the end (UPPER) or start (LOWER).
    auto same = [&](int64_t size, int64_t k, int64_t st, int64_t d, int64_t& lo, int64_t& hi) {
      const int64_t out = (size + st - 1) / st;
      const int64_t total = std::max<int64_t>(0, (out - 1) * st + (k - 1) * d + 1 - size);
      lo = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      hi = total - lo;
    };
    same(in[2], w.kh, w.sh, w.dh, w.top, w.bottom);
    same(in[3], w.kw, w.sw, w.dw, w.left, w.right);
  } else if (auto_pad != "VALID") {
    c.fail("unsupported auto_pad '" + auto_pad + "'");
  }
  return w;
}

int64_t nchw_input(NodeContext& c) {
  const int64_t x = c.input_node(0);
  if (c.im.shape(x).rank() != 4)
    c.fail("input " + c.im.shape(x).str() +
           " is not (N,C,H,W); only 2-D spatial inputs are supported");
  return x;
}

void conv(NodeContext& c) {
  c.require_inputs(2, 3);
  const int64_t x = nchw_input(c);
  const Shape& ws = c.input(1).shape;
  if (ws.rank() != 4) c.fail("weight " + ws.str() + " is not (O,C/groups,kH,kW)");
  std::optional<std::vector<int64_t>> kernel = c.attrs.get_ints("kernel_shape");
  if (kernel && *kernel != std::vector<int64_t>{ws[2], ws[3]})
    c.fail("kernel_shape " + dims_str(*kernel) + " does not match weight " + ws.str());
  const Window w = read_window(c, c.im.shape(x), std::vector<int64_t>{ws[2], ws[3]}, true);
  ir::Conv2dNchwAttrs a;
  a.stride_h = w.sh;
  a.stride_w = w.sw;
  a.pad_top = w.top;
  a.pad_left = w.left;
  a.pad_bottom = w.bottom;
  a.pad_right = w.right;
  a.dilation_h = w.dh;
  a.dilation_w = w.dw;
  a.groups = c.attrs.get_int("group", 1);
  std::vector<int64_t> parents = {x, c.input_node(1)};
  if (c.has_input(2)) parents.push_back(c.input_node(2));
  c.set_output_node(0, c.im.add(OpKind::conv2d_nchw, parents, a));
}

ir::PoolNchwAttrs pool_attrs(const Window& w) {
  ir::PoolNchwAttrs a;
  a.kH = w.kh;
  a.kW = w.kw;
  a.stride_h = w.sh;
  a.stride_w = w.sw;
  a.pad_top = w.top;
  a.pad_left = w.left;
  a.pad_bottom = w.bottom;
  a.pad_right = w.right;
  return a;
}

void max_pool(NodeContext& c) {
  c.require_inputs(1, 1);
  const int64_t x = nchw_input(c);
  const Window w = read_window(c, c.im.shape(x), std::nullopt, c.opset() >= 10);
  if (w.dh != 1 || w.dw != 1) c.fail("dilations other than 1 are not supported");
  if (c.attrs.get_int("storage_order", 0) != 0)
    c.fail("storage_order 1 (column-major indices) is not supported");
  ir::PoolNchwAttrs a = pool_attrs(w);
  if (c.opset() >= 10) a.ceil_mode = c.attrs.get_int("ceil_mode", 0) != 0;
  c.set_output_node(0, c.im.add(OpKind::max_pool2d_nchw, {x}, a));
}

void avg_pool(NodeContext& c) {
  c.require_inputs(1, 1);
  const int64_t x = nchw_input(c);
  const Window w = read_window(c, c.im.shape(x), std::nullopt, false);
  ir::PoolNchwAttrs a = pool_attrs(w);
  if (c.opset() >= 10) a.ceil_mode = c.attrs.get_int("ceil_mode", 0) != 0;
  a.count_include_pad = c.attrs.get_int("count_include_pad", 0) != 0;
  c.set_output_node(0, c.im.add(OpKind::avg_pool2d_nchw, {x}, a));
}

template <OpKind K>
void global_pool(NodeContext& c) {
  c.require_inputs(1, 1);
  const int64_t x = nchw_input(c);
  const Shape& s = c.im.shape(x);
  ir::PoolNchwAttrs a;
  a.kH = s[2];
  a.kW = s[3];
  c.set_output_node(0, c.im.add(K, {x}, a));
}

// BatchNormalization in inference mode with constant parameters: batch_norm2d_nchw_eval, the
// input viewed as (N,C,H,W) when it has another rank.
void batch_norm(NodeContext& c) {
  c.require_inputs(5, 5);
  const double eps = c.attrs.get_float("epsilon", 1e-5f);
  c.attrs.get_float("momentum", 0.9f);
  if (c.opset() < 9 && c.attrs.get_int("spatial", 1) != 1) c.fail("spatial = 0 is not supported");
  if (c.opset() >= 14 && c.attrs.get_int("training_mode", 0) != 0)
    c.fail("training mode is not supported");
  const int64_t x = c.input_node(0);
  const Shape s = c.im.shape(x);
  if (s.rank() < 2) c.fail("input " + s.str() + " must have rank >= 2 (N,C,...)");
  const int64_t channels = s[1];
  const char* names[] = {"scale", "B", "mean", "var"};
  const char* slots[] = {"gamma", "beta", "mean", "var"};
  std::vector<Tensor<double>> params;
  for (int i = 0; i < 4; ++i) {
    const StaticTensor& t = c.static_input(i + 1, std::string("BatchNormalization ") + names[i]);
    if (t.elem != Elem::real || t.shape != Shape{channels})
      c.fail(std::string(names[i]) + " must be a float tensor of shape (" +
             std::to_string(channels) + "), got " + t.shape.str());
    params.push_back(t.as_tensor(names[i]));
  }
  int64_t spatial = 1;
  for (int64_t k = 2; k < s.rank(); ++k) spatial *= s[k];
  const Shape view = s.rank() == 4 ? s : Shape{s[0], channels, spatial, 1};
  const int64_t y = c.im.add(OpKind::batch_norm2d_nchw_eval, {c.im.reshape(x, view)},
                             ir::BatchNormAttrs{channels});
  for (int i = 0; i < 4; ++i)
    c.im.b.set_payload(y, slots[i], std::move(params[static_cast<size_t>(i)]));
  c.im.b.set_payload(y, "eps", Tensor<double>(Shape{}, std::vector<double>{eps}));
  c.set_output_node(0, c.im.reshape(y, s));
}

}  // namespace

void add_conv_handlers(std::vector<HandlerEntry>& t) {
  t.insert(t.end(), {
                        {"Conv", 1, conv},
                        {"MaxPool", 1, max_pool},
                        {"AveragePool", 1, avg_pool},
                        {"GlobalAveragePool", 1, global_pool<OpKind::avg_pool2d_nchw>},
                        {"GlobalMaxPool", 1, global_pool<OpKind::max_pool2d_nchw>},
                        {"BatchNormalization", 7, batch_norm},
                    });
}

}  // namespace torchlean::io::onnx_detail
