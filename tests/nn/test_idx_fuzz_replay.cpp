// Runs the IDX fuzz entry (fuzz/fuzz_idx.cpp) on deterministic mutations of its seed corpus
// (fuzz/corpus/idx/): bit flips, truncations, insertions and duplications drawn from SplitMix64,
// each also fed gzipped. The entry must return normally (only UserError may stop the reader).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <span>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/io/bytes.hpp"

namespace torchlean::fuzz {
void idx(std::span<const uint8_t> data);
}

namespace torchlean {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes gzip(const Bytes& raw) {
  z_stream zs{};
  deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, raw.size()) + 64);
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Bytes mutate(Bytes b, SplitMix64& rng) {
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng.next() % n); };
  const int rounds = 1 + static_cast<int>(rng.next() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng.next() % 5) {
      case 0:
        if (!b.empty()) b[below(b.size())] ^= static_cast<uint8_t>(1u << (rng.next() % 8));
        break;
      case 1:
        b.resize(below(b.size() + 1));
        break;
      case 2: {
        const size_t at = below(b.size() + 1), n = 1 + below(8);
        Bytes ins(n);
        for (auto& c : ins) c = static_cast<uint8_t>(rng.next());
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), ins.begin(), ins.end());
        break;
      }
      case 3:  // a header byte set to an extreme value (dims, type, rank)
        if (b.size() > 2)
          b[2 + below(std::min<size_t>(b.size() - 2, 14))] = rng.next() % 2 ? 0xff : 0;
        break;
      default: {
        if (b.empty()) break;
        const size_t at = below(b.size()), n = 1 + below(b.size() - at);
        Bytes dup(b.begin() + static_cast<std::ptrdiff_t>(at),
                  b.begin() + static_cast<std::ptrdiff_t>(at + n));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), dup.begin(), dup.end());
      }
    }
  }
  return b;
}

TEST(IdxFuzzReplay, MutantsNeverEscapeAsAnythingButUserError) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(
           std::filesystem::path(TORCHLEAN_SOURCE_DIR) / "fuzz" / "corpus" / "idx"))
    files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 4u);
  SplitMix64 rng(20261129);
  for (const auto& f : files) {
    const Bytes seed = io::read_file_bytes(f, "fuzz seed");
    fuzz::idx(seed);
    for (int i = 0; i < 600; ++i) {
      const Bytes m = mutate(seed, rng);
      fuzz::idx(m);
      if (i % 4 == 0) fuzz::idx(gzip(m));
    }
  }
}

}  // namespace
}  // namespace torchlean
