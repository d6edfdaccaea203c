// TorchLean's `torchlean_paramlist_bits_v1` parameter packs
// (NN/Runtime/Autograd/TorchLean/ParamIO.lean): every binary64 value stored as its IEEE-754 bit
// pattern, a JSON natural below 2^64, so NaN payloads, -0 and subnormals round-trip exactly:
//   {"format": "torchlean_paramlist_bits_v1",
//    "params": [{"shape": [d1, ...], "values": [u64 bits, ...]}, ...]}
#pragma once
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::io {

inline constexpr std::string_view kParamlistBitsFormat = "torchlean_paramlist_bits_v1";

// Throws UserError "paramlist_bits: params[i]...: ..." on a bad format tag, a value that is not a
// natural below 2^64, or a value count that differs from the shape's element count.
std::vector<Tensor<double>> read_paramlist_bits(std::string_view text);
std::vector<Tensor<double>> read_paramlist_bits_file(const std::filesystem::path& path);
// As TorchLean's readParamBits: the file must hold exactly these shapes, in order.
std::vector<Tensor<double>> read_paramlist_bits(std::string_view text, std::span<const Shape> expected);

std::string write_paramlist_bits(std::span<const Tensor<double>> params);
void write_paramlist_bits_file(const std::filesystem::path& path, std::span<const Tensor<double>> params);

// The graph's payload slots in parameter order (nodes by id, slots in ir::payload_slots order,
// batch-norm eps excluded) and back; see payload_from_state_dict.
std::vector<Tensor<double>> paramlist_from_payload(const ir::Graph& g, const ir::Payload& payload);
ir::Payload payload_from_paramlist(const ir::Graph& g, std::span<const Tensor<double>> params,
                                   const ir::Payload& base = {});

}  // namespace torchlean::io
