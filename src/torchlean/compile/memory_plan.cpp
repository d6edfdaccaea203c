// The static memory plan. Every arena slot (an instruction's result that is not a graph output,
// or a kernel workspace) lives from the instruction that writes it to the last one that reads it
// (aliases share their parent's slot, so their reads extend it). Slots are placed largest first,
// each into the smallest gap left by the already placed slots whose live intervals overlap its
// own (best fit), or after them. The liveness lower bound is the most bytes simultaneously live at
// any instruction: no plan without in-place updates can use less.
#include <algorithm>
#include <limits>

#include "torchlean/compile/detail.hpp"
#include "torchlean/core/error.hpp"

namespace torchlean::compile::detail {

namespace {

int64_t elem_bytes(runtime::ElemType e) { return e == runtime::ElemType::f32 ? 4 : 8; }

int64_t align_up(int64_t bytes) {
  return (bytes + runtime::kArenaAlignBytes - 1) / runtime::kArenaAlignBytes *
         runtime::kArenaAlignBytes;
}

void compute_liveness(runtime::ProgramCode& code) {
  for (runtime::Slot& s : code.slots) s.first = s.last = -1;
  for (size_t i = 0; i < code.instrs.size(); ++i) {
    const runtime::Instr& in = code.instrs[i];
    const int64_t step = static_cast<int64_t>(i);
    auto touch = [&](int32_t id) {
      runtime::Slot& s = code.slots[static_cast<size_t>(id)];
      if (s.first < 0) s.first = step;
      s.last = std::max(s.last, step);
    };
    for (int32_t id : in.in) {
      TL_INTERNAL_CHECK(code.slots[static_cast<size_t>(id)].kind != runtime::SlotKind::arena ||
                            code.slots[static_cast<size_t>(id)].first >= 0,
                        "plan_memory: instruction " + std::to_string(i) +
                            " reads an arena slot before it is written");
      touch(id);
    }
    touch(in.out);
    if (in.workspace >= 0) touch(in.workspace);
  }
}

}  // namespace

void plan_memory(runtime::ProgramCode& code, bool reuse) {
  compute_liveness(code);
  const int64_t esize = elem_bytes(code.elem);
  std::vector<size_t> arena;
  for (size_t i = 0; i < code.slots.size(); ++i) {
    const runtime::Slot& s = code.slots[i];
    if (s.kind != runtime::SlotKind::arena) continue;
    TL_INTERNAL_CHECK(s.first >= 0,
                      "plan_memory: arena slot s" + std::to_string(i) + " is never written");
    arena.push_back(i);
  }
  auto bytes = [&](size_t i) { return align_up(code.slots[i].numel * esize); };

  struct Placed {
    int64_t offset, size, first, last;
  };
  std::vector<Placed> placed;
  int64_t arena_bytes = 0;
  if (reuse) {
    std::vector<size_t> order = arena;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (bytes(a) != bytes(b)) return bytes(a) > bytes(b);
      return code.slots[a].first < code.slots[b].first;
    });
    for (size_t i : order) {
      runtime::Slot& s = code.slots[i];
      const int64_t size = bytes(i);
      std::vector<Placed> conflicts;
      for (const Placed& p : placed)
        if (p.first <= s.last && s.first <= p.last) conflicts.push_back(p);
      std::sort(conflicts.begin(), conflicts.end(),
                [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
      int64_t cursor = 0, best = -1, best_gap = std::numeric_limits<int64_t>::max();
      for (const Placed& p : conflicts) {
        const int64_t gap = p.offset - cursor;
        if (gap >= size && gap < best_gap) {
          best = cursor;
          best_gap = gap;
        }
        cursor = std::max(cursor, p.offset + p.size);
      }
      if (best < 0) best = cursor;
      placed.push_back({best, size, s.first, s.last});
      s.offset = best / esize;
      arena_bytes = std::max(arena_bytes, best + size);
    }
  } else {
    for (size_t i : arena) {
      code.slots[i].offset = arena_bytes / esize;
      arena_bytes += bytes(i);
    }
  }

  int64_t lower = 0;
  for (size_t step = 0; step < code.instrs.size(); ++step) {
    int64_t live = 0;
    for (size_t i : arena) {
      const runtime::Slot& s = code.slots[i];
      if (s.first <= static_cast<int64_t>(step) && static_cast<int64_t>(step) <= s.last)
        live += s.numel * esize;
    }
    lower = std::max(lower, live);
  }
  code.plan = runtime::MemoryPlan{arena_bytes, lower, reuse};
}

}  // namespace torchlean::compile::detail
