// The fuzz entry for the ONNX reader (same invariant as fuzz_entries.hpp): the input is imported;
// if accepted, it is exported, re-imported, and must give the same graph and bit-identical
// payload. Only UserError may stop the importer. Used by fuzz_onnx and tests/io/test_onnx_fuzz.cpp.
#pragma once
#include <cstdint>
#include <span>

namespace torchlean::fuzz {

void onnx_model(std::span<const uint8_t> data);

}  // namespace torchlean::fuzz
