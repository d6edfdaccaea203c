#include "error_bounds.hpp"

#include <algorithm>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/attrs.hpp"
#include "torchlean/ir/op_kind.hpp"

namespace torchlean::conformance {

namespace {

mpq_class absq(double x) { return abs(exact(x)); }

int64_t product(const Shape& s, int64_t begin, int64_t end) {
  int64_t n = 1;
  for (int64_t i = begin; i < end; ++i) n *= s[i];
  return n;
}

// Smallest integer >= q, for q >= 0.
int64_t ceil_nonneg(const mpq_class& q) {
  mpz_class r;
  mpz_cdiv_q(r.get_mpz_t(), q.get_num_mpz_t(), q.get_den_mpz_t());
  return r.get_si();
}

const Tensor<double>& slot(const Case& c, const std::string& name) {
  return c.payload.at(c.op_id).at(name);
}

template <class A>
const A& attrs_of(const Case& c) {
  return std::get<A>(c.graph.node(c.op_id).attrs);
}

// Dot products (matmul, linear, conv2d): any summation order of n products plus a bias is within
// gamma_{n(+1)} * sum |terms| of the exact value, for both sides.
std::vector<ElementBound> matmul_bounds(const Case& c) {
  const Tensor<double>& a = c.inputs[0];
  const Tensor<double>& b = c.inputs[1];
  const int64_t r = a.shape().rank();
  const int64_t batch = r == 3 ? a.shape()[0] : 1;
  const int64_t m = a.shape()[r - 2], n = a.shape()[r - 1], p = b.shape()[r - 1];
  std::vector<ElementBound> out;
  for (int64_t bt = 0; bt < batch; ++bt)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < p; ++j) {
        mpq_class sum;
        for (int64_t k = 0; k < n; ++k)
          sum += absq(a[(bt * m + i) * n + k]) * absq(b[(bt * n + k) * p + j]);
        out.push_back({2, n, sum});
      }
  return out;
}

std::vector<ElementBound> linear_bounds(const Case& c) {
  const Tensor<double>& x = c.inputs[0];
  const Tensor<double>& w = slot(c, "weight");
  const Tensor<double>& bias = slot(c, "bias");
  const int64_t in = x.shape()[x.shape().rank() - 1];
  const int64_t rows = product(x.shape(), 0, x.shape().rank() - 1);
  const int64_t out_f = w.shape()[0];
  std::vector<ElementBound> out;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out_f; ++o) {
      mpq_class sum = absq(bias[o]);
      for (int64_t k = 0; k < in; ++k) sum += absq(w[o * in + k]) * absq(x[r * in + k]);
      out.push_back({2, in + 1, sum});
    }
  return out;
}

std::vector<ElementBound> conv2d_bounds(const Case& c) {
  const auto& a = attrs_of<ir::Conv2dAttrs>(c);
  const Tensor<double>& x = c.inputs[0];
  const Tensor<double>& w = slot(c, "weight");
  const Tensor<double>& bias = slot(c, "bias");
  const int64_t h = x.shape()[1], wd = x.shape()[2];
  const int64_t oh_n = c.expected.shape()[1], ow_n = c.expected.shape()[2];
  std::vector<ElementBound> out;
  for (int64_t oc = 0; oc < a.outC; ++oc)
    for (int64_t oh = 0; oh < oh_n; ++oh)
      for (int64_t ow = 0; ow < ow_n; ++ow) {
        mpq_class sum = absq(bias[oc]);
        for (int64_t ic = 0; ic < a.inC; ++ic)
          for (int64_t kh = 0; kh < a.kH; ++kh)
            for (int64_t kw = 0; kw < a.kW; ++kw) {
              const int64_t row = oh * a.stride + kh - a.padding;
              const int64_t col = ow * a.stride + kw - a.padding;
              if (row < 0 || row >= h || col < 0 || col >= wd) continue;  // padding: a zero term
              sum += absq(w[((oc * a.inC + ic) * a.kH + kh) * a.kW + kw]) *
                     absq(x[(ic * h + row) * wd + col]);
            }
        out.push_back({2, a.inC * a.kH * a.kW + 1, sum});
      }
  return out;
}

// Average pools: a sum of kH*kW terms (padding terms are 0) and one division (PyTorch divides the
// sum too), so both sides are within gamma_{kH*kW+2} * (sum |x| / (kH*kW)).
std::vector<ElementBound> avg_pool_bounds(const Case& c, int64_t k_h, int64_t k_w, int64_t stride,
                                          int64_t padding) {
  const Tensor<double>& x = c.inputs[0];
  const int64_t channels = x.shape()[0], h = x.shape()[1], wd = x.shape()[2];
  const int64_t oh_n = c.expected.shape()[1], ow_n = c.expected.shape()[2];
  const mpq_class count(k_h * k_w);
  std::vector<ElementBound> out;
  for (int64_t ch = 0; ch < channels; ++ch)
    for (int64_t oh = 0; oh < oh_n; ++oh)
      for (int64_t ow = 0; ow < ow_n; ++ow) {
        mpq_class sum;
        for (int64_t kh = 0; kh < k_h; ++kh)
          for (int64_t kw = 0; kw < k_w; ++kw) {
            const int64_t row = oh * stride + kh - padding, col = ow * stride + kw - padding;
            if (row >= 0 && row < h && col >= 0 && col < wd) sum += absq(x[(ch * h + row) * wd + col]);
          }
        out.push_back({2, k_h * k_w + 2, sum / count});
      }
  return out;
}

// reduce_sum / reduce_mean along `axis`: n - 1 additions (any order), plus for the mean one
// division (ours) or a product with a rounded 1/n (PyTorch): gamma_{n+2} * sum|x| / n.
std::vector<ElementBound> axis_sum_bounds(const Case& c, int64_t axis, bool mean) {
  const Tensor<double>& x = c.inputs[0];
  const Shape& s = x.shape();
  const int64_t outer = product(s, 0, axis), len = s[axis], inner = product(s, axis + 1, s.rank());
  std::vector<ElementBound> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      mpq_class sum;
      for (int64_t k = 0; k < len; ++k) sum += absq(x[(o * len + k) * inner + i]);
      if (mean && len > 0) sum /= mpq_class(len);
      out.push_back({2, mean ? len + 2 : len, sum});
    }
  return out;
}

std::vector<ElementBound> sum_bounds(const Case& c) {
  mpq_class sum;
  for (double v : c.inputs[0].vec()) sum += absq(v);
  return {{2, c.inputs[0].numel(), sum}};
}

// mse_loss: every term (y-t)^2 is >= 0, so the sum's bound is relative to the exact result:
// d (1 rounding), d*d (1), n - 1 additions, a division or a product with 1/n (2): gamma_{n+5}.
std::vector<ElementBound> mse_bounds(const Case& c) {
  const Tensor<double>& y = c.inputs[0];
  const Tensor<double>& t = c.inputs[1];
  mpq_class sum;
  for (int64_t i = 0; i < y.numel(); ++i) {
    mpq_class d = exact(y[i]) - exact(t[i]);
    sum += d * d;
  }
  if (y.numel() > 0) sum /= mpq_class(y.numel());
  return {{2, y.numel() + 5, sum}};
}

// softmax: with a_i = |x_i - max| (the exp argument's rounding error is a_i*u, relative), n terms
// and at most two roundings after exp, both sides have relative error gamma_K with
// K = ceil(a_i) + 2*ceil(max a) + 2n + 6 (PyTorch's exp is within 1 ulp, i.e. 2u). Then
// |ours - torch| <= 2 gamma_K y <= 3 gamma_K |torch| (y <= |torch| / (1 - gamma_K)).
std::vector<ElementBound> softmax_bounds(const Case& c) {
  const Tensor<double>& x = c.inputs[0];
  const Shape& s = x.shape();
  const int64_t axis = attrs_of<ir::AxisAttrs>(c).axis;
  const int64_t outer = product(s, 0, axis), len = s[axis], inner = product(s, axis + 1, s.rank());
  std::vector<ElementBound> out(static_cast<size_t>(x.numel()));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * len + k) * inner + i; };
      double m = x[at(0)];
      for (int64_t k = 1; k < len; ++k) m = std::max(m, x[at(k)]);
      int64_t a_max = 0;
      for (int64_t k = 0; k < len; ++k) a_max = std::max(a_max, ceil_nonneg(exact(m) - exact(x[at(k)])));
      for (int64_t k = 0; k < len; ++k) {
        const int64_t a_k = ceil_nonneg(exact(m) - exact(x[at(k)]));
        out[static_cast<size_t>(at(k))] = {3, a_k + 2 * a_max + 2 * len + 6, absq(c.expected[at(k)])};
      }
    }
  return out;
}

// layernorm over rows of N = prod(dims[axis:]) elements, eps = binary64(1e-6). With W = var + eps
// (exact), s = sqrt(W), A = max_j |x_j|, Q = sum_j x_j^2 / N: the mean's error (<= gamma_N A for
// the fold and for Welford), the centring (u |x_i - mu|), the variance's relative error
// (<= gamma_{3N} Q / W, Welford's condition-number bound), the sqrt and the final division or
// x*rstd - mu*rstd (PyTorch) give, for both sides,
//   |y~ - y| <= gamma_K [ (|x_i| + 2A)/s + |y| (1 + Q/W) ],  K = 4N + 16,
// so |ours - torch| <= 3 gamma_K [ 2(|x_i| + 2A)/s + |torch| (1 + Q/W) ] (c = 3 absorbs the
// second-order terms and y vs torch).
std::vector<ElementBound> layernorm_bounds(const Case& c) {
  const Tensor<double>& x = c.inputs[0];
  const Shape& s = x.shape();
  const int64_t axis = attrs_of<ir::AxisAttrs>(c).axis;
  const int64_t rows = product(s, 0, axis), n = product(s, axis, s.rank());
  const mpq_class eps = exact(1e-6), count(n);
  std::vector<ElementBound> out;
  for (int64_t r = 0; r < rows; ++r) {
    mpq_class sum, sum_sq, a_max;
    for (int64_t k = 0; k < n; ++k) {
      const mpq_class v = exact(x[r * n + k]);
      sum += v;
      sum_sq += v * v;
      a_max = std::max(a_max, mpq_class(abs(v)));
    }
    const mpq_class mean = sum / count;
    mpq_class var;
    for (int64_t k = 0; k < n; ++k) {
      const mpq_class d = exact(x[r * n + k]) - mean;
      var += d * d;
    }
    var /= count;
    const mpq_class w = var + eps;
    const mpq_class s_lo = sqrt_lower(w);
    const mpq_class q_over_w = sum_sq / count / w;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = r * n + k;
      mpq_class m = 2 * (absq(x[i]) + 2 * a_max) / s_lo + absq(c.expected[i]) * (1 + q_over_w);
      out.push_back({3, 4 * n + 16, m});
    }
  }
  return out;
}

// batch_norm eval. Ours: ((x - mean)/d)*gamma + beta, d = sqrt(max(var,0) + eps): within
// gamma_6 (|R| + |y|) with R = (x - mean) gamma / s. PyTorch folds the statistics into
// alpha = gamma / sqrt(var + eps), beta' = beta - mean*alpha, y = x*alpha + beta': within
// gamma_7 M with M = (|x| + |mean|) |gamma| / s + |beta|. Since |R| + |y| <= 2M, the sum of both
// is at most 3 gamma_7 M; c = 4, k = 8 leave room for a different PyTorch expression order.
std::vector<ElementBound> batch_norm_bounds(const Case& c) {
  const Tensor<double>& x = c.inputs[0];
  const Tensor<double>& gamma_t = slot(c, "gamma");
  const Tensor<double>& beta = slot(c, "beta");
  const Tensor<double>& mean = slot(c, "mean");
  const Tensor<double>& var = slot(c, "var");
  const mpq_class eps = exact(slot(c, "eps")[0]);
  const Shape& s = x.shape();
  const int64_t batch = s[0], channels = s[1], plane = s[2] * s[3];
  std::vector<mpq_class> inv_s;  // upper bounds of 1/s per channel
  for (int64_t ch = 0; ch < channels; ++ch)
    inv_s.push_back(1 / sqrt_lower(std::max(exact(var[ch]), mpq_class(0)) + eps));
  std::vector<ElementBound> out;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t ch = 0; ch < channels; ++ch)
      for (int64_t i = 0; i < plane; ++i) {
        const double xv = x[(b * channels + ch) * plane + i];
        mpq_class m = (absq(xv) + absq(mean[ch])) * absq(gamma_t[ch]) * inv_s[static_cast<size_t>(ch)] +
                      absq(beta[ch]);
        out.push_back({4, 8, m});
      }
  return out;
}

}  // namespace

std::vector<ElementBound> error_bounds(const Case& c) {
  using ir::OpKind;
  switch (c.op) {
    case OpKind::matmul:
      return matmul_bounds(c);
    case OpKind::linear:
      return linear_bounds(c);
    case OpKind::conv2d:
      return conv2d_bounds(c);
    case OpKind::avg_pool2d: {
      const auto& a = attrs_of<ir::Pool2dAttrs>(c);
      return avg_pool_bounds(c, a.kH, a.kW, a.stride, 0);
    }
    case OpKind::avg_pool2d_pad: {
      const auto& a = attrs_of<ir::Pool2dPadAttrs>(c);
      return avg_pool_bounds(c, a.kH, a.kW, a.stride, a.padding);
    }
    case OpKind::reduce_sum:
      return axis_sum_bounds(c, attrs_of<ir::AxisAttrs>(c).axis, false);
    case OpKind::reduce_mean:
      return axis_sum_bounds(c, attrs_of<ir::AxisAttrs>(c).axis, true);
    case OpKind::sum:
      return sum_bounds(c);
    case OpKind::mse_loss:
      return mse_bounds(c);
    case OpKind::softmax:
      return softmax_bounds(c);
    case OpKind::layernorm:
      return layernorm_bounds(c);
    case OpKind::batch_norm2d_nchw_eval:
      return batch_norm_bounds(c);
    default:
      throw InternalError("error_bounds: no bound rule for " + std::string(ir::op_name(c.op)));
  }
}

mpq_class bound_value(const ElementBound& b) {
  mpq_class tiny(1);
  mpz_class two_1074;
  mpz_ui_pow_ui(two_1074.get_mpz_t(), 2, 1074);
  tiny /= mpq_class(two_1074);
  return mpq_class(b.c) * gamma(b.k) * b.m + mpq_class(b.c * b.k) * tiny;
}

}  // namespace torchlean::conformance
