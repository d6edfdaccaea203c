// ThreadPool implementation. Workers spin briefly on the job generation before sleeping on it, so
// back-to-back kernels of one model (microseconds apart) do not pay a futex wake-up each; the
// caller returns as soon as every task is done and only waits for late workers to check out
// before it publishes the next job.
#include "torchlean/runtime/thread_pool.hpp"

#include <immintrin.h>

#include <string>

#include "torchlean/core/error.hpp"

namespace torchlean::runtime {

namespace {

// Set while a thread runs tasks of some pool; a nested parallel_for then runs inline.
thread_local bool t_in_task = false;

// About 10-50 microseconds of polling before blocking.
constexpr int kSpinIterations = 2000;

template <class A, class V>
void spin_then_wait_while_equal(const A& atom, V old) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (atom.load(std::memory_order_acquire) != old) return;
    _mm_pause();
  }
  while (atom.load(std::memory_order_acquire) == old) atom.wait(old, std::memory_order_acquire);
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  TL_USER_CHECK(threads >= 1,
                "thread pool: thread count must be >= 1, got " + std::to_string(threads));
  size_ = threads;
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int i = 0; i + 1 < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  while (busy_workers_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  stop_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ThreadPool::drain() {
  const bool was_in_task = t_in_task;
  t_in_task = true;
  for (;;) {
    int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= job_n_) break;
    try {
      job_fn_(job_ctx_, i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == job_n_) done_.notify_all();
  }
  t_in_task = was_in_task;
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    spin_then_wait_while_equal(generation_, seen);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_relaxed)) return;
    drain();
    busy_workers_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(int64_t n, TaskFn fn, void* ctx) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1 || t_in_task) {
    const bool was_in_task = t_in_task;
    t_in_task = true;
    try {
      for (int64_t i = 0; i < n; ++i) fn(ctx, i);
    } catch (...) {
      t_in_task = was_in_task;
      throw;
    }
    t_in_task = was_in_task;
    return;
  }
  std::lock_guard<std::mutex> submit(submit_mutex_);
  // Workers late for the previous job may still be reading its fields.
  for (int spins = 0; busy_workers_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < kSpinIterations)
      _mm_pause();
    else
      std::this_thread::yield();
  }
  job_fn_ = fn;
  job_ctx_ = ctx;
  job_n_ = n;
  error_ = nullptr;
  next_.store(0, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  busy_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  drain();
  for (int64_t d = done_.load(std::memory_order_acquire); d != n;
       d = done_.load(std::memory_order_acquire))
    spin_then_wait_while_equal(done_, d);
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(error_mutex_);
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace torchlean::runtime
