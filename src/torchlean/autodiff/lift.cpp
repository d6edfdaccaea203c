// lift_parameters: rewrites the payload-parameterised v1 ops into parent-based ops over const
// nodes, so that grad can reach every parameter. Each rewrite performs the same roundings in the
// same order as the v1 op (the contract the extension ops keep, docs/ops.md):
//   linear:  v1 folds fma(W[o,k], x[k], acc) from +0 then adds b[o]; matmul(x, W^T) folds
//            fma(x[k], W^T[k,o], acc) (the same products, fma is commutative in them), then
//            add(., broadcast(b)) is the same one addition.
//   conv2d:  conv2d_nchw on a batch of one with symmetric padding, unit dilation, one group keeps
//            v1 conv2d's (ic, kh, kw) order and its bias addition.
//   batch_norm2d_nchw_eval: d = sqrt(relu(var) + eps) per channel (relu is maximum(., +0)), then
//            sub, div, mul, add per element: the v1 formula op for op.
//   rand_uniform, bernoulli_mask: their seed is shifted by the node's move so the draws stay.
#include <algorithm>

#include "torchlean/autodiff/grad.hpp"
#include "torchlean/autodiff/vjp.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::autodiff {

using ir::OpKind;

namespace {

class Lifter {
 public:
  Lifter(const ir::Graph& g, const ir::Payload& payload, std::vector<LiftedParameter>* params)
      : src_(g), payload_(payload), params_(params), e_(out_, out_payload_) {}

  std::pair<ir::Graph, ir::Payload> run() {
    ir::check_payload(src_, payload_);
    remap_.assign(src_.nodes.size(), -1);
    for (const ir::Node& n : src_.nodes) remap_[static_cast<size_t>(n.id)] = lift(n);
    for (int64_t id : src_.input_ids) out_.input_ids.push_back(remap_[static_cast<size_t>(id)]);
    for (int64_t id : src_.output_ids) out_.output_ids.push_back(remap_[static_cast<size_t>(id)]);
    ir::check_payload(out_, out_payload_);
    return {std::move(out_), std::move(out_payload_)};
  }

 private:
  // The payload slot as a const node (one per slot, recorded in params).
  int64_t param(const ir::Node& n, const std::string& slot) {
    const Tensor<double>& t = payload_.at(n.id).at(slot);
    const int64_t id = e_.constant(t.shape(), t.vec());
    if (params_ != nullptr) params_->push_back({n.id, slot, id});
    return id;
  }

  int64_t lift(const ir::Node& n) {
    std::vector<int64_t> parents;
    for (int64_t p : n.parents) parents.push_back(remap_[static_cast<size_t>(p)]);
    switch (n.kind) {
      case OpKind::input:
        return out_.add(OpKind::input, {}, n.attrs, n.shape);
      case OpKind::constant:
        return param(n, "value");
      case OpKind::linear:
        return linear(n, parents[0]);
      case OpKind::conv2d:
        return conv2d(n, parents[0]);
      case OpKind::batch_norm2d_nchw_eval:
        return batch_norm(n, parents[0]);
      case OpKind::rand_uniform:
      case OpKind::bernoulli_mask:
        return random(n, std::move(parents));
      default:
        return e_.add(n.kind, std::move(parents), n.attrs, n.shape);
    }
  }

  // The random ops draw from a stream keyed by seed + node id (wrapping, as uint64): a node that
  // moves from id i to id j keeps its draws with seed + i - j.
  int64_t random(const ir::Node& n, std::vector<int64_t> parents) {
    const uint64_t new_id = out_.nodes.size();
    const uint64_t seed = static_cast<uint64_t>(std::get<ir::SeedAttrs>(n.attrs).seed) +
                          static_cast<uint64_t>(n.id) - new_id;
    return e_.add(n.kind, std::move(parents), ir::SeedAttrs{static_cast<int64_t>(seed)}, n.shape);
  }

  int64_t linear(const ir::Node& n, int64_t x) {
    const int64_t w = param(n, "weight");
    const int64_t b = param(n, "bias");
    const int64_t wt = e_.add(OpKind::permute, {w}, ir::PermuteAttrs{{1, 0}});
    const Shape xs = e_.shape(x);
    const int64_t x2 = xs.rank() == 1 ? e_.reshape(x, Shape{1, xs[0]}) : x;
    const int64_t prod = e_.binary(OpKind::matmul, x2, wt);
    const int64_t y = e_.binary(OpKind::add, prod, e_.broadcast(b, e_.shape(prod)));
    return e_.reshape(y, n.shape);
  }

  int64_t conv2d(const ir::Node& n, int64_t x) {
    const auto& a = std::get<ir::Conv2dAttrs>(n.attrs);
    const int64_t w = param(n, "weight");
    const int64_t b = param(n, "bias");
    const Shape xs = e_.shape(x);
    ir::Conv2dNchwAttrs c;
    c.stride_h = c.stride_w = a.stride;
    c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = a.padding;
    const int64_t x4 = e_.reshape(x, Shape{1, xs[0], xs[1], xs[2]});
    return e_.reshape(e_.add(OpKind::conv2d_nchw, {x4, w, b}, c), n.shape);
  }

  int64_t batch_norm(const ir::Node& n, int64_t x) {
    const Tensor<double>& eps_value = payload_.at(n.id).at("eps");
    // The IR's sqrt clamps negatives to 0 where v1 batchnorm's sqrt gives NaN: they agree unless
    // relu(var) + eps < 0, which needs a negative eps.
    if (eps_value.vec().at(0) < 0)
      throw UserError(ir::detail::node_prefix(n) + "eps " + std::to_string(eps_value.vec()[0]) +
                      " is negative; lift_parameters cannot rewrite it bit-identically");
    const int64_t gamma = param(n, "gamma");
    const int64_t beta = param(n, "beta");
    const int64_t mean = param(n, "mean");
    const int64_t var = param(n, "var");
    const int64_t eps = param(n, "eps");
    const Shape s = n.shape;
    const int64_t channels = s[1];
    const auto per_channel = [&](int64_t v) {
      return e_.broadcast(e_.reshape(v, Shape{channels, 1, 1}), s);
    };
    const int64_t shifted =
        e_.binary(OpKind::add, e_.unary(OpKind::relu, var), e_.broadcast(eps, Shape{channels}));
    const int64_t d = e_.unary(OpKind::sqrt, shifted);
    const int64_t centred = e_.binary(OpKind::sub, x, per_channel(mean));
    const int64_t scaled = e_.binary(OpKind::div, centred, per_channel(d));
    return e_.binary(OpKind::add, e_.binary(OpKind::mul_elem, scaled, per_channel(gamma)),
                     per_channel(beta));
  }

  const ir::Graph& src_;
  const ir::Payload& payload_;
  std::vector<LiftedParameter>* params_;
  ir::Graph out_;
  ir::Payload out_payload_;
  detail::Emitter e_;
  std::vector<int64_t> remap_;
};

}  // namespace

std::pair<ir::Graph, ir::Payload> lift_parameters(const ir::Graph& g, const ir::Payload& payload,
                                                  std::vector<LiftedParameter>* params) {
  return Lifter(g, payload, params).run();
}

}  // namespace torchlean::autodiff
