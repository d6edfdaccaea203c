// libFuzzer entry for the graph_json reader; the invariant is in fuzz_entries.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torchlean::fuzz::graph_json({data, size});
  return 0;
}
