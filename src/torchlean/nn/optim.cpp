#include "torchlean/nn/optim.hpp"

#include <cmath>
#include <numbers>

#include "torchlean/core/error.hpp"

namespace torchlean::nn {
namespace {

using ir::OpKind;

// Node helpers over a GraphBuilder: rank-0 constants and inputs broadcast to a parameter's shape.
struct Emit {
  ir::GraphBuilder& b;
  int64_t scalar(double v) { return b.constant(Tensor<double>(Shape{}, {v})); }
  int64_t like(int64_t s, int64_t x) {
    return b.add(OpKind::broadcast, {s}, ir::BroadcastAttrs{b.shape(x)});
  }
  int64_t add(int64_t x, int64_t y) { return b.add(OpKind::add, {x, y}); }
  int64_t sub(int64_t x, int64_t y) { return b.add(OpKind::sub, {x, y}); }
  int64_t mul(int64_t x, int64_t y) { return b.add(OpKind::mul_elem, {x, y}); }
  int64_t div(int64_t x, int64_t y) { return b.add(OpKind::div, {x, y}); }
  // s * x with a rank-0 s.
  int64_t scale(int64_t s, int64_t x) { return mul(like(s, x), x); }
  int64_t scale_r(int64_t x, int64_t s) { return mul(x, like(s, x)); }
};

}  // namespace

void OptimizerConfig::validate() const {
  TL_USER_CHECK(lr >= 0 && std::isfinite(lr), "optimizer: learning rate must be >= 0");
  TL_USER_CHECK(momentum >= 0 && momentum < 1, "optimizer: momentum must be in [0, 1)");
  TL_USER_CHECK(weight_decay >= 0, "optimizer: weight decay must be >= 0");
  TL_USER_CHECK(!nesterov || (kind == sgd && momentum > 0 && dampening == 0),
                "optimizer: nesterov needs sgd with momentum > 0 and dampening 0");
  TL_USER_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps >= 0,
                "optimizer: betas must be in [0, 1) and eps >= 0");
  TL_USER_CHECK(clip_norm >= 0, "optimizer: clip norm must be >= 0");
}

OptimizerConfig::Kind parse_optimizer(const std::string& name) {
  if (name == "sgd") return OptimizerConfig::sgd;
  if (name == "adam") return OptimizerConfig::adam;
  if (name == "adamw") return OptimizerConfig::adamw;
  throw UserError("optimizer: unknown optimizer '" + name + "' (sgd, adam, adamw)");
}

std::string optimizer_name(OptimizerConfig::Kind k) {
  return k == OptimizerConfig::sgd ? "sgd" : k == OptimizerConfig::adam ? "adam" : "adamw";
}

ScheduleConfig::Kind parse_schedule(const std::string& name) {
  if (name == "constant") return ScheduleConfig::constant;
  if (name == "step") return ScheduleConfig::step;
  if (name == "cosine") return ScheduleConfig::cosine;
  throw UserError("schedule: unknown schedule '" + name + "' (constant, step, cosine)");
}

double learning_rate(const ScheduleConfig& s, double base_lr, int64_t step, int64_t total_steps,
                     int64_t steps_per_epoch) {
  switch (s.kind) {
    case ScheduleConfig::constant:
      return base_lr;
    case ScheduleConfig::step: {
      const int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
      return base_lr *
             std::pow(s.gamma, static_cast<double>(epoch / std::max<int64_t>(s.step_epochs, 1)));
    }
    case ScheduleConfig::cosine: {
      if (step < s.warmup_steps)
        return base_lr * static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps);
      const int64_t span = std::max<int64_t>(total_steps - s.warmup_steps, 1);
      const double progress =
          std::min(1.0, static_cast<double>(step - s.warmup_steps) / static_cast<double>(span));
      return s.min_lr + (base_lr - s.min_lr) * (1 + std::cos(std::numbers::pi * progress)) / 2;
    }
  }
  return base_lr;
}

std::vector<double> step_scalars(const OptimizerConfig& cfg, double lr, int64_t t) {
  if (cfg.kind == OptimizerConfig::sgd) return {lr};
  const double td = static_cast<double>(t);
  std::vector<double> s = {lr, lr / (1 - std::pow(cfg.beta1, td)),
                           std::sqrt(1 - std::pow(cfg.beta2, td))};
  if (cfg.kind == OptimizerConfig::adamw) s.push_back(1 - lr * cfg.weight_decay);
  return s;
}

OptimizerGraph emit_optimizer(ir::GraphBuilder& b, const OptimizerConfig& cfg,
                              const std::vector<TrainedParam>& params, const ParamStore& state) {
  cfg.validate();
  Emit e{b};
  OptimizerGraph og;
  const int n_scalars = cfg.kind == OptimizerConfig::sgd    ? 1
                        : cfg.kind == OptimizerConfig::adam ? 3
                                                            : 4;
  for (int i = 0; i < n_scalars; ++i) og.scalar_inputs.push_back(b.input(Shape{}));
  const int64_t lr = og.scalar_inputs[0];

  auto state_node = [&](const TrainedParam& p, const std::string& what) {
    const std::string name = p.name + "." + what;
    Tensor<double> v =
        state.has(name) ? state.at(name).value : Tensor<double>(b.shape(p.node), 0.0);
    TL_USER_CHECK(v.shape() == b.shape(p.node), "optimizer: state '" + name + "' has shape " +
                                                    v.shape().str() + ", parameter has " +
                                                    b.shape(p.node).str());
    const int64_t id = b.constant(std::move(v));
    og.state_names.push_back(name);
    og.state_nodes.push_back(id);
    return id;
  };

  // Global gradient norm: sqrt of the sum over parameters of sum(g * g).
  std::vector<int64_t> grads;
  for (const TrainedParam& p : params) grads.push_back(p.grad);
  if (!params.empty()) {
    int64_t total = -1;
    for (int64_t g : grads) {
      const int64_t sq = b.add(OpKind::sum, {e.mul(g, g)});
      total = total < 0 ? sq : e.add(total, sq);
    }
    og.grad_norm = b.add(OpKind::sqrt, {total});
    if (cfg.clip_norm > 0) {
      // torch.nn.utils.clip_grad_norm_: coef = min(max_norm / (norm + 1e-6), 1).
      const int64_t coef =
          b.add(OpKind::min_elem,
                {e.div(e.scalar(cfg.clip_norm), e.add(og.grad_norm, e.scalar(1e-6))), e.scalar(1)});
      for (int64_t& g : grads) g = e.scale_r(g, coef);
    }
  }

  for (size_t i = 0; i < params.size(); ++i) {
    const TrainedParam& p = params[i];
    int64_t g = grads[i];
    int64_t param = p.node;
    if (cfg.weight_decay > 0 && cfg.kind != OptimizerConfig::adamw)
      g = e.add(g, e.scale(e.scalar(cfg.weight_decay), param));  // grad + wd * p
    if (cfg.kind == OptimizerConfig::sgd) {
      if (cfg.momentum > 0) {
        const int64_t buf = state_node(p, "momentum_buffer");
        int64_t nb = e.scale_r(buf, e.scalar(cfg.momentum));  // buf * momentum
        nb = e.add(nb, cfg.dampening == 0 ? g : e.scale(e.scalar(1 - cfg.dampening), g));
        og.new_state.push_back(nb);
        g = cfg.nesterov ? e.add(g, e.scale(e.scalar(cfg.momentum), nb)) : nb;
      }
      og.new_params.push_back(e.sub(param, e.scale(lr, g)));  // p - lr * d_p
      continue;
    }
    if (cfg.kind == OptimizerConfig::adamw)
      param = e.scale_r(param, og.scalar_inputs[3]);  // p * (1 - lr * wd)
    const int64_t m = state_node(p, "exp_avg");
    const int64_t v = state_node(p, "exp_avg_sq");
    // m * b1 + (1 - b1) * g;  v * b2 + ((1 - b2) * g) * g
    const int64_t nm =
        e.add(e.scale_r(m, e.scalar(cfg.beta1)), e.scale(e.scalar(1 - cfg.beta1), g));
    const int64_t nv =
        e.add(e.scale_r(v, e.scalar(cfg.beta2)), e.mul(e.scale(e.scalar(1 - cfg.beta2), g), g));
    og.new_state.push_back(nm);
    og.new_state.push_back(nv);
    // denom = sqrt(v) / sqrt(bc2) + eps;  p - (step_size * m) / denom
    const int64_t denom = e.add(e.div(b.add(OpKind::sqrt, {nv}), e.like(og.scalar_inputs[2], nv)),
                                e.like(e.scalar(cfg.eps), nv));
    og.new_params.push_back(e.sub(param, e.div(e.scale(og.scalar_inputs[1], nm), denom)));
  }
  return og;
}

}  // namespace torchlean::nn
