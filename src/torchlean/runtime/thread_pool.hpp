// ThreadPool: a fixed set of worker threads that runs parallel_for over caller-defined tasks.
// Kernels split work into tasks that write disjoint outputs and never split a reduction, so the
// result is the same bits whatever the number of threads (DESIGN §5.4); which thread runs which
// task is dynamic and does not matter.
#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace torchlean::runtime {

class ThreadPool {
 public:
  // `threads` >= 1 participants: threads - 1 workers plus the calling thread. Workers are created
  // here, once; parallel_for allocates nothing.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  // Runs fn(i) for every i in [0, n) and returns when all are done. The first exception thrown by
  // a task is rethrown here (the other tasks still run). A parallel_for issued from inside a task
  // runs inline on that thread. Calls from different threads are serialised.
  template <class F>
  void parallel_for(int64_t n, F&& fn) {
    using Fn = std::remove_reference_t<F>;
    run(
        n, [](void* ctx, int64_t i) { (*static_cast<Fn*>(ctx))(i); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // The number of hardware threads (at least 1).
  static int hardware_threads();

 private:
  using TaskFn = void (*)(void*, int64_t);
  void run(int64_t n, TaskFn fn, void* ctx);
  void worker_loop();
  // Claims and runs tasks of the current job until none is left.
  void drain();

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;
  // The current job. The caller writes these only while no worker is inside a job
  // (busy_workers_ == 0), then publishes them by bumping generation_.
  TaskFn job_fn_ = nullptr;
  void* job_ctx_ = nullptr;
  int64_t job_n_ = 0;
  std::atomic<int64_t> next_{0};  // next unclaimed task
  std::atomic<int64_t> done_{0};  // finished tasks; the caller returns when it reaches job_n_
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> busy_workers_{0};  // workers that have not yet finished with the current job
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace torchlean::runtime
