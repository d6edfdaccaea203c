#include "torchlean/cert/net.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "torchlean/cert/exact_vec.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::cert {

namespace {

using ir::OpKind;

// Reference values of the nodes that do not depend on the input, in the certificate's domain.
// Folded constants: `value` is set when the node's value is an exact rational in the domain;
// `constant` marks every node that does not depend on the input.
struct Folded {
  std::vector<std::optional<std::vector<mpq_class>>> value;
  std::vector<bool> constant;
};

template <class S>
Folded fold_constants(const ir::Graph& g, const ir::Payload& p) {
  const ir::PayloadStore<S> payload = ir::convert_payload<S>(p);
  static const std::map<std::string, Tensor<S>> kNoPayload;
  std::vector<std::optional<Tensor<S>>> values(g.nodes.size());
  Folded out;
  out.value.resize(g.nodes.size());
  out.constant.assign(g.nodes.size(), false);
  std::vector<const Tensor<S>*> parents;
  for (const ir::Node& n : g.nodes) {
    if (n.kind == OpKind::input) continue;
    bool constant = true;
    parents.clear();
    for (int64_t q : n.parents) {
      if (!values[static_cast<size_t>(q)])
        constant = false;
      else
        parents.push_back(&*values[static_cast<size_t>(q)]);
    }
    if (!constant) continue;
    auto it = payload.find(n.id);
    ops::EvalArgs<S> args{n, parents, it == payload.end() ? kNoPayload : it->second};
    Tensor<S> v = ops::eval_node(args);
    std::vector<mpq_class> q;
    q.reserve(v.vec().size());
    bool exact = true;
    for (const S& s : v.vec()) {
      if constexpr (std::is_same_v<S, Exact>) {
        if (!s.is_point()) exact = false;
        q.push_back(s.lo);
      } else {
        double d = s.to_double();
        if (!std::isfinite(d))
          exact = false;
        else
          q.push_back(exact_of(d));
      }
    }
    values[static_cast<size_t>(n.id)] = std::move(v);
    out.constant[static_cast<size_t>(n.id)] = true;
    if (exact) out.value[static_cast<size_t>(n.id)] = std::move(q);
  }
  return out;
}

// Collects the terms of an affine map with rational coefficients, then puts them over one
// denominator.
class AffineBuilder {
 public:
  AffineBuilder(std::vector<int64_t> parents, int64_t rows, int64_t roundings) {
    map_.parents = std::move(parents);
    map_.rows = rows;
    map_.bias.assign(static_cast<size_t>(rows), mpq_class(0));
    map_.roundings = roundings;
    map_.row_start.push_back(0);
  }
  void term(int32_t parent, int64_t col, mpq_class coef) {
    if (sgn(coef) == 0) return;
    map_.term_parent.push_back(parent);
    map_.term_col.push_back(col);
    coefs_.push_back(std::move(coef));
  }
  void bias(int64_t row, const mpq_class& b) { map_.bias[static_cast<size_t>(row)] = b; }
  void end_row() { map_.row_start.push_back(static_cast<int64_t>(coefs_.size())); }
  AffineMap finish() && {
    SVec s = to_svec(coefs_);
    map_.term_val = std::move(s.num);
    map_.scale = mpq_class(mpz_class(1), s.den);
    return std::move(map_);
  }

 private:
  AffineMap map_;
  std::vector<mpq_class> coefs_;
};

// The payload tensor of a slot in the certificate's domain (binary32-rounded for float32).
std::vector<mpq_class> slot_values(const ir::Payload& p, int64_t id, const std::string& slot,
                                   CertSemantics sem) {
  const Tensor<double>& t = p.at(id).at(slot);
  std::vector<mpq_class> out;
  out.reserve(t.vec().size());
  for (double x : t.vec()) {
    double v = sem == CertSemantics::float32 ? static_cast<double>(static_cast<float>(x)) : x;
    if (!std::isfinite(v))
      throw UserError("check-cert: node " + std::to_string(id) + " payload `" + slot +
                      "` holds a non-finite value");
    out.push_back(exact_of(v));
  }
  return out;
}

NetNode unsupported(const ir::Node& n, const std::string& why) {
  NetNode out;
  out.role = NodeRole::unsupported;
  out.unsupported = "unsupported op " + std::string(ir::op_name(n.kind)) + " in checker (" +
                    n.label() + (why.empty() ? "" : ": " + why) + ")";
  return out;
}

NetNode affine(AffineMap m) {
  NetNode out;
  out.role = NodeRole::affine;
  out.affine = std::move(m);
  return out;
}

NetNode classify(const ir::Graph& g, const ir::Payload& p, const ir::Node& n,
                 const std::vector<std::optional<std::vector<mpq_class>>>& consts,
                 CertSemantics sem) {
  const bool f32 = sem == CertSemantics::float32;
  auto is_const = [&](int64_t id) { return consts[static_cast<size_t>(id)].has_value(); };
  auto cval = [&](int64_t id) -> const std::vector<mpq_class>& {
    return *consts[static_cast<size_t>(id)];
  };
  const int64_t rows = n.shape.numel();
  switch (n.kind) {
    case OpKind::linear: {
      const Shape& sx = g.node(n.parents[0]).shape;
      const int64_t in = sx[sx.rank() - 1], out_f = n.shape[n.shape.rank() - 1];
      std::vector<mpq_class> w = slot_values(p, n.id, "weight", sem);
      std::vector<mpq_class> b = slot_values(p, n.id, "bias", sem);
      AffineBuilder ab({n.parents[0]}, rows, in + 1);
      for (int64_t r = 0; r < rows / std::max<int64_t>(out_f, 1); ++r)
        for (int64_t o = 0; o < out_f; ++o) {
          for (int64_t k = 0; k < in; ++k)
            ab.term(0, r * in + k, w[static_cast<size_t>(o * in + k)]);
          ab.bias(r * out_f + o, b[static_cast<size_t>(o)]);
          ab.end_row();
        }
      return affine(std::move(ab).finish());
    }
    case OpKind::conv2d: {  // one CHW image, OIHW kernel; padding taps read 0
      const auto& a = std::get<ir::Conv2dAttrs>(n.attrs);
      const Shape& sx = g.node(n.parents[0]).shape;
      const int64_t in_h = sx[1], in_w = sx[2], out_h = n.shape[1], out_w = n.shape[2];
      std::vector<mpq_class> w = slot_values(p, n.id, "weight", sem);
      std::vector<mpq_class> b = slot_values(p, n.id, "bias", sem);
      AffineBuilder ab({n.parents[0]}, rows, a.inC * a.kH * a.kW + 1);
      auto coord = [&](int64_t o, int64_t k, int64_t extent) {
        const int64_t padded = o * a.stride + k;
        return (padded < a.padding || padded - a.padding >= extent) ? int64_t{-1}
                                                                    : padded - a.padding;
      };
      for (int64_t oc = 0; oc < a.outC; ++oc)
        for (int64_t oh = 0; oh < out_h; ++oh)
          for (int64_t ow = 0; ow < out_w; ++ow) {
            for (int64_t ic = 0; ic < a.inC; ++ic)
              for (int64_t kh = 0; kh < a.kH; ++kh)
                for (int64_t kw = 0; kw < a.kW; ++kw) {
                  const int64_t ih = coord(oh, kh, in_h), iw = coord(ow, kw, in_w);
                  if (ih < 0 || iw < 0) continue;
                  ab.term(0, (ic * in_h + ih) * in_w + iw,
                          w[static_cast<size_t>(((oc * a.inC + ic) * a.kH + kh) * a.kW + kw)]);
                }
            ab.bias((oc * out_h + oh) * out_w + ow, b[static_cast<size_t>(oc)]);
            ab.end_row();
          }
      return affine(std::move(ab).finish());
    }
    case OpKind::conv2d_nchw: {  // x (N,C,H,W), constant W (O,C/g,kH,kW) [and b (O)]
      const auto& a = std::get<ir::Conv2dNchwAttrs>(n.attrs);
      for (size_t k = 1; k < n.parents.size(); ++k)
        if (!is_const(n.parents[k])) return unsupported(n, "input-dependent weight or bias");
      const Shape& sx = g.node(n.parents[0]).shape;
      const Shape& sw = g.node(n.parents[1]).shape;
      const std::vector<mpq_class>& w = cval(n.parents[1]);
      const bool has_bias = n.parents.size() == 3;
      const int64_t batch = sx[0], channels = sx[1], in_h = sx[2], in_w = sx[3];
      const int64_t outc = sw[0], group_in = sw[1], k_h = sw[2], k_w = sw[3];
      const int64_t group_out = outc / a.groups, out_h = n.shape[2], out_w = n.shape[3];
      AffineBuilder ab({n.parents[0]}, rows, group_in * k_h * k_w + (has_bias ? 1 : 0));
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t o = 0; o < outc; ++o) {
          const int64_t c0 = (o / group_out) * group_in;
          for (int64_t oh = 0; oh < out_h; ++oh)
            for (int64_t ow = 0; ow < out_w; ++ow) {
              for (int64_t ic = 0; ic < group_in; ++ic)
                for (int64_t kh = 0; kh < k_h; ++kh)
                  for (int64_t kw = 0; kw < k_w; ++kw) {
                    const int64_t ih = oh * a.stride_h - a.pad_top + kh * a.dilation_h;
                    const int64_t iw = ow * a.stride_w - a.pad_left + kw * a.dilation_w;
                    if (ih < 0 || ih >= in_h || iw < 0 || iw >= in_w) continue;  // +0 tap
                    ab.term(0, (((b * channels) + c0 + ic) * in_h + ih) * in_w + iw,
                            w[static_cast<size_t>(((o * group_in + ic) * k_h + kh) * k_w + kw)]);
                  }
              if (has_bias)
                ab.bias(((b * outc + o) * out_h + oh) * out_w + ow,
                        cval(n.parents[2])[static_cast<size_t>(o)]);
              ab.end_row();
            }
        }
      return affine(std::move(ab).finish());
    }
    case OpKind::avg_pool2d:
    case OpKind::avg_pool2d_pad:
    case OpKind::avg_pool2d_nchw: {
      // Weights 1/divisor over the window's real cells. float32: each summand passes through at
      // most kH + kW <= kH kW + kW additions (column sums, then the total), then one division:
      // n = kH kW + kW + 1 bounds it.
      const Shape& sx = g.node(n.parents[0]).shape;
      const bool nchw = n.kind == OpKind::avg_pool2d_nchw;
      int64_t k_h, k_w, sh, sw, pt, pl, pb = 0, pr = 0;
      bool include_pad = true;
      if (nchw) {
        const auto& a = std::get<ir::PoolNchwAttrs>(n.attrs);
        k_h = a.kH, k_w = a.kW, sh = a.stride_h, sw = a.stride_w, pt = a.pad_top, pl = a.pad_left;
        pb = a.pad_bottom, pr = a.pad_right, include_pad = a.count_include_pad;
      } else if (n.kind == OpKind::avg_pool2d) {
        const auto& a = std::get<ir::Pool2dAttrs>(n.attrs);
        k_h = a.kH, k_w = a.kW, sh = sw = a.stride, pt = pl = 0;
      } else {
        const auto& a = std::get<ir::Pool2dPadAttrs>(n.attrs);
        k_h = a.kH, k_w = a.kW, sh = sw = a.stride, pt = pl = a.padding;
      }
      const int64_t in_h = sx[sx.rank() - 2], in_w = sx[sx.rank() - 1];
      const int64_t out_h = n.shape[n.shape.rank() - 2], out_w = n.shape[n.shape.rank() - 1];
      const int64_t planes = rows / (out_h * out_w);
      AffineBuilder ab({n.parents[0]}, rows, k_h * k_w + k_w + 1);
      for (int64_t pl_i = 0; pl_i < planes; ++pl_i)
        for (int64_t oh = 0; oh < out_h; ++oh)
          for (int64_t ow = 0; ow < out_w; ++ow) {
            const int64_t hs = oh * sh - pt, ws = ow * sw - pl;
            int64_t divisor = k_h * k_w;  // v1: always kH kW
            if (nchw)
              divisor = include_pad ? (std::min(hs + k_h, in_h + pb) - hs) *
                                          (std::min(ws + k_w, in_w + pr) - ws)
                                    : (std::min(hs + k_h, in_h) - std::max<int64_t>(hs, 0)) *
                                          (std::min(ws + k_w, in_w) - std::max<int64_t>(ws, 0));
            if (divisor <= 0) return unsupported(n, "a window without input cells");
            for (int64_t kh = 0; kh < k_h; ++kh)
              for (int64_t kw = 0; kw < k_w; ++kw) {
                const int64_t ih = hs + kh, iw = ws + kw;
                if (ih < 0 || ih >= in_h || iw < 0 || iw >= in_w) continue;
                ab.term(0, (pl_i * in_h + ih) * in_w + iw,
                        mpq_class(1, static_cast<unsigned long>(divisor)));
              }
            ab.end_row();
          }
      return affine(std::move(ab).finish());
    }
    case OpKind::max_pool2d:
    case OpKind::max_pool2d_pad:
    case OpKind::max_pool2d_nchw: {
      // The maximum of each window's real cells (exact in both semantics); bounded by its box.
      const Shape& sx = g.node(n.parents[0]).shape;
      int64_t k_h, k_w, sh, sw, pt, pl;
      if (n.kind == OpKind::max_pool2d_nchw) {
        const auto& a = std::get<ir::PoolNchwAttrs>(n.attrs);
        k_h = a.kH, k_w = a.kW, sh = a.stride_h, sw = a.stride_w, pt = a.pad_top, pl = a.pad_left;
      } else if (n.kind == OpKind::max_pool2d) {
        const auto& a = std::get<ir::Pool2dAttrs>(n.attrs);
        k_h = a.kH, k_w = a.kW, sh = sw = a.stride, pt = pl = 0;
      } else {
        const auto& a = std::get<ir::Pool2dPadAttrs>(n.attrs);
        k_h = a.kH, k_w = a.kW, sh = sw = a.stride, pt = pl = a.padding;
      }
      const int64_t in_h = sx[sx.rank() - 2], in_w = sx[sx.rank() - 1];
      const int64_t out_h = n.shape[n.shape.rank() - 2], out_w = n.shape[n.shape.rank() - 1];
      NetNode out;
      out.role = NodeRole::window_max;
      for (int64_t plane = 0; plane < rows / (out_h * out_w); ++plane)
        for (int64_t oh = 0; oh < out_h; ++oh)
          for (int64_t ow = 0; ow < out_w; ++ow) {
            std::vector<int64_t> cells;
            for (int64_t kh = 0; kh < k_h; ++kh)
              for (int64_t kw = 0; kw < k_w; ++kw) {
                const int64_t ih = oh * sh - pt + kh, iw = ow * sw - pl + kw;
                if (ih >= 0 && ih < in_h && iw >= 0 && iw < in_w)
                  cells.push_back((plane * in_h + ih) * in_w + iw);
              }
            if (cells.empty()) return unsupported(n, "a window without input cells");
            out.windows.push_back(std::move(cells));
          }
      return out;
    }
    case OpKind::matmul: {
      const bool a_const = is_const(n.parents[0]);
      const Shape& sa = g.node(n.parents[0]).shape;
      const Shape& sb = g.node(n.parents[1]).shape;
      const bool batched = sa.rank() == 3;
      const int64_t batch = batched ? sa[0] : 1, m = sa[batched ? 1 : 0],
                    k_dim = sa[batched ? 2 : 1], q = sb[batched ? 2 : 1];
      const std::vector<mpq_class>& c = cval(n.parents[a_const ? 0 : 1]);
      AffineBuilder ab({n.parents[a_const ? 1 : 0]}, rows, k_dim);
      for (int64_t bt = 0; bt < batch; ++bt)
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < q; ++j) {
            for (int64_t k = 0; k < k_dim; ++k) {
              const int64_t ia = bt * m * k_dim + i * k_dim + k, ib = bt * k_dim * q + k * q + j;
              if (a_const)
                ab.term(0, ib, c[static_cast<size_t>(ia)]);
              else
                ab.term(0, ia, c[static_cast<size_t>(ib)]);
            }
            ab.end_row();
          }
      return affine(std::move(ab).finish());
    }
    case OpKind::add:
    case OpKind::sub: {
      const mpq_class sign_b = n.kind == OpKind::add ? 1 : -1;
      const int64_t a = n.parents[0], b = n.parents[1];
      if (g.node(a).shape != n.shape || g.node(b).shape != n.shape)
        return unsupported(n, "broadcasting operands");
      if (!is_const(a) && !is_const(b)) {
        AffineBuilder ab({a, b}, rows, 1);
        for (int64_t i = 0; i < rows; ++i) {
          ab.term(0, i, 1);
          ab.term(1, i, sign_b);
          ab.end_row();
        }
        return affine(std::move(ab).finish());
      }
      const bool a_dep = !is_const(a);
      AffineBuilder ab({a_dep ? a : b}, rows, 1);
      const std::vector<mpq_class>& c = cval(a_dep ? b : a);
      for (int64_t i = 0; i < rows; ++i) {
        ab.term(0, i, a_dep ? mpq_class(1) : sign_b);
        ab.bias(i,
                a_dep ? mpq_class(sign_b * c[static_cast<size_t>(i)]) : c[static_cast<size_t>(i)]);
        ab.end_row();
      }
      return affine(std::move(ab).finish());
    }
    case OpKind::mul_elem: {
      const int64_t a = n.parents[0], b = n.parents[1];
      if (!is_const(a) && !is_const(b))
        return unsupported(n, "product of two input-dependent tensors");
      if (g.node(a).shape != n.shape || g.node(b).shape != n.shape)
        return unsupported(n, "broadcasting operands");
      const bool a_dep = !is_const(a);
      const std::vector<mpq_class>& c = cval(a_dep ? b : a);
      AffineBuilder ab({a_dep ? a : b}, rows, 1);
      for (int64_t i = 0; i < rows; ++i) {
        ab.term(0, i, c[static_cast<size_t>(i)]);
        ab.end_row();
      }
      return affine(std::move(ab).finish());
    }
    case OpKind::neg:
    case OpKind::reshape:
    case OpKind::flatten:
    case OpKind::detach: {
      AffineBuilder ab({n.parents[0]}, rows, 0);
      for (int64_t i = 0; i < rows; ++i) {
        ab.term(0, i, n.kind == OpKind::neg ? -1 : 1);
        ab.end_row();
      }
      return affine(std::move(ab).finish());
    }
    case OpKind::permute: {
      const auto& perm = std::get<ir::PermuteAttrs>(n.attrs).perm;
      const std::vector<int64_t> in_strides = g.node(n.parents[0]).shape.strides();
      AffineBuilder ab({n.parents[0]}, rows, 0);
      const auto& dims = n.shape.dims();
      for (int64_t o = 0; o < rows; ++o) {
        int64_t rem = o, src = 0;
        for (int64_t d = n.shape.rank() - 1; d >= 0; --d) {
          const int64_t idx = rem % dims[static_cast<size_t>(d)];
          rem /= dims[static_cast<size_t>(d)];
          src += idx * in_strides[static_cast<size_t>(perm[static_cast<size_t>(d)])];
        }
        ab.term(0, src, 1);
        ab.end_row();
      }
      return affine(std::move(ab).finish());
    }
    case OpKind::relu:
    case OpKind::leaky_relu: {
      NetNode out;
      out.role = NodeRole::relu;
      if (n.kind == OpKind::leaky_relu) {
        const double a = std::get<ir::LeakyReluAttrs>(n.attrs).alpha;
        if (f32) return unsupported(n, "leaky_relu rounds in float32 semantics");
        if (!(a >= 0 && a <= 1)) return unsupported(n, "negative slope outside [0,1]");
        out.leak = exact_of(a);
      }
      return out;
    }
    case OpKind::sigmoid:
    case OpKind::tanh:
    case OpKind::exp: {
      if (f32) return unsupported(n, "only in real semantics");
      NetNode out;
      out.role = NodeRole::monotone;
      return out;
    }
    default:
      return unsupported(n, "");
  }
}

}  // namespace

Net prepare_net(const ir::Graph& g, const ir::Payload& p, CertSemantics semantics) {
  ir::check_graph(g);
  ir::check_payload(g, p);
  TL_USER_CHECK(g.input_ids.size() == 1 && g.output_ids.size() == 1,
                "check-cert: the model must have one input and one output, it has " +
                    std::to_string(g.input_ids.size()) + " and " +
                    std::to_string(g.output_ids.size()));
  Net net;
  net.graph = &g;
  net.semantics = semantics;
  net.input = g.input_ids[0];
  net.output = g.output_ids[0];
  Folded folded =
      semantics == CertSemantics::real ? fold_constants<Exact>(g, p) : fold_constants<F32>(g, p);
  const auto& consts = folded.value;
  for (const ir::Node& n : g.nodes) {
    if (n.id == net.input) {
      NetNode in;
      in.role = NodeRole::input;
      net.nodes.push_back(std::move(in));
    } else if (n.kind == OpKind::input) {
      net.nodes.push_back(unsupported(n, "a second input"));
    } else if (folded.constant[static_cast<size_t>(n.id)] && !consts[static_cast<size_t>(n.id)]) {
      net.nodes.push_back(unsupported(n, "its constant value is not an exact finite rational"));
    } else if (consts[static_cast<size_t>(n.id)]) {
      NetNode c;
      c.role = NodeRole::constant;
      c.value = *consts[static_cast<size_t>(n.id)];
      net.nodes.push_back(std::move(c));
    } else {
      bool parents_ok = true;
      for (int64_t q : n.parents)
        if (!consts[static_cast<size_t>(q)] &&
            net.nodes[static_cast<size_t>(q)].role == NodeRole::unsupported)
          parents_ok = false;
      net.nodes.push_back(parents_ok ? classify(g, p, n, consts, semantics)
                                     : unsupported(n, "after an unsupported node"));
    }
  }
  return net;
}

}  // namespace torchlean::cert
