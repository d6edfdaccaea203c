// Replays the ONNX fuzz entry (fuzz/fuzz_onnx_entry.hpp) on its seed corpus (fuzz/corpus/onnx/,
// plus the small vnncomp `test` networks and the PyTorch exports) and on deterministic mutations
// of it: bit flips, byte pokes that break varints and lengths, truncations, insertions, deletions
// and duplications drawn from SplitMix64. The entry must return normally every time.
#include <gtest/gtest.h>

#include <algorithm>

#include "fuzz_onnx_entry.hpp"
#include "io_test_util.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/onnx.hpp"

namespace torchlean::io {
namespace {

using Bytes = std::vector<uint8_t>;

std::vector<std::filesystem::path> seed_files() {
  std::vector<std::filesystem::path> files = {
      test::source_dir() / "tests/io/data/onnx/mlp.onnx",
      test::source_dir() / "tests/io/data/onnx/cnn.onnx",
      test::shared_data() / "vnncomp2022/test/test_tiny.onnx",
      test::shared_data() / "vnncomp2022/test/test_nano.onnx"};
  for (const auto& e : std::filesystem::directory_iterator(test::source_dir() / "fuzz/corpus/onnx"))
    files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

Bytes mutate(Bytes b, SplitMix64& rng) {
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng.next() % n); };
  const int rounds = 1 + static_cast<int>(rng.next() % 3);
  for (int r = 0; r < rounds; ++r) {
    switch (rng.next() % 6) {
      case 0:
        if (!b.empty()) b[below(b.size())] ^= static_cast<uint8_t>(1u << (rng.next() % 8));
        break;
      case 1: {  // poke a byte that often sits in a tag, varint or length
        static constexpr uint8_t kPokes[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x12, 0x3a};
        if (!b.empty()) b[below(b.size())] = kPokes[rng.next() % sizeof(kPokes)];
        break;
      }
      case 2:
        b.resize(below(b.size() + 1));
        break;
      case 3:
        for (size_t k = 1 + below(4); k > 0; --k)
          b.insert(b.begin() + static_cast<long>(below(b.size() + 1)),
                   static_cast<uint8_t>(rng.next()));
        break;
      case 4: {
        if (b.empty()) break;
        const size_t at = below(b.size());
        b.erase(b.begin() + static_cast<long>(at),
                b.begin() + static_cast<long>(at + 1 + below(std::min<size_t>(16, b.size() - at))));
        break;
      }
      default: {
        if (b.empty()) break;
        const size_t at = below(b.size()), len = 1 + below(std::min<size_t>(32, b.size() - at));
        const Bytes chunk(b.begin() + static_cast<long>(at),
                          b.begin() + static_cast<long>(at + len));
        b.insert(b.begin() + static_cast<long>(below(b.size() + 1)), chunk.begin(), chunk.end());
      }
    }
  }
  return b;
}

TEST(OnnxFuzzReplay, SeedsImportAndRoundTrip) {
  for (const auto& f : seed_files()) {
    SCOPED_TRACE(f.string());
    const Bytes b = read_file_bytes(f, "seed");
    EXPECT_NO_THROW(import_onnx(b, {}, "seed"));  // seeds must reach past the reader
    EXPECT_NO_THROW(fuzz::onnx_model(b));
  }
}

TEST(OnnxFuzzReplay, MutantsOnlyRaiseUserError) {
  std::vector<Bytes> corpus;
  for (const auto& f : seed_files()) corpus.push_back(read_file_bytes(f, "seed"));
  SplitMix64 rng(6);
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    const Bytes input = mutate(corpus[static_cast<size_t>(i) % corpus.size()], rng);
    try {
      fuzz::onnx_model(input);
      try {
        import_onnx(input, {.batch = 2}, "m");
        ++accepted;
      } catch (const UserError&) {
      }
    } catch (const std::exception& e) {
      FAIL() << "mutant #" << i << " (" << input.size() << " bytes) escaped with: " << e.what();
    }
  }
  std::printf("onnx fuzz replay: %d of 4000 mutants imported\n", accepted);
}

}  // namespace
}  // namespace torchlean::io
