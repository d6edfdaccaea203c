#include "error_bounds.hpp"

#include <algorithm>
#include <cmath>
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
  const int64_t r = a.shape().rank(), rb = b.shape().rank();
  const bool shared = rb == 2;  // the extension form (b...,m,n) x (n,p)
  const int64_t batch = product(a.shape(), 0, r - 2);
  const int64_t m = a.shape()[r - 2], n = a.shape()[r - 1], p = b.shape()[rb - 1];
  std::vector<ElementBound> out;
  for (int64_t bt = 0; bt < batch; ++bt)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < p; ++j) {
        mpq_class sum;
        for (int64_t k = 0; k < n; ++k)
          sum += absq(a[(bt * m + i) * n + k]) * absq(b[((shared ? 0 : bt) * n + k) * p + j]);
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

// ---- extension ops: NCHW convolution and pooling and their gradients ----
// Each output is a sum of at most k terms (products, or quotients rounded once) computed in some
// order by both sides, so both are within gamma_k * sum |terms| of the exact value (c = 2). A
// bound with a larger k or a larger term sum is still valid: counts below are upper bounds.

struct Conv {
  int64_t n, ch, h, w, o, cg, og, k_h, k_w, oh, ow;
  ir::Conv2dNchwAttrs a;
  // Input position of tap k for output position q along one axis (may be padding).
  int64_t row(int64_t q, int64_t k) const { return q * a.stride_h - a.pad_top + k * a.dilation_h; }
  int64_t col(int64_t q, int64_t k) const { return q * a.stride_w - a.pad_left + k * a.dilation_w; }
};

Conv conv_of(const Case& c, const Shape& x, const Shape& w, const Shape& y) {
  const auto& a = attrs_of<ir::Conv2dNchwAttrs>(c);
  return Conv{x[0], x[1], x[2], x[3], w[0], x[1] / a.groups, w[0] / a.groups,
              w[2], w[3], y[2], y[3], a};
}

std::vector<ElementBound> conv2d_nchw_bounds(const Case& c) {
  const Tensor<double>& x = c.inputs[0];
  const Tensor<double>& w = c.inputs[1];
  const bool bias = c.inputs.size() == 3;
  const Conv g = conv_of(c, x.shape(), w.shape(), c.expected.shape());
  std::vector<ElementBound> out;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o)
      for (int64_t oh = 0; oh < g.oh; ++oh)
        for (int64_t ow = 0; ow < g.ow; ++ow) {
          mpq_class sum = bias ? absq(c.inputs[2][o]) : mpq_class(0);
          for (int64_t ic = 0; ic < g.cg; ++ic)
            for (int64_t kh = 0; kh < g.k_h; ++kh)
              for (int64_t kw = 0; kw < g.k_w; ++kw) {
                const int64_t r = g.row(oh, kh), q = g.col(ow, kw);
                if (r < 0 || r >= g.h || q < 0 || q >= g.w) continue;
                const int64_t chan = (o / g.og) * g.cg + ic;
                sum += absq(w[((o * g.cg + ic) * g.k_h + kh) * g.k_w + kw]) *
                       absq(x[((n * g.ch + chan) * g.h + r) * g.w + q]);
              }
          out.push_back({2, g.cg * g.k_h * g.k_w + (bias ? 1 : 0), sum});
        }
  return out;
}

// dx[n,c,r,q] = sum over (o in c's group, kh, kw) with a tap at (r, q) of g * W.
std::vector<ElementBound> conv2d_nchw_grad_input_bounds(const Case& c) {
  const Tensor<double>& gy = c.inputs[0];
  const Tensor<double>& w = c.inputs[1];
  const Conv g = conv_of(c, c.expected.shape(), w.shape(), gy.shape());
  std::vector<mpq_class> sums(static_cast<size_t>(c.expected.numel()));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o)
      for (int64_t oh = 0; oh < g.oh; ++oh)
        for (int64_t ow = 0; ow < g.ow; ++ow)
          for (int64_t ic = 0; ic < g.cg; ++ic)
            for (int64_t kh = 0; kh < g.k_h; ++kh)
              for (int64_t kw = 0; kw < g.k_w; ++kw) {
                const int64_t r = g.row(oh, kh), q = g.col(ow, kw);
                if (r < 0 || r >= g.h || q < 0 || q >= g.w) continue;
                const int64_t chan = (o / g.og) * g.cg + ic;
                sums[static_cast<size_t>(((n * g.ch + chan) * g.h + r) * g.w + q)] +=
                    absq(gy[((n * g.o + o) * g.oh + oh) * g.ow + ow]) *
                    absq(w[((o * g.cg + ic) * g.k_h + kh) * g.k_w + kw]);
              }
  std::vector<ElementBound> out;
  for (const mpq_class& m : sums) out.push_back({2, g.og * g.k_h * g.k_w, m});
  return out;
}

// dW[o,ic,kh,kw] = sum over (n, oh, ow) of x * g (padding taps are zero terms).
std::vector<ElementBound> conv2d_nchw_grad_weight_bounds(const Case& c) {
  const Tensor<double>& x = c.inputs[0];
  const Tensor<double>& gy = c.inputs[1];
  const Conv g = conv_of(c, x.shape(), c.expected.shape(), gy.shape());
  std::vector<ElementBound> out;
  for (int64_t o = 0; o < g.o; ++o)
    for (int64_t ic = 0; ic < g.cg; ++ic)
      for (int64_t kh = 0; kh < g.k_h; ++kh)
        for (int64_t kw = 0; kw < g.k_w; ++kw) {
          mpq_class sum;
          const int64_t chan = (o / g.og) * g.cg + ic;
          for (int64_t n = 0; n < g.n; ++n)
            for (int64_t oh = 0; oh < g.oh; ++oh)
              for (int64_t ow = 0; ow < g.ow; ++ow) {
                const int64_t r = g.row(oh, kh), q = g.col(ow, kw);
                if (r < 0 || r >= g.h || q < 0 || q >= g.w) continue;
                sum += absq(x[((n * g.ch + chan) * g.h + r) * g.w + q]) *
                       absq(gy[((n * g.o + o) * g.oh + oh) * g.ow + ow]);
              }
          out.push_back({2, g.n * g.oh * g.ow, sum});
        }
  return out;
}

struct Pool {
  int64_t planes, h, w, oh, ow;
  ir::PoolNchwAttrs a;
  int64_t row0(int64_t q) const { return q * a.stride_h - a.pad_top; }
  int64_t col0(int64_t q) const { return q * a.stride_w - a.pad_left; }
  // PyTorch's divisor (docs/ops.md).
  int64_t divisor(int64_t qh, int64_t qw) const {
    const int64_t hs = row0(qh), ws = col0(qw);
    if (a.count_include_pad)
      return (std::min(hs + a.kH, h + a.pad_bottom) - hs) *
             (std::min(ws + a.kW, w + a.pad_right) - ws);
    return (std::min(hs + a.kH, h) - std::max<int64_t>(hs, 0)) *
           (std::min(ws + a.kW, w) - std::max<int64_t>(ws, 0));
  }
  // Calls f(input flat index, output flat index) for every real cell of every window.
  template <class F>
  void for_each_tap(F f) const {
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t qh = 0; qh < oh; ++qh)
        for (int64_t qw = 0; qw < ow; ++qw)
          for (int64_t kh = 0; kh < a.kH; ++kh)
            for (int64_t kw = 0; kw < a.kW; ++kw) {
              const int64_t r = row0(qh) + kh, q = col0(qw) + kw;
              if (r >= 0 && r < h && q >= 0 && q < w)
                f((p * h + r) * w + q, (p * oh + qh) * ow + qw, qh, qw);
            }
  }
};

Pool pool_of(const Case& c, const Shape& x, const Shape& y) {
  return Pool{x[0] * x[1], x[2], x[3], y[2], y[3], attrs_of<ir::PoolNchwAttrs>(c)};
}

// A window's sum of at most kH*kW terms and one division.
std::vector<ElementBound> avg_pool_nchw_bounds(const Case& c) {
  const Tensor<double>& x = c.inputs[0];
  const Pool g = pool_of(c, x.shape(), c.expected.shape());
  std::vector<mpq_class> sums(static_cast<size_t>(c.expected.numel()));
  g.for_each_tap(
      [&](int64_t i, int64_t o, int64_t, int64_t) { sums[static_cast<size_t>(o)] += absq(x[i]); });
  std::vector<ElementBound> out;
  for (int64_t o = 0; o < c.expected.numel(); ++o) {
    const int64_t qh = (o / g.ow) % g.oh, qw = o % g.ow;
    out.push_back({2, g.a.kH * g.a.kW + 2, sums[static_cast<size_t>(o)] / g.divisor(qh, qw)});
  }
  return out;
}

// dx = sum over the windows containing the cell of g / divisor: at most kH*kW quotients, each
// rounded once, then the additions.
std::vector<ElementBound> avg_pool_nchw_grad_bounds(const Case& c) {
  const Tensor<double>& gy = c.inputs[0];
  const Pool g = pool_of(c, c.expected.shape(), gy.shape());
  std::vector<mpq_class> sums(static_cast<size_t>(c.expected.numel()));
  g.for_each_tap([&](int64_t i, int64_t o, int64_t qh, int64_t qw) {
    sums[static_cast<size_t>(i)] += absq(gy[o]) / g.divisor(qh, qw);
  });
  std::vector<ElementBound> out;
  for (const mpq_class& m : sums) out.push_back({2, g.a.kH * g.a.kW + 1, m});
  return out;
}

// dx = sum of the g routed to the cell: over-approximated by every window containing it.
std::vector<ElementBound> max_pool_nchw_grad_bounds(const Case& c) {
  const Tensor<double>& gy = c.inputs[1];
  const Pool g = pool_of(c, c.inputs[0].shape(), gy.shape());
  std::vector<mpq_class> sums(static_cast<size_t>(c.expected.numel()));
  g.for_each_tap(
      [&](int64_t i, int64_t o, int64_t, int64_t) { sums[static_cast<size_t>(i)] += absq(gy[o]); });
  std::vector<ElementBound> out;
  for (const mpq_class& m : sums) out.push_back({2, g.a.kH * g.a.kW, m});
  return out;
}

// d data = the sum of the g elements gathered from each position (index_add on PyTorch's side).
std::vector<ElementBound> gather_grad_bounds(const Case& c) {
  const Tensor<double>& idx = c.inputs[0];
  const Tensor<double>& gy = c.inputs[1];
  const Shape& data = c.expected.shape();
  const int64_t axis = attrs_of<ir::GatherAttrs>(c).axis;
  const int64_t outer = product(data, 0, axis), d = data[axis],
                inner = product(data, axis + 1, data.rank());
  const int64_t m = idx.numel();
  std::vector<mpq_class> sums(static_cast<size_t>(c.expected.numel()));
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t j = 0; j < m; ++j) {
      const int64_t k = static_cast<int64_t>(idx[j]) < 0 ? static_cast<int64_t>(idx[j]) + d
                                                         : static_cast<int64_t>(idx[j]);
      for (int64_t b = 0; b < inner; ++b)
        sums[static_cast<size_t>((a * d + k) * inner + b)] += absq(gy[(a * m + j) * inner + b]);
    }
  std::vector<ElementBound> out;
  for (const mpq_class& s : sums) out.push_back({2, std::max<int64_t>(m, 1), s});
  return out;
}

// ---- extension ops with several roundings (derivations in docs/ops.md, "Agreement with PyTorch")

// |x|, or 0 for the special values, which compare() settles before looking at a bound.
mpq_class absq_finite(double x) { return std::isfinite(x) ? absq(x) : mpq_class(0); }

// gelu: both sides compute h = x*0.5 and t = x*fl(1/sqrt 2) identically; erf differs by at most
// 3u (ours u, PyTorch's 1 ulp), then 1 + erf and h * s round once each, with |erf| <= 1 and
// |s| <= 2: |ours - torch| <= 12u |h| <= 2 gamma_6 |h|.
std::vector<ElementBound> gelu_bounds(const Case& c) {
  std::vector<ElementBound> out;
  for (double x : c.inputs[0].vec()) out.push_back({2, 6, absq_finite(x) / 2});
  return out;
}

// silu: ours x * sigmoid(x) has relative error gamma_2; PyTorch's x / (1 + exp(-x)) gamma_5
// (exp within 1 ulp, the addition, the division). So |ours - torch| <= 3 gamma_7 |torch|, as for
// softmax.
std::vector<ElementBound> silu_bounds(const Case& c) {
  std::vector<ElementBound> out;
  for (double y : c.expected.vec()) out.push_back({3, 7, absq_finite(y)});
  return out;
}

// softplus (inputs <= 20, below PyTorch's threshold): ours maximum(x,0) + log(1 + exp(-|x|)) is
// within about 4u + u|y| of the exact value (exp(-|x|) <= 1, so 1 + e has relative error 3u and
// the log absolute error 3u); PyTorch's log1p(exp(x)) within 2u + 2u|y|. Absolute, not
// relative: for very negative x both are tiny. 2 gamma_3 (2 + |torch|) covers the sum.
std::vector<ElementBound> softplus_bounds(const Case& c) {
  std::vector<ElementBound> out;
  for (double y : c.expected.vec()) out.push_back({2, 3, 2 + absq_finite(y)});
  return out;
}

// log_softmax along a line of n elements with d_k = x_k - max and A = max_k |d_k|: on each side
// d_k rounds once (u|d_k|), exp's argument error is relative A*u, the n-term sum has relative
// error gamma_n, so log s is within (n + A + 2)u of log of the exact sum, then y_k = d_k - l
// rounds once. With l = d_k - y_k, |l| <= |d_k| + |y_k|: per side
//   |err| <= u(|d_k| + |l| + |y_k|) + (n + A + 2)u,
// covered by 2 gamma_K (1 + 2|d_k| + 2|torch_k|) with K = n + ceil(A) + 3.
std::vector<ElementBound> log_softmax_bounds(const Case& c) {
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
      for (int64_t k = 0; k < len; ++k)
        a_max = std::max(a_max, ceil_nonneg(exact(m) - exact(x[at(k)])));
      for (int64_t k = 0; k < len; ++k) {
        const mpq_class d = exact(m) - exact(x[at(k)]);
        out[static_cast<size_t>(at(k))] = {2, len + a_max + 3,
                                           1 + 2 * d + 2 * absq(c.expected[at(k)])};
      }
    }
  return out;
}

// cross_entropy over N rows of C logits: each loss_n = l_n - d_t is a log_softmax element
// (0 <= l_n <= log C <= C, so |loss_n| <= C + |d_t|), the N losses are summed (gamma_N) and
// divided by N (u). Per side |err| <= (1/N) sum_n [u(2|d_t| + 2C) + (C + A_n + 2)u] +
// gamma_N mean|loss| + u|y|, covered by 2 gamma_K (1 + (1/N) sum_n (4|d_t| + 4C) + |torch|)
// with K = N + C + max_n ceil(A_n) + 3.
std::vector<ElementBound> cross_entropy_bounds(const Case& c) {
  const Tensor<double>& logits = c.inputs[0];
  const Tensor<double>& targets = c.inputs[1];
  const int64_t rows = logits.shape()[0], classes = logits.shape()[1];
  int64_t a_max = 0;
  mpq_class sum;
  for (int64_t n = 0; n < rows; ++n) {
    double m = logits[n * classes];
    for (int64_t k = 1; k < classes; ++k) m = std::max(m, logits[n * classes + k]);
    for (int64_t k = 0; k < classes; ++k)
      a_max = std::max(a_max, ceil_nonneg(exact(m) - exact(logits[n * classes + k])));
    const int64_t t = static_cast<int64_t>(targets[n]);
    sum += 4 * (exact(m) - exact(logits[n * classes + t])) + 4 * classes;
  }
  return {{2, rows + classes + a_max + 3, 1 + sum / rows + absq(c.expected[0])}};
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
    case OpKind::conv2d_nchw:
      return conv2d_nchw_bounds(c);
    case OpKind::conv2d_nchw_grad_input:
      return conv2d_nchw_grad_input_bounds(c);
    case OpKind::conv2d_nchw_grad_weight:
      return conv2d_nchw_grad_weight_bounds(c);
    case OpKind::avg_pool2d_nchw:
      return avg_pool_nchw_bounds(c);
    case OpKind::avg_pool2d_nchw_grad:
      return avg_pool_nchw_grad_bounds(c);
    case OpKind::max_pool2d_nchw_grad:
      return max_pool_nchw_grad_bounds(c);
    case OpKind::gather_grad:
      return gather_grad_bounds(c);
    case OpKind::gelu:
      return gelu_bounds(c);
    case OpKind::silu:
      return silu_bounds(c);
    case OpKind::softplus:
      return softplus_bounds(c);
    case OpKind::log_softmax:
      return log_softmax_bounds(c);
    case OpKind::cross_entropy:
      return cross_entropy_bounds(c);
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
