// Random graph generator (see random_graph.hpp). Shapes stay small (dims 1..4, rarely 0) so a
// graph evaluates in microseconds; every node is validated with ir::infer_shape as it is added.
#include "random_graph.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "runtime_test_util.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::testing {

namespace {

using ir::OpKind;

class Builder {
 public:
  Builder(uint64_t seed, double special) : src_(seed, special) {}

  RandomModel build(int ops) {
    add_input(random_shape(1, 3));
    for (int i = 0; i < ops; ++i) {
      const OpKind k = ir::kOpInfos[static_cast<size_t>(src_.below(ir::kOpCount))].kind;
      add_op(k);
    }
    // The last node and, sometimes, one or two others (possibly an input or a repeat).
    const int64_t last = static_cast<int64_t>(m_.graph.nodes.size()) - 1;
    m_.graph.output_ids.push_back(last);
    for (int extra = static_cast<int>(src_.below(3)); extra > 0; --extra)
      m_.graph.output_ids.push_back(src_.below(last + 1));
    return std::move(m_);
  }

 private:
  ValueSource src_;
  RandomModel m_;

  const Shape& shape(int64_t id) const { return m_.graph.node(id).shape; }
  int64_t dim() { return src_.below(24) == 0 ? 0 : 1 + src_.below(4); }
  int64_t pos_dim() { return 1 + src_.below(4); }
  Shape random_shape(int64_t min_rank, int64_t max_rank) {
    std::vector<int64_t> d(static_cast<size_t>(min_rank + src_.below(max_rank - min_rank + 1)));
    for (int64_t& x : d) x = dim();
    return Shape(std::move(d));
  }
  Tensor<double> random_tensor(const Shape& s) { return Tensor<double>(s, src_.values(s.numel())); }

  int64_t add(OpKind k, std::vector<int64_t> parents, ir::Attrs attrs, Shape declared) {
    ir::Node probe{static_cast<int64_t>(m_.graph.nodes.size()), parents, k, attrs, declared};
    std::vector<Shape> ps;
    for (int64_t p : parents) ps.push_back(shape(p));
    Shape s = ir::infer_shape(probe, ps);  // throws if the generator built something invalid
    return m_.graph.add(k, std::move(parents), std::move(attrs), std::move(s));
  }

  int64_t add_input(const Shape& s) {
    const int64_t id = m_.graph.add(OpKind::input, {}, ir::NoAttrs{}, s);
    m_.graph.input_ids.push_back(id);
    m_.inputs.push_back(random_tensor(s));
    return id;
  }

  int64_t add_const(const Shape& s) {
    const int64_t id = add(OpKind::constant, {}, ir::ConstAttrs{s}, s);
    m_.payload[id].emplace("value", random_tensor(s));
    return id;
  }

  // A fresh value of shape s: an input or a constant.
  int64_t fresh(const Shape& s) { return src_.below(2) ? add_input(s) : add_const(s); }

  // A random existing node satisfying `ok`, or a fresh one of shape `make()`.
  int64_t pick(const std::function<bool(const Shape&)>& ok, const std::function<Shape()>& make) {
    std::vector<int64_t> c;
    for (const ir::Node& n : m_.graph.nodes)
      if (ok(n.shape)) c.push_back(n.id);
    // Prefer recent nodes so graphs grow deep rather than wide.
    if (!c.empty() && src_.below(5) != 0) {
      const int64_t span = std::min<int64_t>(static_cast<int64_t>(c.size()), 4);
      return c[c.size() - 1 - static_cast<size_t>(src_.below(span))];
    }
    return fresh(make());
  }
  int64_t pick_any() {
    return pick([](const Shape&) { return true; }, [&] { return random_shape(0, 3); });
  }
  int64_t pick_rank(int64_t lo, int64_t hi) {
    return pick([=](const Shape& s) { return s.rank() >= lo && s.rank() <= hi; },
                [&] { return random_shape(lo, hi); });
  }
  int64_t pick_same(const Shape& s) {
    return pick([&](const Shape& t) { return t == s; }, [&] { return s; });
  }
  int64_t pick_chw() {
    return pick([](const Shape& s) { return s.rank() == 3 && s[1] > 0 && s[2] > 0; },
                [&] {
                  return Shape{pos_dim(), 1 + src_.below(6), 1 + src_.below(6)};
                });
  }

  void add_op(OpKind k) {
    switch (k) {
      case OpKind::input:
        add_input(random_shape(0, 3));
        return;
      case OpKind::constant:
        add_const(random_shape(0, 3));
        return;
      case OpKind::permute: {
        const int64_t x = pick_rank(1, 4);
        std::vector<int64_t> perm(static_cast<size_t>(shape(x).rank()));
        std::iota(perm.begin(), perm.end(), 0);
        for (size_t i = perm.size(); i > 1; --i)
          std::swap(perm[i - 1], perm[static_cast<size_t>(src_.below(static_cast<int64_t>(i)))]);
        add(k, {x}, ir::PermuteAttrs{perm}, Shape{});
        return;
      }
      case OpKind::rand_uniform: {
        add(k, {}, ir::SeedAttrs{static_cast<int64_t>(src_.next() >> 1)}, random_shape(0, 3));
        return;
      }
      case OpKind::bernoulli_mask: {
        int64_t keep = pick([](const Shape& s) { return s.rank() == 0; }, [] { return Shape{}; });
        add(k, {keep}, ir::SeedAttrs{static_cast<int64_t>(src_.below(1000))}, random_shape(0, 3));
        return;
      }
      case OpKind::add:
      case OpKind::sub:
      case OpKind::mul_elem:
      case OpKind::max_elem:
      case OpKind::min_elem:
      case OpKind::mse_loss: {
        const int64_t a = pick_any();
        const int64_t b = pick_same(shape(a));
        add(k, {a, b}, ir::NoAttrs{}, Shape{});
        return;
      }
      case OpKind::log: {
        // Mostly of a positive value, so the graph goes on; sometimes of anything (EvalError).
        int64_t x = pick_any();
        if (src_.below(4) != 0) x = add(OpKind::exp, {x}, ir::NoAttrs{}, Shape{});
        add(k, {x}, ir::NoAttrs{}, Shape{});
        return;
      }
      case OpKind::detach:
      case OpKind::abs:
      case OpKind::sqrt:
      case OpKind::inv:
      case OpKind::relu:
      case OpKind::tanh:
      case OpKind::sigmoid:
      case OpKind::exp:
      case OpKind::sin:
      case OpKind::cos:
      case OpKind::sum:
        add(k, {pick_any()}, ir::NoAttrs{}, Shape{});
        return;
      case OpKind::max_pool2d:
      case OpKind::avg_pool2d:
      case OpKind::max_pool2d_pad:
      case OpKind::avg_pool2d_pad: {
        const int64_t x = pick_chw();
        const bool pad = k == OpKind::max_pool2d_pad || k == OpKind::avg_pool2d_pad;
        const int64_t p = pad ? src_.below(2) : 0;
        const int64_t kh = 1 + src_.below(std::min<int64_t>(3, shape(x)[1] + 2 * p));
        const int64_t kw = 1 + src_.below(std::min<int64_t>(3, shape(x)[2] + 2 * p));
        const int64_t s = 1 + src_.below(2);
        ir::Attrs a = pad ? ir::Attrs(ir::Pool2dPadAttrs{kh, kw, s, p})
                          : ir::Attrs(ir::Pool2dAttrs{kh, kw, s});
        add(k, {x}, a, Shape{});
        return;
      }
      case OpKind::broadcast_to: {
        const int64_t x = pick_rank(0, 2);
        const Shape& from = shape(x);
        std::vector<int64_t> to;
        for (int64_t d : from.dims()) {
          if (src_.below(3) == 0)
            to.push_back(pos_dim());  // a new axis (or, by the greedy rule, a match)
          to.push_back(d == 1 ? pos_dim() : d);
        }
        for (int64_t extra = src_.below(2); extra > 0; --extra) to.push_back(pos_dim());
        add(k, {x}, ir::BroadcastToAttrs{from, Shape(to)}, Shape{});
        return;
      }
      case OpKind::reduce_sum:
      case OpKind::reduce_mean:
      case OpKind::softmax:
      case OpKind::layernorm: {
        const int64_t x = pick_rank(1, 3);
        add(k, {x}, ir::AxisAttrs{src_.below(shape(x).rank())}, Shape{});
        return;
      }
      case OpKind::matmul: {
        // v1 forms, and the extension's rank-4 batch and shared 2-D right operand.
        const int64_t a = pick_rank(2, 4);
        const Shape sa = shape(a);
        const int64_t r = sa.rank();
        std::vector<int64_t> b(sa.dims().begin(), sa.dims().end() - 2);
        if (r > 2 && src_.below(3) == 0) b.clear();
        b.push_back(sa[r - 1]);
        b.push_back(dim());
        add(k, {a, pick_same(Shape(b))}, ir::NoAttrs{}, Shape{});
        return;
      }
      case OpKind::linear: {
        const int64_t x = pick_rank(1, 3);
        std::vector<int64_t> out = shape(x).dims();
        const int64_t in = out.back();
        out.back() = pos_dim();
        const int64_t id = add(k, {x}, ir::NoAttrs{}, Shape(out));
        m_.payload[id].emplace("weight", random_tensor(Shape{out.back(), in}));
        m_.payload[id].emplace("bias", random_tensor(Shape{out.back()}));
        return;
      }
      case OpKind::conv2d: {
        const int64_t x = pick_chw();
        const Shape& s = shape(x);
        const int64_t p = src_.below(2);
        const int64_t kh = 1 + src_.below(std::min<int64_t>(3, s[1] + 2 * p));
        const int64_t kw = 1 + src_.below(std::min<int64_t>(3, s[2] + 2 * p));
        ir::Conv2dAttrs a{s[0], pos_dim(), kh, kw, 1 + src_.below(2), p};
        const int64_t id = add(k, {x}, a, Shape{});
        m_.payload[id].emplace("weight", random_tensor(Shape{a.outC, a.inC, kh, kw}));
        m_.payload[id].emplace("bias", random_tensor(Shape{a.outC}));
        return;
      }
      case OpKind::batch_norm2d_nchw_eval: {
        const int64_t x = pick(
            [](const Shape& s) {
              return s.rank() == 4 && s[0] > 0 && s[1] > 0 && s[2] > 0 && s[3] > 0;
            },
            [&] {
              return Shape{pos_dim(), pos_dim(), pos_dim(), pos_dim()};
            });
        const int64_t c = shape(x)[1];
        const int64_t id = add(k, {x}, ir::BatchNormAttrs{c}, Shape{});
        for (const char* name : {"gamma", "beta", "mean"})
          m_.payload[id].emplace(name, random_tensor(Shape{c}));
        Tensor<double> var = random_tensor(Shape{c});
        for (double& v : var.vec()) v = src_.below(4) == 0 ? v : std::fabs(v);
        m_.payload[id].emplace("var", std::move(var));
        m_.payload[id].emplace("eps", Tensor<double>(Shape{}, std::vector<double>{1e-5}));
        return;
      }
      case OpKind::reshape: {
        const int64_t x = pick_any();
        const int64_t n = shape(x).numel();
        int64_t d = 1;
        for (int64_t f = 2; f <= n; ++f)
          if (n % f == 0 && src_.below(2) == 0) {
            d = f;
            break;
          }
        add(k, {x}, ir::ReshapeAttrs{shape(x), Shape{d, d == 0 ? 0 : n / d}}, Shape{});
        return;
      }
      case OpKind::flatten: {
        const int64_t x = pick_any();
        add(k, {x}, ir::FlattenAttrs{shape(x)}, Shape{});
        return;
      }
      case OpKind::concat: {
        const int64_t a = pick_rank(1, 3);
        const Shape sa = shape(a);
        const int64_t axis = src_.below(sa.rank());
        std::vector<int64_t> parents{a};
        for (int64_t more = 1 + src_.below(2); more > 0; --more) {
          std::vector<int64_t> d = sa.dims();
          d[static_cast<size_t>(axis)] = dim();
          parents.push_back(pick(
              [&](const Shape& s) {
                if (s.rank() != sa.rank()) return false;
                for (int64_t i = 0; i < s.rank(); ++i)
                  if (i != axis && s[i] != sa[i]) return false;
                return true;
              },
              [&] { return Shape(d); }));
        }
        add(k, parents, ir::AxisAttrs{axis}, Shape{});
        return;
      }
      case OpKind::swap_first_two:
        add(k, {pick_rank(2, 4)}, ir::NoAttrs{}, Shape{});
        return;
      case OpKind::transpose3d_last_two:
        add(k, {pick_rank(3, 3)}, ir::NoAttrs{}, Shape{});
        return;
      default:
        add_extension_op(k);
        return;
    }
  }

  // ---- extension ops ----

  template <class T>
  T one_of(std::initializer_list<T> xs) {
    return xs.begin()[src_.below(static_cast<int64_t>(xs.size()))];
  }

  // A constant holding integers in [lo, hi) (gather indices, class targets).
  int64_t index_const(const Shape& s, int64_t lo, int64_t hi) {
    const int64_t id = add(OpKind::constant, {}, ir::ConstAttrs{s}, s);
    std::vector<double> v(static_cast<size_t>(s.numel()));
    for (double& x : v) x = static_cast<double>(lo + src_.below(std::max<int64_t>(1, hi - lo)));
    m_.payload[id].emplace("value", Tensor<double>(s, std::move(v)));
    return id;
  }
  int64_t pick_positive_rank(int64_t lo, int64_t hi) {
    return pick(
        [=](const Shape& s) {
          if (s.rank() < lo || s.rank() > hi) return false;
          for (int64_t d : s.dims())
            if (d <= 0) return false;
          return true;
        },
        [&] {
          std::vector<int64_t> d(static_cast<size_t>(lo + src_.below(hi - lo + 1)));
          for (int64_t& x : d) x = pos_dim();
          return Shape(std::move(d));
        });
  }
  int64_t pick_nchw() {
    return pick([](const Shape& s) { return s.rank() == 4 && s[1] > 0 && s[2] > 0 && s[3] > 0; },
                [&] {
                  return Shape{1 + src_.below(3), pos_dim(), 1 + src_.below(6), 1 + src_.below(6)};
                });
  }
  ir::PoolNchwAttrs pool_attrs(const Shape& x) {
    ir::PoolNchwAttrs a;
    a.kH = 1 + src_.below(std::min<int64_t>(3, x[2]));
    a.kW = 1 + src_.below(std::min<int64_t>(3, x[3]));
    a.stride_h = 1 + src_.below(2);
    a.stride_w = 1 + src_.below(2);
    a.pad_top = src_.below(a.kH);
    a.pad_bottom = src_.below(a.kH);
    a.pad_left = src_.below(a.kW);
    a.pad_right = src_.below(a.kW);
    a.ceil_mode = src_.below(2) == 0;
    a.count_include_pad = src_.below(2) == 0;
    return a;
  }
  // conv2d_nchw attributes and weight shape for input x, so the output is non-empty.
  std::pair<ir::Conv2dNchwAttrs, Shape> conv_attrs(const Shape& x) {
    ir::Conv2dNchwAttrs a;
    a.groups = x[1] % 2 == 0 && src_.below(2) == 0 ? 2 : 1;
    a.stride_h = 1 + src_.below(2);
    a.stride_w = 1 + src_.below(2);
    a.pad_top = src_.below(2);
    a.pad_left = src_.below(2);
    a.pad_bottom = src_.below(2);
    a.pad_right = src_.below(2);
    a.dilation_h = 1 + src_.below(2);
    a.dilation_w = 1 + src_.below(2);
    auto fit = [&](int64_t in, int64_t pads, int64_t& dil) {
      int64_t k = 1 + src_.below(3);
      while (dil * (k - 1) + 1 > in + pads) {
        if (dil > 1)
          dil = 1;
        else
          --k;
      }
      return k;
    };
    const int64_t kh = fit(x[2], a.pad_top + a.pad_bottom, a.dilation_h);
    const int64_t kw = fit(x[3], a.pad_left + a.pad_right, a.dilation_w);
    return {a, Shape{a.groups * pos_dim(), x[1] / a.groups, kh, kw}};
  }

  void add_extension_op(OpKind k) {
    switch (k) {
      case OpKind::neg:
      case OpKind::erf:
      case OpKind::gelu:
      case OpKind::softplus:
      case OpKind::silu:
        add(k, {pick_any()}, ir::NoAttrs{}, Shape{});
        return;
      case OpKind::div: {
        const int64_t a = pick_any();
        add(k, {a, pick_same(shape(a))}, ir::NoAttrs{}, Shape{});
        return;
      }
      case OpKind::pow_const:
        add(k, {pick_any()}, ir::PowAttrs{one_of({0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, 1.5})},
            Shape{});
        return;
      case OpKind::leaky_relu:
        add(k, {pick_any()}, ir::LeakyReluAttrs{one_of({0.01, 0.2, -1.5})}, Shape{});
        return;
      case OpKind::clamp:
        add(k, {pick_any()},
            ir::ClampAttrs{one_of({-1.0, 0.0, -0.0}), one_of({0.5, 2.0}), src_.below(2) == 0,
                           src_.below(2) == 0},
            Shape{});
        return;
      case OpKind::compare: {
        const int64_t a = pick_any();
        add(k, {a, pick_same(shape(a))},
            ir::CompareAttrs{one_of<std::string>({"lt", "le", "gt", "ge", "eq", "ne"})}, Shape{});
        return;
      }
      case OpKind::where: {
        const int64_t a = pick_any();
        const int64_t b = pick_same(shape(a));
        add(k, {pick_same(shape(a)), a, b}, ir::NoAttrs{}, Shape{});
        return;
      }
      case OpKind::broadcast: {
        const int64_t x = pick_rank(0, 2);
        std::vector<int64_t> to;
        for (int64_t extra = src_.below(3); extra > 0; --extra) to.push_back(pos_dim());
        for (int64_t d : shape(x).dims()) to.push_back(d == 1 ? pos_dim() : d);
        add(k, {x}, ir::BroadcastAttrs{Shape(to)}, Shape{});
        return;
      }
      case OpKind::slice:
      case OpKind::slice_grad: {
        const int64_t x = pick_positive_rank(1, 3);
        const Shape in = shape(x);
        ir::SliceAttrs a;
        for (int64_t d : in.dims()) {
          const int64_t step = one_of<int64_t>({1, 2, -1, -2});
          const int64_t start = src_.below(d);
          a.steps.push_back(step);
          a.starts.push_back(start);
          a.ends.push_back(step > 0 ? start + src_.below(d - start + 1)
                                    : start - src_.below(start + 2));
        }
        const int64_t s = add(OpKind::slice, {x}, a, Shape{});
        if (k == OpKind::slice_grad) add(k, {s}, a, in);
        return;
      }
      case OpKind::pad: {
        const int64_t x = pick_rank(1, 3);
        ir::PadAttrs a;
        for (int64_t i = 0; i < shape(x).rank(); ++i) {
          a.pads_begin.push_back(src_.below(3));
          a.pads_end.push_back(src_.below(3));
        }
        a.value = one_of({0.0, -0.0, 1.5, -std::numeric_limits<double>::infinity()});
        add(k, {x}, a, Shape{});
        return;
      }
      case OpKind::gather:
      case OpKind::gather_grad: {
        const int64_t x = pick_positive_rank(1, 3);
        const Shape data = shape(x);
        const int64_t axis = src_.below(data.rank());
        const Shape idx_shape = src_.below(3) == 0 ? Shape{} : random_shape(1, 2);
        const int64_t d = data[axis];
        const int64_t idx = index_const(idx_shape, -d, d);
        const int64_t gathered = add(OpKind::gather, {x, idx}, ir::GatherAttrs{axis}, Shape{});
        if (k == OpKind::gather_grad) add(k, {idx, gathered}, ir::GatherAttrs{axis}, data);
        return;
      }
      case OpKind::log_softmax: {
        const int64_t x = pick_rank(1, 3);
        add(k, {x}, ir::AxisAttrs{src_.below(shape(x).rank())}, Shape{});
        return;
      }
      case OpKind::cross_entropy: {
        const int64_t x = pick_positive_rank(2, 2);
        add(k, {x, index_const(Shape{shape(x)[0]}, 0, shape(x)[1])}, ir::NoAttrs{}, Shape{});
        return;
      }
      case OpKind::conv2d_nchw:
      case OpKind::conv2d_nchw_grad_input:
      case OpKind::conv2d_nchw_grad_weight: {
        const int64_t x = pick_nchw();
        const Shape xs = shape(x);
        auto [a, ws] = conv_attrs(xs);
        const int64_t w = fresh(ws);
        std::vector<int64_t> parents{x, w};
        if (src_.below(2) == 0) parents.push_back(fresh(Shape{ws[0]}));
        const int64_t y = add(OpKind::conv2d_nchw, parents, a, Shape{});
        if (k == OpKind::conv2d_nchw_grad_input) add(k, {y, w}, a, xs);
        if (k == OpKind::conv2d_nchw_grad_weight) add(k, {x, y}, a, ws);
        return;
      }
      case OpKind::max_pool2d_nchw:
      case OpKind::avg_pool2d_nchw:
      case OpKind::max_pool2d_nchw_grad:
      case OpKind::avg_pool2d_nchw_grad: {
        const int64_t x = pick_nchw();
        const ir::PoolNchwAttrs a = pool_attrs(shape(x));
        const bool avg = k == OpKind::avg_pool2d_nchw || k == OpKind::avg_pool2d_nchw_grad;
        const int64_t y =
            add(avg ? OpKind::avg_pool2d_nchw : OpKind::max_pool2d_nchw, {x}, a, Shape{});
        if (k == OpKind::max_pool2d_nchw_grad) add(k, {x, y}, a, shape(x));
        if (k == OpKind::avg_pool2d_nchw_grad) add(k, {y}, a, shape(x));
        return;
      }
      default:
        throw InternalError("random_graph: no generator for " + std::string(ir::op_name(k)));
    }
  }
};

}  // namespace

RandomModel random_model(uint64_t seed, int ops, double special) {
  return Builder(seed, special).build(ops);
}

}  // namespace torchlean::testing
