// One fuzz entry per reader. Each feeds `data` to the reader; when the reader accepts it, the
// entry also writes the value back and re-reads it, requiring the same value bit for bit, and runs
// the consumer that usually follows (graph checker, payload mapping). The invariant: the entry
// returns normally (input accepted or rejected with UserError). Any other exception, crash,
// sanitizer report or hang is a bug. Used by the libFuzzer targets and by
// tests/io/test_fuzz_replay.cpp.
#pragma once
#include <cstdint>
#include <span>

namespace torchlean::fuzz {

void graph_json(std::span<const uint8_t> data);
void safetensors(std::span<const uint8_t> data);
void npy(std::span<const uint8_t> data);
void state_dict(std::span<const uint8_t> data);
void paramlist_bits(std::span<const uint8_t> data);

}  // namespace torchlean::fuzz
