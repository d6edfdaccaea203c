// Runs every fuzz entry (fuzz/fuzz_entries.hpp) on deterministic mutations of its seed corpus
// (fuzz/corpus/<reader>/): bit flips, truncations, byte and token insertions, deletions and
// duplications drawn from SplitMix64. Each entry must return normally: only UserError may stop a
// reader, and what it accepts must survive write/read unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "fuzz_entries.hpp"
#include "io_test_util.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/io/bytes.hpp"

namespace torchlean::io {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr int kMutantsPerReader = 3000;

// Tokens that tend to reach validation code in these formats.
const std::vector<std::string> kTokens = {
    "-1", "0", "1.5", "1e2", "1e999", "-0", "18446744073709551616", "9223372036854775808", "null", "true",
    "\"\"", "[]", "{}", "[", "]", "{", "}", ",", ":", "\"", "\\u0000", "\"tuple\"", "\"tensor\"",
    "\"tuple_getitem\"", "\"multihead_attention\"", "\"F16\"", "\"F64\"", "'<f8'", "'<i8'", "True", "(0,)",
    "\"format\"", "\"params\"", "\"shape\"", "\"values\"", "\"data_offsets\"", "4294967296", "\xff\xfe"};

std::vector<Bytes> seeds(const std::string& reader, std::vector<std::filesystem::path> extra = {}) {
  std::vector<std::filesystem::path> files = std::move(extra);
  for (const auto& e : std::filesystem::directory_iterator(test::source_dir() / "fuzz" / "corpus" / reader))
    files.push_back(e.path());
  std::sort(files.begin(), files.end());  // deterministic order
  std::vector<Bytes> out;
  for (const auto& f : files) out.push_back(read_file_bytes(f, "fuzz seed"));
  return out;
}

Bytes mutate(Bytes b, SplitMix64& rng) {
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng.next() % n); };
  const int rounds = 1 + static_cast<int>(rng.next() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng.next() % 6) {
      case 0:  // flip one bit
        if (!b.empty()) b[below(b.size())] ^= static_cast<uint8_t>(1u << (rng.next() % 8));
        break;
      case 1:  // truncate
        b.resize(below(b.size() + 1));
        break;
      case 2:  // insert random bytes
        for (size_t k = 1 + below(4); k > 0; --k)
          b.insert(b.begin() + static_cast<long>(below(b.size() + 1)), static_cast<uint8_t>(rng.next()));
        break;
      case 3: {  // insert a token
        const std::string& t = kTokens[below(kTokens.size())];
        b.insert(b.begin() + static_cast<long>(below(b.size() + 1)), t.begin(), t.end());
        break;
      }
      case 4: {  // delete a range
        if (b.empty()) break;
        const size_t at = below(b.size());
        b.erase(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + 1 + below(std::min<size_t>(16, b.size() - at))));
        break;
      }
      default: {  // duplicate a range
        if (b.empty()) break;
        const size_t at = below(b.size()), len = 1 + below(std::min<size_t>(32, b.size() - at));
        const Bytes chunk(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + len));
        b.insert(b.begin() + static_cast<long>(below(b.size() + 1)), chunk.begin(), chunk.end());
      }
    }
  }
  return b;
}

void replay(const std::string& reader, const std::function<void(std::span<const uint8_t>)>& entry,
            const std::vector<Bytes>& corpus, uint64_t seed) {
  ASSERT_FALSE(corpus.empty());
  SplitMix64 rng(seed);
  auto run = [&](const Bytes& input, int index) {
    try {
      entry(input);
    } catch (const std::exception& e) {
      std::string shown(input.begin(), input.begin() + static_cast<long>(std::min<size_t>(input.size(), 300)));
      FAIL() << reader << " input #" << index << " (" << input.size() << " bytes) escaped with: " << e.what()
             << "\ninput starts: " << shown;
    }
  };
  for (size_t i = 0; i < corpus.size(); ++i) run(corpus[i], -1 - static_cast<int>(i));
  for (int i = 0; i < kMutantsPerReader; ++i) run(mutate(corpus[static_cast<size_t>(i) % corpus.size()], rng), i);
}

TEST(FuzzReplay, GraphJson) { replay("graph_json", fuzz::graph_json, seeds("graph_json"), 1); }
TEST(FuzzReplay, Safetensors) { replay("safetensors", fuzz::safetensors, seeds("safetensors"), 2); }
TEST(FuzzReplay, Npy) {
  const auto data = test::source_dir() / "tests" / "io" / "data";
  replay("npy", fuzz::npy, seeds("npy", {data / "f8_v3.npy", data / "i4_2x2.npy", data / "f8_fortran.npy"}), 3);
}
TEST(FuzzReplay, StateDict) {
  replay("state_dict", fuzz::state_dict,
         seeds("state_dict", {test::shared_data() / "torchlean/Interop/PyTorch/MLP/mlp.json"}), 4);
}
TEST(FuzzReplay, ParamlistBits) { replay("paramlist_bits", fuzz::paramlist_bits, seeds("paramlist_bits"), 5); }

}  // namespace
}  // namespace torchlean::io
