// libFuzzer entry for the ONNX importer; the invariant is in fuzz_onnx_entry.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz_onnx_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torchlean::fuzz::onnx_model({data, size});
  return 0;
}
