#include "torchlean/nn/train_step.hpp"

#include <cstring>

#include "torchlean/autodiff/grad.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::nn {

ir::GraphBuilder replay(const ir::Graph& g, const ir::Payload& payload) {
  ir::GraphBuilder b;
  for (const ir::Node& n : g.nodes) {
    int64_t id = -1;
    if (n.kind == ir::OpKind::input) {
      id = b.input(n.shape);
    } else if (n.kind == ir::OpKind::constant) {
      auto it = payload.find(n.id);
      TL_USER_CHECK(it != payload.end() && it->second.count("value"),
                    "replay: " + n.label() + " has no payload value");
      id = b.constant(it->second.at("value"));
    } else {
      id = b.add(n.kind, n.parents, n.attrs, n.shape);
      auto it = payload.find(n.id);
      if (it != payload.end())
        for (const auto& [slot, t] : it->second) b.set_payload(id, slot, t);
    }
    TL_INTERNAL_CHECK(id == n.id, "replay: node ids diverged at " + n.label());
  }
  TL_INTERNAL_CHECK(b.graph().input_ids == g.input_ids, "replay: graph inputs are not in id order");
  return b;
}

TrainStep::TrainStep(const Module& model, const Shape& x_shape, const Shape& y_shape,
                     const StepConfig& cfg, ParamStore& params, const ParamStore& opt_state,
                     uint64_t init_seed)
    : cfg_(cfg) {
  ir::GraphBuilder fb;
  const int64_t x = fb.input(x_shape);
  const int64_t y = fb.input(y_shape);
  Context ctx(fb, params, Mode::train, init_seed);
  const int64_t pred = ctx.root(model, x);
  const int64_t loss = build_loss(fb, cfg.loss, pred, y);
  fb.mark_output(loss);
  fb.mark_output(pred);
  summary_ = ctx.summary();
  step_inputs_ = ctx.step_inputs();
  auto [fg, fp] = std::move(fb).finish();

  autodiff::GradRequest req;
  req.loss = loss;
  for (const Context::Bound& p : ctx.parameters()) req.wrt.push_back(p.node);
  const autodiff::GradGraph gg = autodiff::grad(fg, req);
  ir::GraphBuilder tb = replay(gg.graph, autodiff::merge_payload(fp, gg));

  std::vector<TrainedParam> trained;
  for (size_t i = 0; i < ctx.parameters().size(); ++i)
    trained.push_back({ctx.parameters()[i].name, ctx.parameters()[i].node, gg.grad_ids[i]});
  const OptimizerGraph og = emit_optimizer(tb, cfg.optimizer, trained, opt_state);

  tb.mark_output(loss);
  tb.mark_output(pred);
  size_t next = 2;
  if (og.grad_norm >= 0) {
    tb.mark_output(og.grad_norm);
    grad_norm_output_ = static_cast<int64_t>(next++);
  }
  for (size_t i = 0; i < trained.size(); ++i) {
    tb.mark_output(og.new_params[i]);
    tracked_.push_back({trained[i].name, trained[i].node, next++, false});
  }
  for (size_t i = 0; i < og.state_nodes.size(); ++i) {
    tb.mark_output(og.new_state[i]);
    tracked_.push_back({og.state_names[i], og.state_nodes[i], next++, true});
  }
  for (const Context::Bound& u : ctx.buffer_updates()) {
    int64_t node = -1;
    for (const Context::Bound& bf : ctx.buffers())
      if (bf.name == u.name) node = bf.node;
    TL_INTERNAL_CHECK(node >= 0, "TrainStep: update of unknown buffer " + u.name);
    tb.mark_output(u.node);
    tracked_.push_back({u.name, node, next++, false});
  }
  auto [tg, tp] = std::move(tb).finish();
  store_ = std::make_unique<ir::PayloadStore<float>>(runtime::to_runtime_payload<float>(tp));
  program_ =
      std::make_unique<runtime::Program<float>>(compile::compile<float>(tg, *store_, cfg.compile));

  // Inputs in program order: x, y, one mask per dropout, then the optimizer's scalars.
  const std::vector<int64_t>& ids = tg.input_ids;
  in_ptrs_.assign(ids.size(), nullptr);
  first_mask_input_ = 2;
  first_scalar_input_ = 2 + step_inputs_.size();
  TL_INTERNAL_CHECK(ids.size() == first_scalar_input_ + og.scalar_inputs.size(),
                    "TrainStep: unexpected graph inputs");
  for (size_t i = 2; i < ids.size(); ++i) {
    inputs_.emplace_back(static_cast<size_t>(tg.node(ids[i]).shape.numel()), 0.0f);
    in_ptrs_[i] = inputs_.back().data();
  }
  for (int64_t id : tg.output_ids)
    outputs_.emplace_back(static_cast<size_t>(tg.node(id).shape.numel()), 0.0f);
  for (auto& o : outputs_) out_ptrs_.push_back(o.data());
}

TrainStep::~TrainStep() = default;

const ir::Graph& TrainStep::graph() const { return program_->code().graph; }

const Shape& TrainStep::prediction_shape() const { return program_->output_shape(1); }

TrainStep::Result TrainStep::run(const float* x, const float* y, double lr, int64_t t,
                                 SplitMix64& rng) {
  in_ptrs_[0] = x;
  in_ptrs_[1] = y;
  for (size_t k = 0; k < step_inputs_.size(); ++k) {
    std::vector<float>& mask = inputs_[k];
    const double keep = step_inputs_[k].keep;
    const float scale = static_cast<float>(1.0 / keep);
    for (float& m : mask) m = uniform01(rng) < keep ? scale : 0.0f;
  }
  const std::vector<double> scalars = step_scalars(cfg_.optimizer, lr, t);
  for (size_t k = 0; k < scalars.size(); ++k)
    inputs_[step_inputs_.size() + k][0] = static_cast<float>(scalars[k]);
  program_->run(in_ptrs_, out_ptrs_);
  for (const Tracked& tr : tracked_) {
    std::vector<float>& dst = (*store_)[tr.node].at("value").vec();
    std::memcpy(dst.data(), outputs_[tr.output].data(), sizeof(float) * dst.size());
  }
  Result r;
  r.loss = outputs_[0][0];
  if (grad_norm_output_ >= 0) r.grad_norm = outputs_[static_cast<size_t>(grad_norm_output_)][0];
  return r;
}

void TrainStep::save(ParamStore& params, ParamStore& opt_state) const {
  for (const Tracked& tr : tracked_) {
    const Tensor<float>& v = store_->at(tr.node).at("value");
    Tensor<double> d(v.shape());
    for (int64_t i = 0; i < v.numel(); ++i) d[i] = static_cast<double>(v[i]);
    ParamStore& target = tr.optimizer_state ? opt_state : params;
    if (target.has(tr.name))
      target.at(tr.name).value = std::move(d);
    else
      target.add(tr.name, std::move(d), false);
  }
}

EvalGraph build_eval_graph(const Module& model, const Shape& x_shape, ParamStore& params,
                           uint64_t init_seed) {
  ir::GraphBuilder b;
  const int64_t x = b.input(x_shape);
  Context ctx(b, params, Mode::eval, init_seed);
  b.mark_output(ctx.root(model, x));
  EvalGraph eg;
  eg.summary = ctx.summary();
  eg.bound = ctx.parameters();
  eg.bound.insert(eg.bound.end(), ctx.buffers().begin(), ctx.buffers().end());
  auto [g, p] = std::move(b).finish();
  eg.graph = std::move(g);
  eg.payload = std::move(p);
  return eg;
}

Predictor::Predictor(const Module& model, const Shape& x_shape, ParamStore& params,
                     const compile::CompileOptions& options, uint64_t init_seed) {
  EvalGraph eg = build_eval_graph(model, x_shape, params, init_seed);
  graph_ = std::move(eg.graph);
  summary_ = std::move(eg.summary);
  bound_ = std::move(eg.bound);
  store_ =
      std::make_unique<ir::PayloadStore<float>>(runtime::to_runtime_payload<float>(eg.payload));
  program_ =
      std::make_unique<runtime::Program<float>>(compile::compile<float>(graph_, *store_, options));
  out_.assign(static_cast<size_t>(output_shape().numel()), 0.0f);
}

Predictor::~Predictor() = default;

const Shape& Predictor::output_shape() const { return program_->output_shape(0); }

void Predictor::load(const ParamStore& params) {
  for (const Context::Bound& bd : bound_) {
    const Tensor<double>& src = params.at(bd.name).value;
    Tensor<float>& dst = (*store_)[bd.node].at("value");
    TL_USER_CHECK(src.shape() == dst.shape(), "predictor: '" + bd.name + "' has shape " +
                                                  src.shape().str() + ", the model needs " +
                                                  dst.shape().str());
    for (int64_t i = 0; i < src.numel(); ++i) dst[i] = static_cast<float>(src[i]);
  }
}

const std::vector<float>& Predictor::run(const float* x) {
  const float* in[1] = {x};
  float* out[1] = {out_.data()};
  program_->run(in, out);
  return out_;
}

ir::Payload Predictor::payload() const {
  ir::Payload p;
  for (const auto& [id, slots] : *store_)
    for (const auto& [name, t] : slots) {
      Tensor<double> d(t.shape());
      for (int64_t i = 0; i < t.numel(); ++i) d[i] = static_cast<double>(t[i]);
      p[id].emplace(name, std::move(d));
    }
  return p;
}

}  // namespace torchlean::nn
