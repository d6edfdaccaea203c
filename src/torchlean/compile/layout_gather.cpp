// Copy runs for the layout ops, taken from the reference semantics rather than re-derived: each
// parent is filled with its elements' global indices plus one (parent p's element i holds
// base_p + i + 1, exact in binary64 below 2^53), the op's reference function eval_<op><F64> moves
// them, and the output then says, element by element, where each value comes from. An output
// element that holds +0 comes from no parent: it is padding (pad, evaluated with its value
// replaced by 0 for this purpose) or slice_grad's zeros, and becomes a fill run. Consecutive
// elements whose sources form an arithmetic progression in one parent become one run (a
// contiguous copy has step 1, a broadcast step 0, a transpose the source row stride), so common
// layouts need few runs.
#include <algorithm>
#include <cmath>
#include <map>

#include "torchlean/compile/detail.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::compile::detail {

runtime::GatherParams layout_gather(const ir::Graph& g, const ir::Node& n) {
  std::vector<Tensor<F64>> parents;
  std::vector<int64_t> base{1};
  for (int64_t p : n.parents) {
    const Shape& s = g.node(p).shape;
    const int64_t count = s.numel();
    TL_USER_CHECK(base.back() + count < (int64_t{1} << 53),
                  ir::detail::node_prefix(n) + "layout op over more than 2^53 elements");
    Tensor<F64> t(s);
    for (int64_t i = 0; i < count; ++i) t[i] = F64::of(static_cast<double>(base.back() + i));
    parents.push_back(std::move(t));
    base.push_back(base.back() + count);
  }
  std::vector<const Tensor<F64>*> ptrs;
  for (const Tensor<F64>& t : parents) ptrs.push_back(&t);
  static const std::map<std::string, Tensor<F64>> kNoPayload;
  ir::Node marked = n;
  runtime::GatherParams out;
  if (n.kind == ir::OpKind::pad) {
    ir::PadAttrs& a = std::get<ir::PadAttrs>(marked.attrs);
    out.fill = a.value;
    a.value = 0;
  }
  const Tensor<F64> where = ops::eval_node<F64>(ops::EvalArgs<F64>{marked, ptrs, kNoPayload});
  TL_INTERNAL_CHECK(where.shape() == n.shape,
                    ir::detail::node_prefix(n) + "reference produced shape " + where.shape().str());

  runtime::GatherRun run;
  for (int64_t j = 0; j < where.numel(); ++j) {
    const double v = where[j].v;
    TL_INTERNAL_CHECK(v >= 0 && v < static_cast<double>(base.back()) && v == std::floor(v),
                      ir::detail::node_prefix(n) + "index map holds a non-index");
    if (v == 0) {
      if (run.count > 0 && run.src == runtime::kFillRun) {
        ++run.count;
        continue;
      }
      if (run.count > 0) out.runs.push_back(run);
      run = runtime::GatherRun{runtime::kFillRun, j, 0, 1, 0};
      continue;
    }
    const int64_t global = static_cast<int64_t>(v);
    const int32_t src =
        static_cast<int32_t>(std::upper_bound(base.begin(), base.end(), global) - base.begin() - 1);
    const int64_t offset = global - base[static_cast<size_t>(src)];
    if (run.count > 0 && src == run.src) {
      if (run.count == 1) {
        run.step = offset - run.offset;
        run.count = 2;
        continue;
      }
      if (offset == run.offset + run.count * run.step) {
        ++run.count;
        continue;
      }
    }
    if (run.count > 0) out.runs.push_back(run);
    run = runtime::GatherRun{src, j, offset, 1, 1};
  }
  if (run.count > 0) out.runs.push_back(run);
  return out;
}

}  // namespace torchlean::compile::detail
