// Running a compiled Program allocates nothing: the global operator new is replaced by a counting
// one, and after a warm-up run (kernels may size per-thread packing buffers once) further runs
// must not allocate, in exact and fast mode, with 1 and 2 threads. Its own executable, so the
// replacement does not affect other tests.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "test_models.hpp"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// GCC pairs the inlined malloc/free of these replacements with new/delete expressions and warns;
// the pairing is correct by construction (every replaced operator new uses malloc).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace torchlean::testing {
namespace {

using compile::CompileOptions;
using runtime::KernelMode;

template <class T>
void expect_no_allocation(const TestModel& m, KernelMode mode, int threads) {
  const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(m.payload);
  auto prog = compile::compile<T>(
      m.graph, p, CompileOptions{mode, true, true, threads, 16, compile::FastVariants::all});
  const std::vector<Tensor<T>> inputs = to_elem<T>(m.inputs);
  std::vector<Tensor<T>> outputs;
  for (int64_t i = 0; i < prog.num_outputs(); ++i) outputs.emplace_back(prog.output_shape(i));
  std::vector<const T*> in;
  std::vector<T*> out;
  for (const auto& t : inputs) in.push_back(t.data().data());
  for (auto& t : outputs) out.push_back(t.data().data());
  prog.run(std::span<const T* const>(in), std::span<T* const>(out));  // warm-up
  const long before = g_allocations.load();
  for (int r = 0; r < 3; ++r) prog.run(std::span<const T* const>(in), std::span<T* const>(out));
  EXPECT_EQ(g_allocations.load() - before, 0)
      << m.name << " " << runtime::mode_name(mode) << " threads " << threads;
}

TEST(NoAllocation, RunningAProgramDoesNotAllocate) {
  for (int threads : {1, 2})
    for (KernelMode mode : {KernelMode::exact, KernelMode::fast}) {
      expect_no_allocation<float>(mlp_model(64, 784, 256, 10, 1), mode, threads);
      expect_no_allocation<float>(cnn_model(1), mode, threads);
      expect_no_allocation<double>(cnn_model(2), mode, threads);
      expect_no_allocation<float>(nchw_cnn_model(1), mode, threads);
    }
}

// The counter works (so the test above can fail).
TEST(NoAllocation, TheCounterSeesAllocations) {
  const long before = g_allocations.load();
  auto* v = new std::vector<int>(100);
  delete v;
  EXPECT_GE(g_allocations.load() - before, 2);
}

}  // namespace
}  // namespace torchlean::testing
