// Modules build IR. A Module is an immutable description (Linear(784, 128), ReLU, ...); its
// forward(ctx, x) appends nodes to ctx's ir::GraphBuilder and returns the output node id.
// Parameters live outside the graph in a ParamStore keyed by hierarchical name ("0.weight"), so
// the same model can be built many times (training graph, evaluation graph, another batch size)
// over the same values. The first build initialises missing parameters from the seeded RNG in
// build order, so a seed fixes the whole model.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/nn/init.hpp"

namespace torchlean::nn {

enum class Mode { train, eval };

// Named tensors in registration order: trainable parameters and non-trainable buffers
// (batch-norm running statistics). Values are binary64 holding binary32 values.
class ParamStore {
 public:
  struct Entry {
    std::string name;
    Tensor<double> value;
    bool trainable = true;
  };
  bool has(const std::string& name) const { return index_.count(name) != 0; }
  const Entry& at(const std::string& name) const;
  Entry& at(const std::string& name);
  // Adds a new entry (UserError if the name exists).
  void add(const std::string& name, Tensor<double> value, bool trainable);
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }
  int64_t trainable_count() const;  // number of trainable scalars

 private:
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
};

// One row of a model summary, recorded as modules are built.
struct SummaryRow {
  int depth = 0;
  std::string name;   // hierarchical name ("1", "3.attn")
  std::string layer;  // Module::describe()
  Shape out_shape;
  int64_t params = 0;  // parameter scalars of this module and its children
};

// A value that the trainer feeds every step besides x and y (a dropout mask).
struct StepInput {
  std::string name;
  int64_t node = -1;
  double keep = 1;  // dropout keep probability: the mask holds 1/keep with probability keep, else 0
};

class Context {
 public:
  Context(ir::GraphBuilder& b, ParamStore& store, Mode mode, uint64_t init_seed);

  ir::GraphBuilder& b() { return b_; }
  Mode mode() const { return mode_; }
  const Shape& shape(int64_t id) const { return b_.shape(id); }

  // A `const` node holding parameter `local` of the current scope (initialised from `init` on
  // first use). Records (name, node) for the optimizer.
  int64_t parameter(const std::string& local, const Shape& shape, const Init& init);
  // The same, initialised to `initial` (rounded to binary32) on first use: a model file's weights.
  int64_t parameter(const std::string& local, const Tensor<double>& initial);
  // A non-trainable `const` node (initialised to `fill`).
  int64_t buffer(const std::string& local, const Shape& shape, double fill);
  // In training graphs: the new value of buffer `local` (running statistics); the trainer writes
  // it back after each step.
  void update_buffer(const std::string& local, int64_t node);
  // A per-step input of `shape` fed by the trainer (dropout masks).
  int64_t step_input(const std::string& local, const Shape& shape, double keep);

  // Scalar and broadcast helpers used by every module.
  int64_t scalar(double v);
  int64_t broadcast(int64_t x, const Shape& to);  // NumPy right-aligned
  int64_t op(ir::OpKind kind, std::vector<int64_t> parents, ir::Attrs attrs = ir::NoAttrs{});

  // Runs child `m` on `x` under the scope name `child` and records its summary row.
  int64_t call(const class Module& m, const std::string& child, int64_t x);
  // Runs the top-level module: no scope (its parameters are "0.weight", not "model.0.weight").
  int64_t root(const class Module& m, int64_t x);

  struct Bound {
    std::string name;
    int64_t node;
  };
  const std::vector<Bound>& parameters() const { return params_; }  // trainable, build order
  const std::vector<Bound>& buffers() const { return buffers_; }
  const std::vector<Bound>& buffer_updates() const { return updates_; }
  const std::vector<StepInput>& step_inputs() const { return step_inputs_; }
  const std::vector<SummaryRow>& summary() const { return summary_; }

 private:
  std::string full(const std::string& local) const;

  ir::GraphBuilder& b_;
  ParamStore& store_;
  Mode mode_;
  SplitMix64 rng_;
  std::vector<std::string> scope_;
  std::vector<Bound> params_, buffers_, updates_;
  std::vector<StepInput> step_inputs_;
  std::vector<SummaryRow> summary_;
  int64_t own_params_ = 0;  // parameter scalars registered in the current call
};

class Module {
 public:
  virtual ~Module() = default;
  virtual int64_t forward(Context& ctx, int64_t x) const = 0;
  // One line: "Linear(784, 128)".
  virtual std::string describe() const = 0;
};
using ModulePtr = std::shared_ptr<const Module>;

// The summary table: one row per module (indented by depth), its output shape and parameter
// count, then the totals.
std::string format_summary(const std::vector<SummaryRow>& rows, const ParamStore& store);

}  // namespace torchlean::nn
