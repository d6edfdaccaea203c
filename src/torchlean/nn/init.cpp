#include "torchlean/nn/init.hpp"

#include <cmath>
#include <numbers>

#include "torchlean/core/error.hpp"

namespace torchlean::nn {

Init Init::torch_default(int64_t fan_in) {
  return Init{uniform, fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0, 1};
}

std::string Init::str() const {
  switch (kind) {
    case zeros:
      return "zeros";
    case ones:
      return "ones";
    case uniform:
      return "uniform(" + std::to_string(scale) + ")";
    case xavier_uniform:
      return "xavier_uniform";
    case xavier_normal:
      return "xavier_normal";
    case kaiming_uniform:
      return "kaiming_uniform";
    case kaiming_normal:
      return "kaiming_normal";
    case normal:
      return "normal(" + std::to_string(scale) + ")";
  }
  return "?";
}

double uniform01(SplitMix64& rng) { return static_cast<double>(rng.next() >> 11) * 0x1p-53; }

double standard_normal(SplitMix64& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::pair<int64_t, int64_t> fans(const Shape& shape) {
  TL_USER_CHECK(shape.rank() >= 1, "init: fan of a scalar parameter is undefined");
  if (shape.rank() == 1) return {shape[0], shape[0]};
  int64_t receptive = 1;
  for (int64_t d = 2; d < shape.rank(); ++d) receptive *= shape[d];
  return {shape[1] * receptive, shape[0] * receptive};
}

Tensor<double> init_tensor(const Shape& shape, const Init& init, SplitMix64& rng) {
  Tensor<double> t(shape, 0.0);
  if (init.kind == Init::zeros) return t;
  if (init.kind == Init::ones) {
    for (double& v : t.vec()) v = 1.0;
    return t;
  }
  double a = 0, s = 0;
  bool is_uniform = false;
  switch (init.kind) {
    case Init::uniform:
      a = init.scale, is_uniform = true;
      break;
    case Init::normal:
      s = init.scale;
      break;
    case Init::xavier_uniform: {
      auto [fi, fo] = fans(shape);
      a = init.gain * std::sqrt(6.0 / static_cast<double>(fi + fo)), is_uniform = true;
      break;
    }
    case Init::xavier_normal: {
      auto [fi, fo] = fans(shape);
      s = init.gain * std::sqrt(2.0 / static_cast<double>(fi + fo));
      break;
    }
    case Init::kaiming_uniform:
      a = init.gain * std::sqrt(3.0 / static_cast<double>(fans(shape).first)), is_uniform = true;
      break;
    case Init::kaiming_normal:
      s = init.gain / std::sqrt(static_cast<double>(fans(shape).first));
      break;
    default:
      break;
  }
  for (double& v : t.vec()) {
    const double x = is_uniform ? a * (2.0 * uniform01(rng) - 1.0) : s * standard_normal(rng);
    v = static_cast<double>(static_cast<float>(x));
  }
  return t;
}

}  // namespace torchlean::nn
