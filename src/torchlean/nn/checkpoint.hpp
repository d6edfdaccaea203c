// Checkpoints: everything a run needs to continue exactly where it stopped: parameters, buffers,
// optimizer state and the number of optimizer steps taken (the data order, learning rate and
// dropout masks of every later step are pure functions of the seed and the step number). Stored
// as one safetensors file (F32) with keys "param.<name>", "buffer.<name>", "optim.<name>" and
// metadata {"format": "torchlean_cpp.checkpoint.v1", "step": N, plus the caller's entries}.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "torchlean/nn/module.hpp"

namespace torchlean::nn {

struct Checkpoint {
  ParamStore params;                        // trainable parameters and buffers (trainable = false)
  ParamStore optimizer;                     // optimizer state ("<param>.exp_avg", ...)
  int64_t step = 0;                         // optimizer steps completed
  std::map<std::string, std::string> meta;  // run configuration, for the record
};

void write_checkpoint(const std::filesystem::path& path, const Checkpoint& ck);
// UserError "checkpoint: ..." for a file that is not a checkpoint (missing format or step, unknown
// key prefix).
Checkpoint read_checkpoint(const std::filesystem::path& path);

}  // namespace torchlean::nn
