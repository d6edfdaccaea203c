// libFuzzer entry for the certificate reader and checker; the invariant is in fuzz_cert_entry.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz_cert_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torchlean::fuzz::certificate({data, size});
  return 0;
}
