// Tests of ThreadPool: every task runs exactly once for any pool size and task count, exceptions
// reach the caller and leave the pool usable, nested calls run inline, calls from several
// threads are serialised, and bad sizes are rejected.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {
namespace {

TEST(ThreadPool, RunsEveryTaskExactlyOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 3, 17, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
      for (int64_t i = 0; i < n; ++i)
        EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1) << threads << " threads, n=" << n;
    }
  }
}

TEST(ThreadPool, ManyBackToBackJobs) {
  ThreadPool pool(2);
  std::vector<int64_t> out(64);
  int64_t total = 0;
  for (int round = 0; round < 5000; ++round) {
    pool.parallel_for(64, [&](int64_t i) { out[static_cast<size_t>(i)] = round + i; });
    for (int64_t v : out) total += v;
  }
  // sum over rounds of (64 * round + 0 + ... + 63)
  EXPECT_EQ(total, int64_t{64} * (4999 * 5000 / 2) + int64_t{5000} * (63 * 64 / 2));
}

TEST(ThreadPool, ExceptionReachesTheCallerAndPoolStaysUsable) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.parallel_for(100,
                                 [&](int64_t i) {
                                   ran.fetch_add(1);
                                   if (i == 37) throw std::runtime_error("task 37");
                                 }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 100);  // the other tasks still ran
  std::atomic<int> after{0};
  pool.parallel_for(10, [&](int64_t) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 10);
}

TEST(ThreadPool, NestedParallelForRunsInline) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> hits(8 * 8);
  pool.parallel_for(8, [&](int64_t i) {
    pool.parallel_for(8, [&](int64_t j) { hits[static_cast<size_t>(i * 8 + j)].fetch_add(1); });
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, CallsFromSeveralThreadsAreSerialised) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> hits(2 * 300);
  auto submit = [&](int64_t base) {
    for (int r = 0; r < 100; ++r)
      pool.parallel_for(
          3, [&](int64_t i) { hits[static_cast<size_t>(base + r * 3 + i)].fetch_add(1); });
  };
  std::thread t1(submit, 0), t2(submit, 300);
  t1.join();
  t2.join();
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, RejectsNonPositiveSize) {
  try {
    ThreadPool pool(0);
    ADD_FAILURE() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("thread pool: thread count must be >= 1, got 0"),
              std::string::npos)
        << e.what();
  }
  EXPECT_GE(ThreadPool::hardware_threads(), 1);
}

}  // namespace
}  // namespace torchlean::runtime
