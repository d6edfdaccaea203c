// Parameter initialisation schemes, drawn from SplitMix64 so a seed fixes every value on every
// platform. Values are rounded to binary32 (training runs in binary32; the payload then holds
// exact binary32 values, which safetensors F32 can store without rounding).
#pragma once
#include <cstdint>
#include <string>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/core/tensor.hpp"

namespace torchlean::nn {

struct Init {
  enum Kind {
    zeros,
    ones,
    uniform,          // U(-a, a) with a = `scale`
    xavier_uniform,   // U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))
    xavier_normal,    // N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform,  // U(-a, a), a = gain * sqrt(3 / fan_in); gain sqrt(2) for ReLU
    kaiming_normal,   // N(0, s^2), s = gain / sqrt(fan_in)
    normal,           // N(0, s^2), s = `scale`
  };
  Kind kind = zeros;
  double scale = 0;  // uniform: a; normal: s
  double gain = 1;

  // PyTorch's default for Linear and Conv2d weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  // (kaiming_uniform with a = sqrt(5) gives exactly this bound for the weight).
  static Init torch_default(int64_t fan_in);
  std::string str() const;
};

// A uniform double in [0, 1) from the top 53 bits of one draw.
double uniform01(SplitMix64& rng);
// A standard normal draw (Box-Muller on two uniform01 draws, the cosine branch).
double standard_normal(SplitMix64& rng);

// fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field (PyTorch's rule for
// (out, in, kh, kw) weights; a rank-1 shape has fan_in = fan_out = shape[0]).
std::pair<int64_t, int64_t> fans(const Shape& shape);

// A tensor of `shape` drawn from `init`, in row-major order, each value rounded to binary32.
Tensor<double> init_tensor(const Shape& shape, const Init& init, SplitMix64& rng);

}  // namespace torchlean::nn
