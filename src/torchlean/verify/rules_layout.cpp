// Bound rules of the layout ops: permute, detach, broadcast_to, reshape, flatten, concat,
// swap_first_two, transpose3d_last_two (ops/layout.cpp) and broadcast, slice, pad, gather with
// constant indices (extension ops). Each output element is a copy of one parent element or a
// constant (pad's value), so the op is an exact affine map with coefficients 1 and no rounding.
// The index map is not re-derived by hand: it is read off the op's own reference semantics,
// evaluated twice on index-coded inputs (element k of the concatenated parents holds k+1, then
// -(k+1)); an output element that flips sign is a copy, one that does not is a constant. So the
// rule cannot disagree with the semantics it bounds. float32 evaluates in F32 (pad values round
// as the binary32 semantics rounds them); codes stay below 2^24, exact in binary32.
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/f32.hpp"
#include "torchlean/verify/rule_util.hpp"

namespace torchlean::verify {

namespace {

template <class S>
std::vector<double> eval_coded(const NodeCtx& ctx, double sign) {
  std::vector<Tensor<S>> inputs;
  int64_t base = 0;
  for (size_t p = 0; p < ctx.parents.size(); ++p) {
    const Shape& s = *ctx.parent_shapes[p];
    Tensor<S> t(s);
    const bool indices = ctx.node.kind == ir::OpKind::gather && p == 1;
    for (int64_t i = 0; i < s.numel(); ++i)
      t[i] = indices ? S::from_double(ctx.constant[1]->lo[i])
                     : S::from_double(sign * static_cast<double>(base + i + 1));
    if (!indices) base += s.numel();
    inputs.push_back(std::move(t));
  }
  std::vector<const Tensor<S>*> ptrs;
  for (const Tensor<S>& t : inputs) ptrs.push_back(&t);
  const std::map<std::string, Tensor<S>> no_payload;
  const ops::EvalArgs<S> args{ctx.node, ptrs, no_payload};
  const Tensor<S> out = ops::eval_node<S>(args);
  std::vector<double> v(static_cast<size_t>(out.numel()));
  for (int64_t i = 0; i < out.numel(); ++i) v[i] = static_cast<double>(out[i].v);
  return v;
}

AffineMap layout_map(const NodeCtx& ctx) {
  int64_t total = 0;
  std::vector<int64_t> base;
  for (const Shape* s : ctx.parent_shapes) base.push_back(total), total += s->numel();
  if (total >= (int64_t{1} << 23))
    throw UserError(ctx.prefix() + "too many elements for the layout rule");
  if (ctx.node.kind == ir::OpKind::gather) {
    if (!detail::is_const(ctx, 1) || detail::is_const(ctx, 0))
      throw UserError(ctx.prefix() + "bound rules need constant indices and variable data");
    for (int64_t i = 0; i < ctx.constant[1]->size(); ++i)
      if (ctx.constant[1]->lo[i] != ctx.constant[1]->hi[i])
        throw UserError(ctx.prefix() + "indices are not exact");
  }
  const bool f32 = ctx.sem == Semantics::float32;
  const std::vector<double> pos = f32 ? eval_coded<F32>(ctx, 1) : eval_coded<F64>(ctx, 1);
  const std::vector<double> neg = f32 ? eval_coded<F32>(ctx, -1) : eval_coded<F64>(ctx, -1);
  AffineBuilder m(ctx, static_cast<int64_t>(pos.size()));
  for (size_t o = 0; o < pos.size(); ++o) {
    if (pos[o] == neg[o]) {
      m.constant(pos[o], pos[o]);
    } else {
      const int64_t code = static_cast<int64_t>(pos[o]) - 1;
      int32_t p = static_cast<int32_t>(base.size()) - 1;
      while (base[p] > code) --p;
      const int64_t idx = code - base[p];
      if (detail::is_const(ctx, p))
        m.constant(ctx.constant[p]->lo[idx], ctx.constant[p]->hi[idx]);
      else
        m.term(p, idx, 1);
    }
    m.end_row(0);
  }
  return m.finish();
}

}  // namespace

#define TL_LAYOUT_RULE(json)                                               \
  const OpRule BoundRule<json>::rule{                                      \
      [](const NodeCtx& ctx) { return affine_ibp(layout_map(ctx), ctx); }, \
      [](const NodeCtx& ctx) -> Linearization { return layout_map(ctx); }, true};

TL_LAYOUT_RULE("permute")
TL_LAYOUT_RULE("detach")
TL_LAYOUT_RULE("broadcast_to")
TL_LAYOUT_RULE("reshape")
TL_LAYOUT_RULE("flatten")
TL_LAYOUT_RULE("concat")
TL_LAYOUT_RULE("swap_first_two")
TL_LAYOUT_RULE("transpose3d_last_two")
TL_LAYOUT_RULE("broadcast")
TL_LAYOUT_RULE("slice")
TL_LAYOUT_RULE("pad")
TL_LAYOUT_RULE("gather")
#undef TL_LAYOUT_RULE

const OpRule BoundRule<"gather_grad">::rule = kNoRule;
const OpRule BoundRule<"slice_grad">::rule = kNoRule;

}  // namespace torchlean::verify
