// Datasets and loaders: in-memory examples (features and targets as binary32), read from IDX
// (MNIST-style, gzipped or not), NPY pairs or CSV, and a loader that batches them in a seeded
// shuffled order. Class targets are stored as float values holding integers, as the IR's
// cross_entropy expects.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "torchlean/core/tensor.hpp"

namespace torchlean::nn {

struct Dataset {
  Tensor<float> x;  // (N, feature dims...)
  Tensor<float> y;  // (N) class indices, or (N, k) regression targets
  int64_t size() const { return x.shape().rank() == 0 ? 0 : x.shape()[0]; }
  // Shape of one example's features / target (x's / y's shape without the leading N).
  Shape example_shape() const;
  Shape target_shape() const;
};

// Checks that x and y agree on N (UserError naming `what` and both shapes).
void check_dataset(const Dataset& d, const std::string& what);

// `DIR/<split>-images-idx3-ubyte[.gz]` and `DIR/<split>-labels-idx1-ubyte[.gz]` (split "train" or
// "t10k"). Pixels are scaled to [0, 1] by one division by 255; images keep their (N, H, W) shape.
Dataset load_idx_dataset(const std::filesystem::path& dir, const std::string& split);

// x.npy (N, ...) and y.npy (N) or (N, k); any dtype io/npy reads, narrowed to binary32 only when
// exact (UserError otherwise).
Dataset load_npy_dataset(const std::filesystem::path& x_path, const std::filesystem::path& y_path);

// A CSV of numbers, one example per row, comma-separated; an optional header row (detected when
// its first field is not a number) is skipped. `label_column` (negative counts from the end) is the
// target, the other columns are the features. Every row must have the same number of fields.
Dataset parse_csv_dataset(const std::string& text, int64_t label_column = -1,
                          const std::string& what = "csv");
Dataset load_csv_dataset(const std::filesystem::path& path, int64_t label_column = -1);

// Rows [begin, begin + count) as a new dataset (for --limit-train and validation splits).
Dataset take(const Dataset& d, int64_t begin, int64_t count);

// A permutation of [0, n) by Fisher-Yates driven by SplitMix64(seed): the same (n, seed) gives
// the same order on every platform.
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

// Batches of a dataset. Epoch e visits the examples in seeded_permutation(N, mix(seed, e)) order
// (or 0..N-1 without shuffling), so any (epoch, batch) can be recomputed after a resume. With
// drop_last the final partial batch is skipped, so every batch has exactly `batch` examples.
class Loader {
 public:
  Loader(const Dataset& data, int64_t batch, bool shuffle, uint64_t seed, bool drop_last);
  int64_t batches_per_epoch() const;
  int64_t batch_size() const { return batch_; }
  // Fixes the order of `epoch` (cheap to call again for the same epoch).
  void start_epoch(int64_t epoch);
  // Copies batch `b` of the current epoch into x (batch * example numel floats) and y; returns
  // the number of real examples (< batch only for the last batch without drop_last; the rest of
  // the buffers is zero-filled).
  int64_t fill(int64_t b, float* x, float* y) const;

 private:
  const Dataset& data_;
  int64_t batch_;
  bool shuffle_, drop_last_;
  uint64_t seed_;
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
};

}  // namespace torchlean::nn
