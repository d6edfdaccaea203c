#include "torchlean/nn/layers.hpp"

#include <cmath>

#include "torchlean/core/error.hpp"

namespace torchlean::nn {
namespace {

using ir::OpKind;

std::string i2s(int64_t v) { return std::to_string(v); }

int64_t reshape(Context& ctx, int64_t x, const Shape& to) {
  if (ctx.shape(x) == to) return x;
  return ctx.op(OpKind::reshape, {x}, ir::ReshapeAttrs{ctx.shape(x), to});
}

int64_t permute(Context& ctx, int64_t x, std::vector<int64_t> perm) {
  return ctx.op(OpKind::permute, {x}, ir::PermuteAttrs{std::move(perm)});
}

// Per-channel (C) values as an (N, C, H, W)-shaped node: reshape to (C, 1, 1), then broadcast.
int64_t per_channel(Context& ctx, int64_t v, const Shape& like) {
  return ctx.broadcast(reshape(ctx, v, Shape{like[1], 1, 1}), like);
}

// Mean over (N, H, W) of an (N, C, H, W) node: permute to (C, N, H, W), flatten, reduce_mean.
int64_t channel_mean(Context& ctx, int64_t x) {
  const Shape& s = ctx.shape(x);
  int64_t t = permute(ctx, x, {1, 0, 2, 3});
  t = reshape(ctx, t, Shape{s[1], s[0] * s[2] * s[3]});
  return ctx.op(OpKind::reduce_mean, {t}, ir::AxisAttrs{1});
}

void need_rank(const Context& ctx, int64_t x, int64_t rank, const std::string& layer) {
  TL_USER_CHECK(ctx.shape(x).rank() == rank,
                layer + ": input shape " + ctx.shape(x).str() + " must have rank " + i2s(rank));
}

}  // namespace

Linear::Linear(int64_t in, int64_t out, bool bias, std::optional<Init> weight_init)
    : in_(in), out_(out), bias_(bias), init_(weight_init) {
  TL_USER_CHECK(in > 0 && out > 0,
                "Linear: features " + i2s(in) + " -> " + i2s(out) + " must be positive");
}

int64_t Linear::forward(Context& ctx, int64_t x) const {
  const Shape& s = ctx.shape(x);
  TL_USER_CHECK(s.rank() >= 2 && s[s.rank() - 1] == in_,
                "Linear(" + i2s(in_) + ", " + i2s(out_) + "): input shape " + s.str() +
                    " must be (batch..., " + i2s(in_) + ")");
  const int64_t w =
      ctx.parameter("weight", Shape{out_, in_}, init_.value_or(Init::torch_default(in_)));
  int64_t y = ctx.op(OpKind::matmul, {x, permute(ctx, w, {1, 0})});
  if (bias_) {
    const int64_t b = ctx.parameter("bias", Shape{out_}, Init::torch_default(in_));
    y = ctx.op(OpKind::add, {y, ctx.broadcast(b, ctx.shape(y))});
  }
  return y;
}

std::string Linear::describe() const {
  return "Linear(" + i2s(in_) + ", " + i2s(out_) + (bias_ ? ")" : ", bias=false)");
}

Conv2d::Conv2d(int64_t in_c, int64_t out_c, int64_t kernel, int64_t stride, int64_t padding,
               bool bias, std::optional<Init> weight_init)
    : in_c_(in_c),
      out_c_(out_c),
      k_(kernel),
      stride_(stride),
      pad_(padding),
      bias_(bias),
      init_(weight_init) {
  TL_USER_CHECK(in_c > 0 && out_c > 0 && kernel > 0 && stride > 0 && padding >= 0,
                "Conv2d: bad configuration " + describe());
}

int64_t Conv2d::forward(Context& ctx, int64_t x) const {
  need_rank(ctx, x, 4, describe());
  TL_USER_CHECK(ctx.shape(x)[1] == in_c_, describe() + ": input shape " + ctx.shape(x).str() +
                                              " must have " + i2s(in_c_) + " channels");
  const int64_t fan_in = in_c_ * k_ * k_;
  const int64_t w = ctx.parameter("weight", Shape{out_c_, in_c_, k_, k_},
                                  init_.value_or(Init::torch_default(fan_in)));
  std::vector<int64_t> parents = {x, w};
  if (bias_) parents.push_back(ctx.parameter("bias", Shape{out_c_}, Init::torch_default(fan_in)));
  ir::Conv2dNchwAttrs a;
  a.stride_h = a.stride_w = stride_;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad_;
  return ctx.op(OpKind::conv2d_nchw, std::move(parents), a);
}

std::string Conv2d::describe() const {
  return "Conv2d(" + i2s(in_c_) + ", " + i2s(out_c_) + ", k=" + i2s(k_) + ", s=" + i2s(stride_) +
         ", p=" + i2s(pad_) + (bias_ ? ")" : ", bias=false)");
}

BatchNorm2d::BatchNorm2d(int64_t channels, double eps, double momentum)
    : c_(channels), eps_(eps), momentum_(momentum) {
  TL_USER_CHECK(channels > 0 && eps > 0 && momentum >= 0 && momentum <= 1,
                "BatchNorm2d: bad configuration " + describe());
}

int64_t BatchNorm2d::forward(Context& ctx, int64_t x) const {
  need_rank(ctx, x, 4, describe());
  const Shape s = ctx.shape(x);
  TL_USER_CHECK(s[1] == c_,
                describe() + ": input shape " + s.str() + " must have " + i2s(c_) + " channels");
  const int64_t gamma = ctx.parameter("weight", Shape{c_}, Init{Init::ones});
  const int64_t beta = ctx.parameter("bias", Shape{c_}, Init{Init::zeros});
  const int64_t rmean = ctx.buffer("running_mean", Shape{c_}, 0.0);
  const int64_t rvar = ctx.buffer("running_var", Shape{c_}, 1.0);
  const Shape cs{c_};
  int64_t mean = rmean, var = rvar;
  if (ctx.mode() == Mode::train) {
    mean = channel_mean(ctx, x);
    const int64_t centred = ctx.op(OpKind::sub, {x, per_channel(ctx, mean, s)});
    var = channel_mean(ctx, ctx.op(OpKind::mul_elem, {centred, centred}));
    // Running statistics (not differentiated: they only feed the buffer updates).
    const double n = static_cast<double>(s[0] * s[2] * s[3]);
    const int64_t keep = ctx.broadcast(ctx.scalar(1.0 - momentum_), cs);
    const int64_t mom = ctx.broadcast(ctx.scalar(momentum_), cs);
    const int64_t dmean = ctx.op(OpKind::detach, {mean});
    const int64_t unbiased = ctx.op(
        OpKind::mul_elem,
        {ctx.op(OpKind::detach, {var}), ctx.broadcast(ctx.scalar(n / std::max(n - 1, 1.0)), cs)});
    ctx.update_buffer("running_mean",
                      ctx.op(OpKind::add, {ctx.op(OpKind::mul_elem, {rmean, keep}),
                                           ctx.op(OpKind::mul_elem, {dmean, mom})}));
    ctx.update_buffer("running_var",
                      ctx.op(OpKind::add, {ctx.op(OpKind::mul_elem, {rvar, keep}),
                                           ctx.op(OpKind::mul_elem, {unbiased, mom})}));
  }
  const int64_t denom =
      ctx.op(OpKind::sqrt, {ctx.op(OpKind::add, {var, ctx.broadcast(ctx.scalar(eps_), cs)})});
  const int64_t xhat = ctx.op(OpKind::div, {ctx.op(OpKind::sub, {x, per_channel(ctx, mean, s)}),
                                            per_channel(ctx, denom, s)});
  return ctx.op(OpKind::add, {ctx.op(OpKind::mul_elem, {xhat, per_channel(ctx, gamma, s)}),
                              per_channel(ctx, beta, s)});
}

std::string BatchNorm2d::describe() const { return "BatchNorm2d(" + i2s(c_) + ")"; }

LayerNorm::LayerNorm(int64_t dim) : dim_(dim) {
  TL_USER_CHECK(dim > 0, "LayerNorm: dim " + i2s(dim) + " must be positive");
}

int64_t LayerNorm::forward(Context& ctx, int64_t x) const {
  const Shape s = ctx.shape(x);
  TL_USER_CHECK(s.rank() >= 2 && s[s.rank() - 1] == dim_,
                describe() + ": input shape " + s.str() + " must end in " + i2s(dim_));
  const int64_t gamma = ctx.parameter("weight", Shape{dim_}, Init{Init::ones});
  const int64_t beta = ctx.parameter("bias", Shape{dim_}, Init{Init::zeros});
  const int64_t n = ctx.op(OpKind::layernorm, {x}, ir::AxisAttrs{s.rank() - 1});
  return ctx.op(OpKind::add,
                {ctx.op(OpKind::mul_elem, {n, ctx.broadcast(gamma, s)}), ctx.broadcast(beta, s)});
}

std::string LayerNorm::describe() const { return "LayerNorm(" + i2s(dim_) + ")"; }

Embedding::Embedding(int64_t num, int64_t dim) : num_(num), dim_(dim) {
  TL_USER_CHECK(num > 0 && dim > 0, "Embedding: bad configuration " + describe());
}

int64_t Embedding::forward(Context& ctx, int64_t x) const {
  // PyTorch's default: N(0, 1).
  const int64_t w = ctx.parameter("weight", Shape{num_, dim_}, Init{Init::normal, 1.0});
  return ctx.op(OpKind::gather, {w, x}, ir::GatherAttrs{0});
}

std::string Embedding::describe() const {
  return "Embedding(" + i2s(num_) + ", " + i2s(dim_) + ")";
}

Dropout::Dropout(double p) : p_(p) {
  TL_USER_CHECK(p >= 0 && p < 1, "Dropout: p = " + std::to_string(p) + " must be in [0, 1)");
}

int64_t Dropout::forward(Context& ctx, int64_t x) const {
  if (ctx.mode() == Mode::eval || p_ == 0) return x;
  const int64_t mask = ctx.step_input("mask", ctx.shape(x), 1.0 - p_);
  return ctx.op(OpKind::mul_elem, {x, mask});
}

std::string Dropout::describe() const { return "Dropout(" + std::to_string(p_) + ")"; }

Activation::Activation(ir::OpKind kind) : kind_(kind) {
  switch (kind) {
    case OpKind::relu:
    case OpKind::gelu:
    case OpKind::sigmoid:
    case OpKind::tanh:
    case OpKind::silu:
    case OpKind::softplus:
    case OpKind::softmax:
    case OpKind::log_softmax:
      break;
    default:
      throw UserError("Activation: '" + std::string(ir::op_name(kind)) + "' is not an activation");
  }
}

int64_t Activation::forward(Context& ctx, int64_t x) const {
  if (kind_ == OpKind::softmax || kind_ == OpKind::log_softmax)
    return ctx.op(kind_, {x}, ir::AxisAttrs{ctx.shape(x).rank() - 1});
  return ctx.op(kind_, {x});
}

std::string Activation::describe() const {
  static const std::map<OpKind, std::string> names = {
      {OpKind::relu, "ReLU"},       {OpKind::gelu, "GELU"},
      {OpKind::sigmoid, "Sigmoid"}, {OpKind::tanh, "Tanh"},
      {OpKind::silu, "SiLU"},       {OpKind::softplus, "Softplus"},
      {OpKind::softmax, "Softmax"}, {OpKind::log_softmax, "LogSoftmax"}};
  return names.at(kind_);
}

Pool2d::Pool2d(bool max, int64_t kernel, int64_t stride, int64_t padding)
    : max_(max), k_(kernel), stride_(stride == 0 ? kernel : stride), pad_(padding) {
  TL_USER_CHECK(kernel > 0 && stride >= 0 && padding >= 0,
                "Pool2d: bad configuration " + describe());
}

int64_t Pool2d::forward(Context& ctx, int64_t x) const {
  need_rank(ctx, x, 4, describe());
  ir::PoolNchwAttrs a;
  a.kH = a.kW = k_;
  a.stride_h = a.stride_w = stride_;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad_;
  a.count_include_pad = true;
  return ctx.op(max_ ? OpKind::max_pool2d_nchw : OpKind::avg_pool2d_nchw, {x}, a);
}

std::string Pool2d::describe() const {
  return std::string(max_ ? "MaxPool2d(" : "AvgPool2d(") + i2s(k_) + ", s=" + i2s(stride_) +
         (pad_ ? ", p=" + i2s(pad_) + ")" : ")");
}

int64_t Flatten::forward(Context& ctx, int64_t x) const {
  const Shape s = ctx.shape(x);
  TL_USER_CHECK(s.rank() >= 1, "Flatten: input shape " + s.str() + " has no batch dim");
  int64_t rest = 1;
  for (int64_t d = 1; d < s.rank(); ++d) rest *= s[d];
  return reshape(ctx, x, Shape{s[0], rest});
}

Sequential::Sequential(std::vector<ModulePtr> children) : children_(std::move(children)) {}

int64_t Sequential::forward(Context& ctx, int64_t x) const {
  for (size_t i = 0; i < children_.size(); ++i) x = ctx.call(*children_[i], std::to_string(i), x);
  return x;
}

std::string Sequential::describe() const { return "Sequential"; }

Residual::Residual(ModulePtr inner) : inner_(std::move(inner)) {}

int64_t Residual::forward(Context& ctx, int64_t x) const {
  const int64_t y = ctx.call(*inner_, "inner", x);
  TL_USER_CHECK(ctx.shape(y) == ctx.shape(x), "Residual: inner module maps " + ctx.shape(x).str() +
                                                  " to " + ctx.shape(y).str() +
                                                  "; shapes must agree");
  return ctx.op(OpKind::add, {x, y});
}

MultiheadSelfAttention::MultiheadSelfAttention(int64_t dim, int64_t heads)
    : dim_(dim), heads_(heads) {
  TL_USER_CHECK(dim > 0 && heads > 0 && dim % heads == 0,
                "MultiheadSelfAttention: dim " + i2s(dim) + " must be a positive multiple of " +
                    i2s(heads) + " heads");
}

int64_t MultiheadSelfAttention::forward(Context& ctx, int64_t x) const {
  need_rank(ctx, x, 3, describe());
  const Shape s = ctx.shape(x);
  const int64_t B = s[0], T = s[1], H = heads_, D = dim_ / heads_;
  TL_USER_CHECK(s[2] == dim_,
                describe() + ": input shape " + s.str() + " must end in " + i2s(dim_));
  // (B, T, dim) -> (B*H, T, D): one batch item per (example, head).
  auto heads = [&](int64_t t) {
    t = reshape(ctx, t, Shape{B, T, H, D});
    t = permute(ctx, t, {0, 2, 1, 3});
    return reshape(ctx, t, Shape{B * H, T, D});
  };
  const Linear proj(dim_, dim_);
  const int64_t q = heads(ctx.call(proj, "q_proj", x));
  const int64_t k = heads(ctx.call(proj, "k_proj", x));
  const int64_t v = heads(ctx.call(proj, "v_proj", x));
  int64_t scores = ctx.op(OpKind::matmul, {q, permute(ctx, k, {0, 2, 1})});
  scores = ctx.op(OpKind::mul_elem,
                  {scores, ctx.broadcast(ctx.scalar(1.0 / std::sqrt(static_cast<double>(D))),
                                         ctx.shape(scores))});
  const int64_t att = ctx.op(OpKind::softmax, {scores}, ir::AxisAttrs{2});
  int64_t o = ctx.op(OpKind::matmul, {att, v});
  o = reshape(ctx, o, Shape{B, H, T, D});
  o = permute(ctx, o, {0, 2, 1, 3});
  o = reshape(ctx, o, Shape{B, T, dim_});
  return ctx.call(proj, "out_proj", o);
}

std::string MultiheadSelfAttention::describe() const {
  return "MultiheadSelfAttention(" + i2s(dim_) + ", heads=" + i2s(heads_) + ")";
}

TransformerEncoderLayer::TransformerEncoderLayer(int64_t dim, int64_t heads, int64_t ff,
                                                 double dropout)
    : dim_(dim), heads_(heads), ff_(ff), dropout_(dropout) {}

int64_t TransformerEncoderLayer::forward(Context& ctx, int64_t x) const {
  const Dropout drop(dropout_);
  int64_t a = ctx.call(MultiheadSelfAttention(dim_, heads_), "self_attn", x);
  a = ctx.call(drop, "dropout1", a);
  x = ctx.call(LayerNorm(dim_), "norm1", ctx.op(OpKind::add, {x, a}));
  int64_t f = ctx.call(Linear(dim_, ff_), "linear1", x);
  f = ctx.op(OpKind::relu, {f});
  f = ctx.call(drop, "dropout", f);
  f = ctx.call(Linear(ff_, dim_), "linear2", f);
  f = ctx.call(drop, "dropout2", f);
  return ctx.call(LayerNorm(dim_), "norm2", ctx.op(OpKind::add, {x, f}));
}

std::string TransformerEncoderLayer::describe() const {
  return "TransformerEncoderLayer(" + i2s(dim_) + ", heads=" + i2s(heads_) + ", ff=" + i2s(ff_) +
         ")";
}

}  // namespace torchlean::nn
