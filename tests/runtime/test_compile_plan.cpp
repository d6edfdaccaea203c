// Lowering properties checked independently of the compiler's own bookkeeping:
//   - the memory plan: live intervals recomputed from the instruction list, no two arena values
//     that are live at the same instruction share a byte, offsets are aligned, the arena holds
//     them all, the lower bound is the recomputed maximum of live bytes, and peak <= 1.25x the
//     bound on the MLP and CNN;
//   - fusion: which chains fuse (single-use, non-output, not log, at most kMaxFusedSteps), with
//     the fused program equal to the unfused one bit for bit;
//   - aliases and outputs: reshape/flatten/detach share slots, outputs are written in place, and
//     inputs/constants/repeated outputs get copies;
//   - bad options and bad payloads are rejected with clear errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "random_graph.hpp"
#include "runtime_test_util.hpp"
#include "test_models.hpp"

namespace torchlean::testing {
namespace {

using compile::CompileOptions;
using runtime::Kernel;
using runtime::KernelMode;
using runtime::ProgramCode;
using runtime::SlotKind;

struct Interval {
  int64_t first = -1, last = -1;
};

// Live intervals of every slot, from the instruction list alone.
std::vector<Interval> liveness(const ProgramCode& code) {
  std::vector<Interval> live(code.slots.size());
  for (size_t i = 0; i < code.instrs.size(); ++i) {
    const auto& in = code.instrs[i];
    std::vector<int32_t> touched = in.in;
    touched.push_back(in.out);
    if (in.workspace >= 0) touched.push_back(in.workspace);
    for (int32_t s : touched) {
      Interval& v = live[static_cast<size_t>(s)];
      if (v.first < 0) v.first = static_cast<int64_t>(i);
      v.last = static_cast<int64_t>(i);
    }
  }
  return live;
}

void expect_valid_plan(const ProgramCode& code, const std::string& what) {
  const int64_t esize = code.elem == runtime::ElemType::f32 ? 4 : 8;
  const std::vector<Interval> live = liveness(code);
  std::vector<size_t> arena;
  for (size_t i = 0; i < code.slots.size(); ++i)
    if (code.slots[i].kind == SlotKind::arena) arena.push_back(i);
  int64_t max_live = 0;
  for (size_t step = 0; step < code.instrs.size(); ++step) {
    int64_t bytes = 0;
    for (size_t i : arena)
      if (live[i].first <= static_cast<int64_t>(step) && static_cast<int64_t>(step) <= live[i].last)
        bytes += code.slots[i].numel * esize;
    max_live = std::max(max_live, bytes);
  }
  EXPECT_EQ(code.plan.lower_bound_bytes, max_live) << what;
  EXPECT_GE(code.plan.arena_bytes, code.plan.lower_bound_bytes) << what;
  for (size_t a : arena) {
    const auto& s = code.slots[a];
    ASSERT_GE(live[a].first, 0) << what << ": arena slot s" << a << " unused";
    EXPECT_EQ(s.offset * esize % runtime::kArenaAlignBytes, 0) << what << " s" << a;
    EXPECT_LE((s.offset + s.numel) * esize, code.plan.arena_bytes) << what << " s" << a;
    for (size_t b : arena) {
      if (b <= a) continue;
      const auto& t = code.slots[b];
      const bool overlap_time = live[a].first <= live[b].last && live[b].first <= live[a].last;
      const bool overlap_space = s.numel > 0 && t.numel > 0 && s.offset < t.offset + t.numel &&
                                 t.offset < s.offset + s.numel;
      EXPECT_FALSE(overlap_time && overlap_space)
          << what << ": s" << a << " and s" << b << " are live together and share memory";
    }
  }
}

TEST(MemoryPlan, RandomGraphsHaveValidPlans) {
  for (uint64_t seed = 1; seed <= 80; ++seed) {
    const RandomModel m = random_model(seed, 14, 0.0);
    for (bool reuse : {true, false})
      for (auto elem : {runtime::ElemType::f32, runtime::ElemType::f64}) {
        const ProgramCode code =
            compile::lower(m.graph, elem, CompileOptions{KernelMode::exact, true, reuse, 1});
        expect_valid_plan(code, "seed " + std::to_string(seed));
      }
  }
}

TEST(MemoryPlan, PeakIsWithinAQuarterOfTheLowerBoundOnModels) {
  for (const TestModel& m :
       {mlp_model(256, 784, 256, 10, 1), mlp_model(1, 784, 256, 10, 1), cnn_model(1)}) {
    const ProgramCode code = compile::lower(m.graph, runtime::ElemType::f32, CompileOptions{});
    expect_valid_plan(code, m.name);
    EXPECT_LE(code.plan.arena_bytes * 4, code.plan.lower_bound_bytes * 5)
        << m.name << ": " << code.plan.arena_bytes << " vs " << code.plan.lower_bound_bytes;
  }
}

TEST(MemoryPlan, NoReuseGivesEveryValueItsOwnRegion) {
  const TestModel m = cnn_model(1);
  const ProgramCode code = compile::lower(m.graph, runtime::ElemType::f32,
                                          CompileOptions{KernelMode::exact, true, false, 1});
  int64_t total = 0;
  for (const auto& s : code.slots)
    if (s.kind == SlotKind::arena) total += (s.numel * 4 + 63) / 64 * 64;
  EXPECT_EQ(code.plan.arena_bytes, total);
  EXPECT_FALSE(code.plan.reuse);
}

ir::Graph chain_graph(int length, bool output_in_middle) {
  ir::Graph g;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{5});
  const int64_t y = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{5});
  int64_t v = x;
  for (int i = 0; i < length; ++i) {
    if (i % 2 == 0)
      v = g.add(ir::OpKind::sigmoid, {v}, ir::NoAttrs{}, Shape{5});
    else
      v = g.add(ir::OpKind::sub, {y, v}, ir::NoAttrs{}, Shape{5});  // chain value second
  }
  g.input_ids = {x, y};
  g.output_ids = {v};
  if (output_in_middle) g.output_ids.push_back(2 + length / 2);
  return g;
}

TEST(Fusion, ChainsFuseUpToTheLimitAndEqualTheUnfusedProgram) {
  const ir::Graph g = chain_graph(11, false);
  const ProgramCode fused = compile::lower(g, runtime::ElemType::f32, CompileOptions{});
  ASSERT_EQ(fused.instrs.size(), 2u);  // 11 steps: one chain of 8 (the limit), one of 3
  EXPECT_EQ(fused.instrs[0].kernel, Kernel::fused);
  EXPECT_EQ(fused.instrs[0].nodes.size(), static_cast<size_t>(runtime::kMaxFusedSteps));
  EXPECT_EQ(fused.instrs[1].nodes.size(), 3u);
  const ProgramCode unfused =
      compile::lower(g, runtime::ElemType::f32, CompileOptions{KernelMode::exact, false, true, 1});
  EXPECT_EQ(unfused.instrs.size(), 11u);

  const ir::PayloadStore<float> p;
  ValueSource src(7, 0.2);
  const std::vector<Tensor<double>> in{Tensor<double>(Shape{5}, src.values(5)),
                                       Tensor<double>(Shape{5}, src.values(5))};
  auto a = compile::compile<float>(g, p, CompileOptions{}).run(to_elem<float>(in));
  auto b = compile::compile<float>(g, p, CompileOptions{KernelMode::exact, false, true, 1})
               .run(to_elem<float>(in));
  for (int64_t e = 0; e < 5; ++e) EXPECT_TRUE(same_bits(a[0][e], b[0][e])) << e;
  auto prog = compile::compile<float>(g, p, CompileOptions{});
  EXPECT_TRUE(runtime::check_equivalence(prog, to_elem<float>(in)).ok);
}

TEST(Fusion, OutputsSharedValuesAndLogAreNotFused) {
  // A graph output in the middle of a chain must stay materialised.
  const ProgramCode mid =
      compile::lower(chain_graph(4, true), runtime::ElemType::f32, CompileOptions{});
  EXPECT_EQ(mid.instrs.size(), 2u);
  // A value with two uses, and log, break chains.
  ir::Graph g;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{3});
  const int64_t e = g.add(ir::OpKind::exp, {x}, ir::NoAttrs{}, Shape{3});
  const int64_t l = g.add(ir::OpKind::log, {e}, ir::NoAttrs{}, Shape{3});
  const int64_t r = g.add(ir::OpKind::relu, {l}, ir::NoAttrs{}, Shape{3});
  const int64_t twice = g.add(ir::OpKind::mul_elem, {r, r}, ir::NoAttrs{}, Shape{3});
  const int64_t a = g.add(ir::OpKind::abs, {twice}, ir::NoAttrs{}, Shape{3});
  g.input_ids = {x};
  g.output_ids = {a};
  const ProgramCode code = compile::lower(g, runtime::ElemType::f32, CompileOptions{});
  // exp | log | relu | mul+abs
  ASSERT_EQ(code.instrs.size(), 4u);
  EXPECT_EQ(code.instrs[0].nodes, std::vector<int64_t>{e});
  EXPECT_EQ(code.instrs[1].nodes, std::vector<int64_t>{l});
  EXPECT_EQ(code.instrs[2].nodes, std::vector<int64_t>{r});
  EXPECT_EQ(code.instrs[3].nodes, (std::vector<int64_t>{twice, a}));
}

TEST(Lowering, AliasesShareSlotsAndOutputsAreWrittenInPlace) {
  ir::Graph g;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{2, 3});
  const int64_t c = g.add(ir::OpKind::constant, {}, ir::ConstAttrs{Shape{2, 3}}, Shape{2, 3});
  const int64_t s = g.add(ir::OpKind::add, {x, c}, ir::NoAttrs{}, Shape{2, 3});
  const int64_t f = g.add(ir::OpKind::flatten, {s}, ir::FlattenAttrs{Shape{2, 3}}, Shape{6});
  const int64_t d = g.add(ir::OpKind::detach, {f}, ir::NoAttrs{}, Shape{6});
  g.input_ids = {x};
  g.output_ids = {d, x, c, d};
  const ProgramCode code = compile::lower(g, runtime::ElemType::f32, CompileOptions{});
  EXPECT_EQ(code.node_slot[static_cast<size_t>(s)], code.node_slot[static_cast<size_t>(f)]);
  EXPECT_EQ(code.node_slot[static_cast<size_t>(f)], code.node_slot[static_cast<size_t>(d)]);
  const auto& out0 = code.slots[static_cast<size_t>(code.node_slot[static_cast<size_t>(d)])];
  EXPECT_EQ(out0.kind, SlotKind::output);  // the add writes output 0 directly
  EXPECT_EQ(out0.index, 0);
  // add, then copies for the input, the constant and the repeated output.
  ASSERT_EQ(code.instrs.size(), 4u);
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(code.instrs[i].kernel, Kernel::gather);
  EXPECT_EQ(code.plan.arena_bytes, 0);

  ir::Payload payload;
  payload[c].emplace("value", Tensor<double>(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  const auto p = runtime::to_runtime_payload<float>(payload);
  auto prog = compile::compile<float>(g, p, CompileOptions{});
  const auto out = prog.run({Tensor<float>(Shape{2, 3}, {10, 20, 30, 40, 50, 60})});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].vec(), (std::vector<float>{11, 22, 33, 44, 55, 66}));
  EXPECT_EQ(out[1].vec(), (std::vector<float>{10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(out[2].vec(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(out[3].vec(), out[0].vec());
}

// A transpose needs one strided run per output row; a broadcast of a scalar a single run.
TEST(Lowering, LayoutRunsAreCompact) {
  ir::Graph g;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{4, 50, 60});
  const int64_t t = g.add(ir::OpKind::transpose3d_last_two, {x}, ir::NoAttrs{}, Shape{4, 60, 50});
  const int64_t s = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{});
  const int64_t b = g.add(ir::OpKind::broadcast_to, {s},
                          ir::BroadcastToAttrs{Shape{}, Shape{30, 40}}, Shape{30, 40});
  g.input_ids = {x, s};
  g.output_ids = {t, b};
  const ProgramCode code = compile::lower(g, runtime::ElemType::f32, CompileOptions{});
  ASSERT_EQ(code.instrs.size(), 2u);
  EXPECT_EQ(std::get<runtime::GatherParams>(code.instrs[0].params).runs.size(), 4u * 60u);
  EXPECT_EQ(std::get<runtime::GatherParams>(code.instrs[1].params).runs.size(), 1u);
  EXPECT_EQ(std::get<runtime::GatherParams>(code.instrs[1].params).runs[0].step, 0);
}

TEST(Lowering, BadOptionsAndPayloadsAreUserErrors) {
  const TestModel m = mlp_model(1, 3, 4, 2, 1);
  auto p = runtime::to_runtime_payload<float>(m.payload);
  try {
    compile::compile<float>(m.graph, p, CompileOptions{KernelMode::exact, true, true, 0});
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("threads must be at least 1, got 0"), std::string::npos)
        << e.what();
  }
  p.at(1).erase("bias");
  try {
    compile::compile<float>(m.graph, p, CompileOptions{});
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("[linear] node 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bias"), std::string::npos) << e.what();
  }
  auto good = runtime::to_runtime_payload<float>(m.payload);
  auto prog = compile::compile<float>(m.graph, good, CompileOptions{});
  try {
    prog.run({Tensor<float>(Shape{1, 4})});
    FAIL();
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "run: input 0 expects shape (1,3), got (1,4)");
  }
}

}  // namespace
}  // namespace torchlean::testing
