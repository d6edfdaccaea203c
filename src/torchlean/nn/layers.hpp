// The layers: each builds IR for one PyTorch-style module. Inputs carry a leading batch dim.
// Parameters are `const` nodes (so autodiff differentiates them directly); initialisation follows
// PyTorch's defaults unless an Init is given.
#pragma once
#include <optional>

#include "torchlean/nn/module.hpp"

namespace torchlean::nn {

// y = x W^T + b over the last axis (x of any rank >= 2): matmul(x, permute(W)) + broadcast(b).
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true, std::optional<Init> weight_init = {});
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

 private:
  int64_t in_, out_;
  bool bias_;
  std::optional<Init> init_;
};

// NCHW convolution, OIHW weight (conv2d_nchw with const weight and bias parents).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_c, int64_t out_c, int64_t kernel, int64_t stride = 1, int64_t padding = 0,
         bool bias = true, std::optional<Init> weight_init = {});
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  int64_t in_c_, out_c_, k_, stride_, pad_;
  bool bias_;
  std::optional<Init> init_;
};

// Batch normalisation over (N, H, W) per channel. Train: batch statistics (biased variance for
// the normalisation, unbiased for the running variance, as PyTorch), running statistics updated
// with `momentum`; eval: running statistics. Both are decompositions into elementwise ops.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  int64_t c_;
  double eps_, momentum_;
};

// layernorm over the last axis (the IR op: eps 1e-6, TorchLean's), then * gamma + beta.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  int64_t dim_;
};

// Rows of a (num, dim) table selected by integer-valued indices: gather along axis 0.
class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  int64_t num_, dim_;
};

// Train: x * mask, the mask fed per step by the trainer (1/(1-p) with probability 1-p, else 0,
// drawn from the run's SplitMix64 stream); eval: identity.
class Dropout : public Module {
 public:
  explicit Dropout(double p);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  double p_;
};

// An elementwise activation (relu, gelu, sigmoid, tanh, ...) or softmax over the last axis.
class Activation : public Module {
 public:
  explicit Activation(ir::OpKind kind);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  ir::OpKind kind_;
};

// Max or average pooling of NCHW inputs (PyTorch's defaults: stride = kernel, no padding,
// avg counts padding).
class Pool2d : public Module {
 public:
  Pool2d(bool max, int64_t kernel, int64_t stride = 0, int64_t padding = 0);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  bool max_;
  int64_t k_, stride_, pad_;
};

// (N, d1, d2, ...) -> (N, d1*d2*...).
class Flatten : public Module {
 public:
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override { return "Flatten"; }
};

// Children run in order, named "0", "1", ...
class Sequential : public Module {
 public:
  explicit Sequential(std::vector<ModulePtr> children);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;
  const std::vector<ModulePtr>& children() const { return children_; }

 private:
  std::vector<ModulePtr> children_;
};

// x + inner(x) (inner must keep the shape).
class Residual : public Module {
 public:
  explicit Residual(ModulePtr inner);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override { return "Residual"; }

 private:
  ModulePtr inner_;
};

// Multi-head self-attention on (B, T, d): softmax(Q K^T / sqrt(d/h)) V per head, then an output
// projection (PyTorch's nn.MultiheadAttention with separate q/k/v projections, no mask).
class MultiheadSelfAttention : public Module {
 public:
  MultiheadSelfAttention(int64_t dim, int64_t heads);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  int64_t dim_, heads_;
};

// PyTorch's TransformerEncoderLayer (post-norm, ReLU): x = norm1(x + drop(attn(x)));
// x = norm2(x + drop(W2 relu(W1 x))).
class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int64_t dim, int64_t heads, int64_t ff, double dropout = 0);
  int64_t forward(Context& ctx, int64_t x) const override;
  std::string describe() const override;

 private:
  int64_t dim_, heads_, ff_;
  double dropout_;
};

}  // namespace torchlean::nn
