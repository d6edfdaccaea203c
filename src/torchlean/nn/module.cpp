#include "torchlean/nn/module.hpp"

#include <iomanip>
#include <sstream>

#include "torchlean/core/error.hpp"

namespace torchlean::nn {

const ParamStore::Entry& ParamStore::at(const std::string& name) const {
  auto it = index_.find(name);
  TL_USER_CHECK(it != index_.end(), "params: no parameter named '" + name + "'");
  return entries_[it->second];
}

ParamStore::Entry& ParamStore::at(const std::string& name) {
  return const_cast<Entry&>(static_cast<const ParamStore&>(*this).at(name));
}

void ParamStore::add(const std::string& name, Tensor<double> value, bool trainable) {
  TL_USER_CHECK(!has(name), "params: duplicate parameter name '" + name + "'");
  index_.emplace(name, entries_.size());
  entries_.push_back(Entry{name, std::move(value), trainable});
}

int64_t ParamStore::trainable_count() const {
  int64_t n = 0;
  for (const Entry& e : entries_)
    if (e.trainable) n += e.value.numel();
  return n;
}

Context::Context(ir::GraphBuilder& b, ParamStore& store, Mode mode, uint64_t init_seed)
    : b_(b), store_(store), mode_(mode), rng_(init_seed) {}

std::string Context::full(const std::string& local) const {
  std::string s;
  for (const std::string& p : scope_) s += p + ".";
  return s + local;
}

int64_t Context::parameter(const std::string& local, const Shape& shape, const Init& init) {
  const std::string name = full(local);
  if (!store_.has(name)) store_.add(name, init_tensor(shape, init, rng_), true);
  const ParamStore::Entry& e = store_.at(name);
  TL_USER_CHECK(e.value.shape() == shape, "params: '" + name + "' has shape " +
                                              e.value.shape().str() + ", the model needs " +
                                              shape.str());
  const int64_t id = b_.constant(e.value);
  params_.push_back({name, id});
  own_params_ += shape.numel();
  return id;
}

int64_t Context::parameter(const std::string& local, const Tensor<double>& initial) {
  const std::string name = full(local);
  if (!store_.has(name)) {
    Tensor<double> v = initial;
    for (int64_t i = 0; i < v.numel(); ++i) v[i] = static_cast<float>(v[i]);
    store_.add(name, std::move(v), true);
  }
  // The shape check and the node are the seeded overload's; `init` is unused once stored.
  return parameter(local, initial.shape(), Init{});
}

int64_t Context::buffer(const std::string& local, const Shape& shape, double fill) {
  const std::string name = full(local);
  if (!store_.has(name)) store_.add(name, Tensor<double>(shape, fill), false);
  const ParamStore::Entry& e = store_.at(name);
  TL_USER_CHECK(e.value.shape() == shape, "params: buffer '" + name + "' has shape " +
                                              e.value.shape().str() + ", the model needs " +
                                              shape.str());
  const int64_t id = b_.constant(e.value);
  buffers_.push_back({name, id});
  return id;
}

void Context::update_buffer(const std::string& local, int64_t node) {
  updates_.push_back({full(local), node});
}

int64_t Context::step_input(const std::string& local, const Shape& shape, double keep) {
  const int64_t id = b_.input(shape);
  step_inputs_.push_back(StepInput{full(local), id, keep});
  return id;
}

int64_t Context::scalar(double v) { return b_.constant(Tensor<double>(Shape{}, {v})); }

int64_t Context::broadcast(int64_t x, const Shape& to) {
  if (shape(x) == to) return x;
  return b_.add(ir::OpKind::broadcast, {x}, ir::BroadcastAttrs{to});
}

int64_t Context::op(ir::OpKind kind, std::vector<int64_t> parents, ir::Attrs attrs) {
  return b_.add(kind, std::move(parents), std::move(attrs));
}

int64_t Context::call(const Module& m, const std::string& child, int64_t x) {
  const size_t row = summary_.size();
  summary_.push_back(
      SummaryRow{static_cast<int>(scope_.size()) + 1, full(child), m.describe(), {}, 0});
  const int64_t saved = own_params_;
  own_params_ = 0;
  scope_.push_back(child);
  const int64_t y = m.forward(*this, x);
  scope_.pop_back();
  summary_[row].out_shape = shape(y);
  summary_[row].params = own_params_;
  own_params_ += saved;
  return y;
}

int64_t Context::root(const Module& m, int64_t x) {
  summary_.push_back(SummaryRow{0, "model", m.describe(), {}, 0});
  own_params_ = 0;
  const int64_t y = m.forward(*this, x);
  summary_.front().out_shape = shape(y);
  summary_.front().params = own_params_;
  return y;
}

std::string format_summary(const std::vector<SummaryRow>& rows, const ParamStore& store) {
  std::ostringstream os;
  os << std::left << std::setw(44) << "layer" << std::setw(20) << "output shape"
     << "params\n";
  for (const SummaryRow& r : rows) {
    std::string label = std::string(2 * static_cast<size_t>(r.depth), ' ') + r.name + " " + r.layer;
    os << std::left << std::setw(44) << label << std::setw(20) << r.out_shape.str() << r.params
       << "\n";
  }
  int64_t buffers = 0;
  for (const auto& e : store.entries())
    if (!e.trainable) buffers += e.value.numel();
  os << "trainable parameters: " << store.trainable_count() << ", buffers: " << buffers << "\n";
  return os.str();
}

}  // namespace torchlean::nn
