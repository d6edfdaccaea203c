// Random graph generator (see random_graph.hpp). Shapes stay small (dims 1..4, rarely 0) so a
// graph evaluates in microseconds; every node is validated with ir::infer_shape as it is added.
#include "random_graph.hpp"

#include <algorithm>
#include <functional>
#include <numeric>

#include "runtime_test_util.hpp"
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
        const int64_t a = pick_rank(2, 3);
        const Shape& sa = shape(a);
        const Shape sb = sa.rank() == 2 ? Shape{sa[1], dim()} : Shape{sa[0], sa[2], dim()};
        add(k, {a, pick_same(sb)}, ir::NoAttrs{}, Shape{});
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
    }
  }
};

}  // namespace

RandomModel random_model(uint64_t seed, int ops, double special) {
  return Builder(seed, special).build(ops);
}

}  // namespace torchlean::testing
