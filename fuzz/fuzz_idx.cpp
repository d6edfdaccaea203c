// libFuzzer entry for the IDX reader (gzipped or raw). The invariant: the reader returns or throws
// UserError, and what it accepts survives write_idx/read_idx bit for bit. The same entry runs in
// the normal suite through tests/nn/test_idx_fuzz_replay.cpp (built with TORCHLEAN_FUZZ_REPLAY).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/nn/idx.hpp"

namespace torchlean::fuzz {

void idx(std::span<const uint8_t> data) {
  try {
    std::vector<uint8_t> raw(data.begin(), data.end());
    // 64 MiB of inflated data is plenty for a fuzz input and keeps the run's memory bounded.
    if (raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) raw = io::gunzip(raw, 1 << 26, "idx");
    const Tensor<float> t = nn::read_idx(raw);
    const Tensor<float> back = nn::read_idx(nn::write_idx(t, false));
    if (back.shape() != t.shape() ||
        std::memcmp(back.vec().data(), t.vec().data(), sizeof(float) * t.vec().size()) != 0)
      throw std::logic_error("idx: write/read round trip changed the tensor");
  } catch (const UserError&) {
  }
}

}  // namespace torchlean::fuzz

#ifndef TORCHLEAN_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torchlean::fuzz::idx({data, size});
  return 0;
}
#endif
