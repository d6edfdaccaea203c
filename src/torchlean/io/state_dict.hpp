// TorchLean state-dict JSON (NN/Runtime/PyTorch/Import/Core.lean): {"params": {name: nested
// arrays of numbers}, "meta": {...}} or a bare {name: nested arrays}. Nested arrays must be
// rectangular; a bare number is a rank-0 tensor. Key order is kept: it is the parameter order.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "torchlean/core/tensor.hpp"
#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::io {

struct StateDict {
  std::vector<std::pair<std::string, Tensor<double>>> params;  // in file order
  nlohmann::ordered_json meta;  // the "meta" value as written, or null
};

// Throws UserError "state_dict: ..." naming the key and the index path of a ragged, non-numeric or
// non-finite entry.
StateDict read_state_dict(std::string_view text);
StateDict read_state_dict_file(const std::filesystem::path& path);

// The {"params": ..., "meta": ...} form; values are written as shortest round-trip decimals.
std::string write_state_dict(const StateDict& sd);
void write_state_dict_file(const std::filesystem::path& path, const StateDict& sd);

// Maps sd.params, in order, onto the graph's parameterised nodes in id order (linear/conv2d:
// weight then bias; const: value; batch norm: gamma, beta, mean, var) — PyTorch's state_dict
// order for a Sequential. Keys ending in "num_batches_tracked" are skipped. Slots already in
// `base` (e.g. batch-norm eps from GraphJson::inline_payload) are kept and not consumed.
// Count and shape mismatches throw UserError naming the key and node.
ir::Payload payload_from_state_dict(const ir::Graph& g, const StateDict& sd, const ir::Payload& base = {});

}  // namespace torchlean::io
