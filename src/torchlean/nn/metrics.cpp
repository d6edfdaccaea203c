#include "torchlean/nn/metrics.hpp"

#include <cmath>
#include <sstream>

#include "torchlean/core/error.hpp"

namespace torchlean::nn {

ConfusionMatrix::ConfusionMatrix(int64_t classes) : c_(classes) {
  TL_USER_CHECK(classes > 0, "metrics: need at least one class, got " + std::to_string(classes));
  m_.assign(static_cast<size_t>(classes * classes), 0);
}

int64_t argmax(std::span<const float> row) {
  int64_t best = 0;
  for (size_t i = 1; i < row.size(); ++i)
    if (row[i] > row[static_cast<size_t>(best)] || std::isnan(row[static_cast<size_t>(best)]))
      best = static_cast<int64_t>(i);
  return best;
}

void ConfusionMatrix::add(std::span<const float> logits, std::span<const float> labels,
                          int64_t rows) {
  TL_USER_CHECK(static_cast<int64_t>(logits.size()) >= rows * c_ &&
                    static_cast<int64_t>(labels.size()) >= rows,
                "metrics: " + std::to_string(rows) + " rows need " + std::to_string(rows * c_) +
                    " logits and " + std::to_string(rows) + " labels");
  for (int64_t r = 0; r < rows; ++r) {
    const float lf = labels[static_cast<size_t>(r)];
    TL_USER_CHECK(lf >= 0 && lf < static_cast<float>(c_) && std::floor(lf) == lf,
                  "metrics: label " + std::to_string(lf) + " of row " + std::to_string(r) +
                      " is not a class in [0, " + std::to_string(c_) + ")");
    const auto row = logits.subspan(static_cast<size_t>(r * c_), static_cast<size_t>(c_));
    const int64_t truth = static_cast<int64_t>(lf), pred = argmax(row);
    ++m_[static_cast<size_t>(truth * c_ + pred)];
    double mx = row[0];
    for (float v : row) mx = std::max(mx, static_cast<double>(v));
    double s = 0;
    for (float v : row) s += std::exp(static_cast<double>(v) - mx);
    loss_ += mx + std::log(s) - static_cast<double>(row[static_cast<size_t>(truth)]);
    ++total_;
  }
}

double ConfusionMatrix::accuracy() const {
  int64_t correct = 0;
  for (int64_t i = 0; i < c_; ++i) correct += count(i, i);
  return total_ ? static_cast<double>(correct) / static_cast<double>(total_) : 0.0;
}

std::string ConfusionMatrix::str() const {
  std::ostringstream os;
  os << "truth\\pred";
  for (int64_t j = 0; j < c_; ++j) os << '\t' << j;
  os << '\n';
  for (int64_t i = 0; i < c_; ++i) {
    os << i;
    for (int64_t j = 0; j < c_; ++j) os << '\t' << count(i, j);
    os << '\n';
  }
  return os.str();
}

}  // namespace torchlean::nn
