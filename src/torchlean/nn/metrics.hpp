// Evaluation metrics: accuracy and the confusion matrix of class predictions (argmax of logits,
// the first maximum on ties, as torch.argmax), and the mean cross-entropy computed on the host in
// binary64 for reporting.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace torchlean::nn {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t classes);
  // logits: rows x classes, row-major; labels: rows class indices (UserError if out of range).
  void add(std::span<const float> logits, std::span<const float> labels, int64_t rows);
  int64_t classes() const { return c_; }
  int64_t count(int64_t truth, int64_t predicted) const {
    return m_[static_cast<size_t>(truth * c_ + predicted)];
  }
  int64_t total() const { return total_; }
  double accuracy() const;  // correct / total (0 when empty)
  // Mean -log softmax(logits)[label] over the rows added.
  double mean_loss() const { return total_ ? loss_ / static_cast<double>(total_) : 0.0; }
  std::string str() const;  // rows = truth, columns = prediction

 private:
  int64_t c_, total_ = 0;
  double loss_ = 0;
  std::vector<int64_t> m_;
};

// Index of the first maximum of `row` (NaN never wins).
int64_t argmax(std::span<const float> row);

}  // namespace torchlean::nn
