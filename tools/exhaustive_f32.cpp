// exhaustive_f32: checks one correctly rounded F32 elementary function against MPFR on every
// binary32 input (or a chosen range / stride of bit patterns), using all cores.
//
//   exhaustive_f32 FUNCTION [--threads N] [--from HEX] [--to HEX] [--stride K] [--show M]
//
// FUNCTION is exp, log, tanh, sigmoid, sin, cos or erf. Bit patterns b = from, from + K, ... < to
// (defaults: all 2^32 patterns) are reinterpreted as floats; NaN results compare as the canonical
// NaN. Prints the first M mismatches, then a summary; the exit status is 1 on any mismatch and 2
// on bad usage.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mpfr_reference.hpp"
#include "torchlean/scalar/elementary.hpp"

namespace {

using torchlean::Elementary;

struct Options {
  Elementary f = Elementary::exp;
  unsigned threads = 0;
  uint64_t from = 0, to = uint64_t{1} << 32, stride = 1;
  uint64_t show = 10;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "exhaustive_f32: %s\nusage: exhaustive_f32 FUNCTION [--threads N] [--from HEX] [--to HEX] "
               "[--stride K] [--show M]\n  FUNCTION: exp log tanh sigmoid sin cos erf\n",
               why.c_str());
  std::exit(2);
}

uint64_t parse_number(const std::string& flag, const char* text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 0);
  if (end == text || *end != '\0') usage(flag + ": not a number: '" + text + "'");
  return v;
}

Options parse(int argc, char** argv) {
  if (argc < 2) usage("missing FUNCTION");
  Options o;
  auto f = torchlean::parse_elementary(argv[1]);
  if (!f) usage(std::string("unknown function '") + argv[1] + "'");
  o.f = *f;
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + ": missing value");
    const uint64_t v = parse_number(flag, argv[i + 1]);
    if (flag == "--threads") o.threads = static_cast<unsigned>(v);
    else if (flag == "--from") o.from = v;
    else if (flag == "--to") o.to = v;
    else if (flag == "--stride") o.stride = v;
    else if (flag == "--show") o.show = v;
    else usage("unknown option '" + flag + "'");
  }
  if (o.stride == 0) usage("--stride must be positive");
  if (o.to > (uint64_t{1} << 32) || o.from >= o.to) usage("need 0 <= --from < --to <= 0x100000000");
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  return o;
}

uint32_t canonical_bits(float x) { return std::isnan(x) ? 0x7fc00000u : std::bit_cast<uint32_t>(x); }

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const uint64_t count = (o.to - o.from + o.stride - 1) / o.stride;  // inputs to check
  constexpr uint64_t kBlock = 1 << 16;                               // inputs per work item
  const uint64_t fallbacks_before = torchlean::f32_mpfr_fallback_count();
  std::atomic<uint64_t> next_block{0}, mismatches{0}, done{0};
  std::mutex print_mutex;
  const auto start = std::chrono::steady_clock::now();

  auto worker = [&] {
    for (;;) {
      const uint64_t block = next_block.fetch_add(1);
      const uint64_t first = block * kBlock;
      if (first >= count) break;
      const uint64_t last = std::min(count, first + kBlock);
      for (uint64_t i = first; i < last; ++i) {
        const float x = std::bit_cast<float>(static_cast<uint32_t>(o.from + i * o.stride));
        const uint32_t got = torchlean::elementary(o.f, torchlean::F32::of(x)).bits();
        const uint32_t want = canonical_bits(torchlean::testing::reference_f32(o.f, x));
        if (got != want && mismatches.fetch_add(1) < o.show) {
          std::lock_guard<std::mutex> lock(print_mutex);
          std::printf("MISMATCH %s(%a) [bits %08x]: got %a [%08x], MPFR %a [%08x]\n",
                      std::string(torchlean::elementary_name(o.f)).c_str(), static_cast<double>(x),
                      std::bit_cast<uint32_t>(x), static_cast<double>(std::bit_cast<float>(got)), got,
                      static_cast<double>(std::bit_cast<float>(want)), want);
        }
      }
      const uint64_t total = done.fetch_add(last - first) + (last - first);
      // Progress on stderr at every 1/16 of the work, so a long run shows it is alive.
      const uint64_t step = std::max<uint64_t>(count / 16, 1);
      if (total / step != (total - (last - first)) / step) {
        std::lock_guard<std::mutex> lock(print_mutex);
        std::fprintf(stderr, "  %3.0f%% (%llu mismatches so far)\n", 100.0 * static_cast<double>(total) / static_cast<double>(count),
                     static_cast<unsigned long long>(mismatches.load()));
      }
    }
    mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);  // the oracle's per-thread MPFR caches
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < o.threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "exhaustive_f32 %s: checked %llu inputs (bit patterns 0x%llx..0x%llx, stride %llu) on %u threads in %.1f s "
      "(%.0f ns/input/thread); mismatches: %llu; MPFR fallbacks: %llu\n",
      std::string(torchlean::elementary_name(o.f)).c_str(), static_cast<unsigned long long>(done.load()),
      static_cast<unsigned long long>(o.from), static_cast<unsigned long long>(o.to - 1),
      static_cast<unsigned long long>(o.stride), o.threads, secs, secs * 1e9 * o.threads / static_cast<double>(count),
      static_cast<unsigned long long>(mismatches.load()),
      static_cast<unsigned long long>(torchlean::f32_mpfr_fallback_count() - fallbacks_before));
  return mismatches.load() == 0 ? 0 : 1;
}
