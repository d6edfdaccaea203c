// Elementwise kernels (runtime/elementwise.hpp) against the reference evaluator, bit for bit, on
// every instruction-set path, for binary32 and binary64, on random shapes (tails of every length)
// with NaN, +-0, +-inf, subnormals and huge values: unary and binary ops, broadcast scalars, log's
// domain error (index and value as the reference's message), fast variants inside their declared
// bound, fused chains against the same ops evaluated node by node, and malformed chains.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kernel_test_util.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/runtime/elementwise.hpp"

namespace torchlean::runtime {
namespace {

using testing::bits_of;
using testing::for_each_isa;
using testing::reference_op;
using testing::Values;

constexpr ir::OpKind kUnaryKinds[] = {
    ir::OpKind::detach, ir::OpKind::relu, ir::OpKind::abs, ir::OpKind::sqrt,
    ir::OpKind::inv,    ir::OpKind::exp,  ir::OpKind::log, ir::OpKind::tanh,
    ir::OpKind::sigmoid, ir::OpKind::sin, ir::OpKind::cos, ir::OpKind::neg,
    ir::OpKind::erf};
constexpr ir::OpKind kBinaryKinds[] = {ir::OpKind::add,      ir::OpKind::sub,
                                       ir::OpKind::mul_elem, ir::OpKind::max_elem,
                                       ir::OpKind::min_elem, ir::OpKind::div};

bool is_elementary(ir::OpKind k) {
  return k == ir::OpKind::exp || k == ir::OpKind::log || k == ir::OpKind::tanh ||
         k == ir::OpKind::sigmoid || k == ir::OpKind::sin || k == ir::OpKind::cos ||
         k == ir::OpKind::erf;
}

// Element count for a test array: binary64 elementary functions run MPFR per element, keep them
// short.
template <class T>
int64_t size_budget(ir::OpKind k) {
  return std::is_same_v<T, double> && is_elementary(k) ? 40 : 600;
}

// log's inputs without domain errors: |x| (NaN stays), zeros moved to 1.
template <class T>
void make_positive(std::vector<T>& v) {
  for (T& x : v) {
    x = std::fabs(x);
    if (x == 0) x = T(1);
  }
}

template <class T>
void unary_matches_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(101);
    for (ir::OpKind kind : kUnaryKinds) {
      const UnaryOp op = *unary_op_of(kind);
      for (int trial = 0; trial < 6; ++trial) {
        const int64_t n = gen.below(size_budget<T>(kind));
        std::vector<T> x = gen.vec(n);
        if (kind == ir::OpKind::log) make_positive(x);
        const Shape shape{n};
        const std::vector<T> want = reference_op<T>(kind, ir::NoAttrs{}, {{shape, x}}, shape);
        std::vector<T> got(static_cast<size_t>(n));
        ElementwiseError err;
        unary_exact(op, x.data(), got.data(), n, &err);
        EXPECT_FALSE(err.failed());
        EXPECT_SAME_BITS(got, want, std::string(unary_op_name(op)) + " n=" + std::to_string(n));
        // In place.
        unary_exact(op, x.data(), x.data(), n);
        EXPECT_SAME_BITS(x, want, std::string(unary_op_name(op)) + " in place");
      }
    }
  });
}
TEST(Elementwise, UnaryMatchesReferenceF32) { unary_matches_reference<float>(); }
TEST(Elementwise, UnaryMatchesReferenceF64) { unary_matches_reference<double>(); }

// The index and value of the first non-positive log argument, as the reference's EvalError says.
template <class T>
void log_error_matches_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(202, 0.05);
    for (int trial = 0; trial < 20; ++trial) {
      const int64_t n = 1 + gen.below(300);
      std::vector<T> x = gen.vec(n);
      make_positive(x);
      const int64_t bad = gen.below(n);
      const T bad_values[] = {T(0), -T(0), T(-2.5), -std::numeric_limits<T>::infinity(),
                              -std::numeric_limits<T>::denorm_min()};
      x[static_cast<size_t>(bad)] = bad_values[trial % 5];
      if (trial % 3 == 0 && bad + 1 < n) x[static_cast<size_t>(n - 1)] = T(-1);  // a later one too
      std::string message;
      try {
        reference_op<T>(ir::OpKind::log, ir::NoAttrs{}, {{Shape{n}, x}}, Shape{n});
      } catch (const EvalError& e) {
        message = e.what();
      }
      // "... argument at index I is V, not positive"
      const size_t at = message.find("index "), is = message.find(" is ", at),
                   end = message.find(", not positive", is);
      ASSERT_TRUE(at != std::string::npos && is != std::string::npos && end != std::string::npos)
          << message;
      const std::string index_text = message.substr(at + 6, is - at - 6);
      const std::string value_text = message.substr(is + 4, end - is - 4);
      std::vector<T> y(static_cast<size_t>(n));
      ElementwiseError err;
      unary_exact(UnaryOp::log, x.data(), y.data(), n, &err);
      ASSERT_TRUE(err.failed());
      EXPECT_EQ(err.step, 0);
      EXPECT_EQ(std::to_string(err.index), index_text);
      EXPECT_EQ(to_string(testing::Domain<T>::of(static_cast<T>(err.value))), value_text);
      // The fast variant reports the same error.
      ElementwiseError fast_err;
      unary_fast(UnaryOp::log, x.data(), y.data(), n, &fast_err);
      EXPECT_EQ(fast_err.index, err.index);
    }
  });
}
TEST(Elementwise, LogErrorMatchesReferenceF32) { log_error_matches_reference<float>(); }
TEST(Elementwise, LogErrorMatchesReferenceF64) { log_error_matches_reference<double>(); }

template <class T>
void binary_matches_reference() {
  for_each_isa([](Isa) {
    Values<T> gen(303);
    for (ir::OpKind kind : kBinaryKinds) {
      const BinaryOp op = *binary_op_of(kind);
      for (int trial = 0; trial < 8; ++trial) {
        const int64_t n = gen.below(600);
        std::vector<T> a = gen.vec(n), b = gen.vec(n);
        // Equal operands and signed-zero pairs, in both orders (maximum/minimum's hard cases).
        for (int64_t i = 0; i + 1 < n; i += 7) {
          b[static_cast<size_t>(i)] = a[static_cast<size_t>(i)];
          a[static_cast<size_t>(i + 1)] = (i / 7) % 2 ? T(0) : -T(0);
          b[static_cast<size_t>(i + 1)] = -a[static_cast<size_t>(i + 1)];
        }
        const Shape shape{n};
        const std::string what = std::string(binary_op_name(op)) + " n=" + std::to_string(n);
        const std::vector<T> want = reference_op<T>(kind, ir::NoAttrs{}, {{shape, a}, {shape, b}}, shape);
        std::vector<T> got(static_cast<size_t>(n));
        binary_exact(op, a.data(), b.data(), got.data(), n);
        EXPECT_SAME_BITS(got, want, what);
        // Scalar operands against the same op on a filled array.
        const T s = gen.value();
        const std::vector<T> filled(static_cast<size_t>(n), s);
        const std::vector<T> want_rhs =
            reference_op<T>(kind, ir::NoAttrs{}, {{shape, a}, {shape, filled}}, shape);
        const std::vector<T> want_lhs =
            reference_op<T>(kind, ir::NoAttrs{}, {{shape, filled}, {shape, b}}, shape);
        binary_exact_rhs_scalar(op, a.data(), s, got.data(), n);
        EXPECT_SAME_BITS(got, want_rhs, what + " rhs scalar");
        binary_exact_lhs_scalar(op, s, b.data(), got.data(), n);
        EXPECT_SAME_BITS(got, want_lhs, what + " lhs scalar");
        // In place on the first operand.
        binary_exact(op, a.data(), b.data(), a.data(), n);
        EXPECT_SAME_BITS(a, want, what + " in place");
      }
    }
  });
}
TEST(Elementwise, BinaryMatchesReferenceF32) { binary_matches_reference<float>(); }
TEST(Elementwise, BinaryMatchesReferenceF64) { binary_matches_reference<double>(); }

// div is not an IR op; its reference is the domain's division (ops/normalization.cpp uses it).
template <class T>
void div_is_ieee_division() {
  for_each_isa([](Isa) {
    Values<T> gen(404);
    const int64_t n = 333;
    const std::vector<T> a = gen.vec(n), b = gen.vec(n);
    std::vector<T> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
    for (size_t i = 0; i < want.size(); ++i)
      want[i] = (testing::Domain<T>::of(a[i]) / testing::Domain<T>::of(b[i])).v;
    binary_exact(BinaryOp::div, a.data(), b.data(), got.data(), n);
    EXPECT_SAME_BITS(got, want, "div");
  });
}
TEST(Elementwise, DivIsIeeeDivisionF32) { div_is_ieee_division<float>(); }
TEST(Elementwise, DivIsIeeeDivisionF64) { div_is_ieee_division<double>(); }

// Values fixed by IEEE 754-2019 and the spec, asserted literally (not through the reference).
TEST(Elementwise, MaximumMinimumReluAndNaNsLiterally) {
  for_each_isa([](Isa) {
    const float nan_payload = std::bit_cast<float>(0xffc01234u);  // negative, with a payload
    const std::vector<float> a = {-0.0f, 0.0f, 1.0f, nan_payload, 2.0f, -3.0f, -0.0f, 5.0f};
    const std::vector<float> b = {0.0f, -0.0f, nan_payload, 1.0f, 2.0f, -3.0f, -0.0f, -5.0f};
    std::vector<float> mx(a.size()), mn(a.size()), r(a.size());
    binary_exact(BinaryOp::maximum, a.data(), b.data(), mx.data(), 8);
    binary_exact(BinaryOp::minimum, a.data(), b.data(), mn.data(), 8);
    EXPECT_EQ(bits_of(mx[0]), 0u);
    EXPECT_EQ(bits_of(mx[1]), 0u);
    EXPECT_EQ(bits_of(mn[0]), 0x80000000u);
    EXPECT_EQ(bits_of(mn[1]), 0x80000000u);
    EXPECT_EQ(bits_of(mx[2]), 0x7fc00000u);
    EXPECT_EQ(bits_of(mx[3]), 0x7fc00000u);
    EXPECT_EQ(bits_of(mn[2]), 0x7fc00000u);
    EXPECT_EQ(mx[4], 2.0f);
    EXPECT_EQ(bits_of(mx[6]), 0x80000000u);
    EXPECT_EQ(mx[7], 5.0f);
    EXPECT_EQ(mn[7], -5.0f);
    unary_exact(UnaryOp::relu, a.data(), r.data(), 8);
    EXPECT_EQ(bits_of(r[0]), 0u);  // relu(-0) = +0
    EXPECT_EQ(bits_of(r[3]), 0x7fc00000u);
    EXPECT_EQ(r[5], 0.0f);
    unary_exact(UnaryOp::sqrt, a.data(), r.data(), 8);
    EXPECT_EQ(bits_of(r[0]), 0u);  // sqrt(-0) clamps to +0
    EXPECT_EQ(r[5], 0.0f);
    EXPECT_EQ(bits_of(r[3]), 0x7fc00000u);
    unary_exact(UnaryOp::inv, a.data(), r.data(), 8);
    EXPECT_EQ(r[0], -std::numeric_limits<float>::infinity());
    EXPECT_EQ(r[1], std::numeric_limits<float>::infinity());
    unary_exact(UnaryOp::abs, a.data(), r.data(), 8);
    EXPECT_EQ(bits_of(r[3]), 0x7fc00000u);
    // copy (detach) keeps the bits, payload included.
    unary_exact(UnaryOp::copy, a.data(), r.data(), 8);
    EXPECT_EQ(bits_of(r[3]), 0xffc01234u);
    // inf - inf is the hardware's negative default NaN: canonicalised.
    const float inf = std::numeric_limits<float>::infinity();
    float d;
    binary_exact(BinaryOp::sub, &inf, &inf, &d, 1);
    EXPECT_EQ(bits_of(d), 0x7fc00000u);
    // neg flips the sign of zeros too; a NaN becomes the canonical one.
    unary_exact(UnaryOp::neg, a.data(), r.data(), 8);
    EXPECT_EQ(bits_of(r[0]), 0u);
    EXPECT_EQ(bits_of(r[1]), 0x80000000u);
    EXPECT_EQ(bits_of(r[3]), 0x7fc00000u);
    EXPECT_EQ(r[5], 3.0f);
  });
}

// A broadcast scalar -0 keeps its sign: 2 * -0 = -0 and -0 + -0 = -0 (batch norm's gamma and
// beta are such scalars; a splat that added +0 once turned them into +0).
TEST(Elementwise, ScalarOperandKeepsNegativeZero) {
  for_each_isa([](Isa) {
    const std::vector<float> x(37, 2.0f);
    std::vector<float> y(x.size());
    binary_exact_rhs_scalar(BinaryOp::mul, x.data(), -0.0f, y.data(), 37);
    for (float v : y) ASSERT_EQ(bits_of(v), 0x80000000u);
    binary_exact_lhs_scalar(BinaryOp::add, -0.0f, y.data(), y.data(), 37);
    for (float v : y) ASSERT_EQ(bits_of(v), 0x80000000u);
    const std::vector<double> xd(37, -0.0);
    std::vector<double> yd(xd.size());
    binary_exact_rhs_scalar(BinaryOp::add, xd.data(), -0.0, yd.data(), 37);
    for (double v : yd) ASSERT_EQ(bits_of(v), 0x8000000000000000ull);
  });
}

// Every op except copy turns any NaN input into the canonical NaN.
template <class T>
void nan_inputs_are_canonicalised() {
  for_each_isa([](Isa) {
    using B = testing::BitsOf<T>;
    const B payloads[] = {sizeof(T) == 4 ? B(0xffc00001u) : B(0xfff8000000000001ull),
                          sizeof(T) == 4 ? B(0x7fa00000u) : B(0x7ff4000000000000ull)};
    std::vector<T> x(37);
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::bit_cast<T>(payloads[i % 2]);
    std::vector<T> y(x.size());
    for (ir::OpKind kind : kUnaryKinds) {
      const UnaryOp op = *unary_op_of(kind);
      if (op == UnaryOp::copy) continue;
      const int64_t n = std::is_same_v<T, double> && is_elementary(kind) ? 5 : 37;
      unary_exact(op, x.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_TRUE(testing::canonical(y[static_cast<size_t>(i)]) && std::isnan(y[static_cast<size_t>(i)]))
            << unary_op_name(op);
      unary_fast(op, x.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(testing::canonical(y[static_cast<size_t>(i)]));
    }
    const std::vector<T> ones(x.size(), T(1));
    for (int k = 0; k < kNumBinaryOps; ++k) {
      binary_exact(static_cast<BinaryOp>(k), x.data(), ones.data(), y.data(), 37);
      for (T v : y) ASSERT_TRUE(testing::canonical(v) && std::isnan(v)) << k;
      binary_exact_lhs_scalar(static_cast<BinaryOp>(k), T(1), x.data(), y.data(), 37);
      for (T v : y) ASSERT_TRUE(testing::canonical(v) && std::isnan(v)) << k;
    }
  });
}
TEST(Elementwise, NaNInputsAreCanonicalisedF32) { nan_inputs_are_canonicalised<float>(); }
TEST(Elementwise, NaNInputsAreCanonicalisedF64) { nan_inputs_are_canonicalised<double>(); }

// Fast elementary functions stay within unary_fast_bound of the reference, element by element;
// a result moved just outside the bound is rejected by the same comparison.
template <class T>
void fast_within_bound() {
  for_each_isa([](Isa) {
    Values<T> gen(505, 0.1);
    for (ir::OpKind kind : kUnaryKinds) {
      const UnaryOp op = *unary_op_of(kind);
      const int64_t n = std::is_same_v<T, double> && is_elementary(kind) ? 60 : 4000;
      std::vector<T> x = gen.vec(n);
      if (kind == ir::OpKind::log) make_positive(x);
      const std::vector<T> want = reference_op<T>(kind, ir::NoAttrs{}, {{Shape{n}, x}}, Shape{n});
      std::vector<T> got(static_cast<size_t>(n));
      unary_fast(op, x.data(), got.data(), n);
      for (size_t i = 0; i < got.size(); ++i) {
        const double bound = unary_fast_bound(op, want[i]);
        if (bound == 0) {
          ASSERT_EQ(bits_of(got[i]), bits_of(want[i])) << unary_op_name(op) << "(" << x[i] << ")";
          continue;
        }
        ASSERT_LE(std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i])), bound)
            << unary_op_name(op) << "(" << x[i] << ")";
        // Perturbed by twice the bound: outside.
        const double perturbed = static_cast<double>(want[i]) + 2 * bound;
        ASSERT_GT(std::fabs(perturbed - static_cast<double>(want[i])), bound);
      }
    }
  });
}
TEST(Elementwise, FastWithinDeclaredBoundF32) { fast_within_bound<float>(); }
TEST(Elementwise, FastWithinDeclaredBoundF64) { fast_within_bound<double>(); }

TEST(Elementwise, OpMappingCoversEveryElementwiseIrOp) {
  for (ir::OpKind k : kUnaryKinds) EXPECT_TRUE(unary_op_of(k).has_value());
  for (ir::OpKind k : kBinaryKinds) EXPECT_TRUE(binary_op_of(k).has_value());
  EXPECT_FALSE(unary_op_of(ir::OpKind::softmax).has_value());
  EXPECT_FALSE(binary_op_of(ir::OpKind::matmul).has_value());
  EXPECT_TRUE(unary_has_fast_variant(UnaryOp::tanh));
  EXPECT_FALSE(unary_has_fast_variant(UnaryOp::relu));
}

// ---- chains -----------------------------------------------------------------------------------

// A random chain over `n_arrays` arrays and `n_scalars` scalars, and the same computation as an
// IR graph (scalars become filled inputs), evaluated node by node by the reference.
template <class T>
struct RandomChain {
  ElementwiseChain chain;
  ir::Graph graph;
};

template <class T>
RandomChain<T> random_chain(Values<T>& gen, int n_arrays, int n_scalars, const Shape& shape,
                            bool allow_log) {
  RandomChain<T> rc;
  ir::Graph& g = rc.graph;
  std::vector<int64_t> array_nodes, scalar_nodes;
  for (int i = 0; i < n_arrays; ++i) array_nodes.push_back(g.add(ir::OpKind::input, {}, ir::NoAttrs{}, shape));
  for (int i = 0; i < n_scalars; ++i) scalar_nodes.push_back(g.add(ir::OpKind::input, {}, ir::NoAttrs{}, shape));
  g.input_ids = array_nodes;
  g.input_ids.insert(g.input_ids.end(), scalar_nodes.begin(), scalar_nodes.end());
  auto pick = [&](bool allow_value, int64_t value_node, ChainOperand* o) -> int64_t {
    const int64_t r = gen.below(allow_value ? 4 : 3);
    if (allow_value && r >= 2) {
      *o = ChainOperand::value();
      return value_node;
    }
    if (n_scalars > 0 && r == 1) {
      const int i = static_cast<int>(gen.below(n_scalars));
      *o = ChainOperand::scalar(static_cast<uint8_t>(i));
      return scalar_nodes[static_cast<size_t>(i)];
    }
    const int i = static_cast<int>(gen.below(n_arrays));
    *o = ChainOperand::array(static_cast<uint8_t>(i));
    return array_nodes[static_cast<size_t>(i)];
  };
  const int length = 1 + static_cast<int>(gen.below(8));
  int64_t value = -1;
  for (int s = 0; s < length; ++s) {
    ChainStep st;
    int64_t node;
    if (gen.below(2) == 0) {
      ir::OpKind kind = kUnaryKinds[gen.below(std::size(kUnaryKinds))];
      if (!allow_log && kind == ir::OpKind::log) kind = ir::OpKind::abs;
      ChainOperand x;
      const int64_t p = s == 0 ? pick(false, -1, &x) : (x = ChainOperand::value(), value);
      st = ChainStep::of(*unary_op_of(kind), x);
      node = g.add(kind, {p}, ir::NoAttrs{}, shape);
    } else {
      const ir::OpKind kind = kBinaryKinds[gen.below(std::size(kBinaryKinds))];
      ChainOperand a, b;
      int64_t pa, pb;
      if (s > 0 && gen.below(2) == 0) {  // the value on one side, as the compiler's chains do
        a = ChainOperand::value();
        pa = value;
        pb = pick(false, -1, &b);
        if (gen.below(2) == 0) {
          std::swap(a, b);
          std::swap(pa, pb);
        }
      } else {
        pa = pick(s > 0, value, &a);
        pb = pick(s > 0, value, &b);
      }
      st = ChainStep::of(*binary_op_of(kind), a, b);
      node = g.add(kind, {pa, pb}, ir::NoAttrs{}, shape);
    }
    rc.chain.then(st);
    value = node;
  }
  g.output_ids = {value};
  return rc;
}

template <class T>
void chains_match_node_by_node() {
  for_each_isa([](Isa) {
    Values<T> gen(606);
    for (int trial = 0; trial < 60; ++trial) {
      const bool wide = std::is_same_v<T, float>;
      const int64_t n = trial % 10 == 0 && wide ? 700 + gen.below(200) : gen.below(wide ? 300 : 30);
      const Shape shape{n};
      const int n_arrays = 1 + static_cast<int>(gen.below(3));
      const int n_scalars = static_cast<int>(gen.below(3));
      RandomChain<T> rc = random_chain<T>(gen, n_arrays, n_scalars, shape, false);
      check_chain(rc.chain, n_arrays, n_scalars);
      std::vector<std::vector<T>> arrays;
      std::vector<T> scalars;
      std::vector<Tensor<testing::Domain<T>>> inputs;
      for (int i = 0; i < n_arrays; ++i) arrays.push_back(gen.vec(n));
      for (int i = 0; i < n_scalars; ++i) scalars.push_back(gen.value());
      auto to_tensor = [&](const std::vector<T>& v) {
        std::vector<testing::Domain<T>> d;
        for (T x : v) d.push_back(testing::Domain<T>::of(x));
        return Tensor<testing::Domain<T>>(shape, std::move(d));
      };
      for (const auto& a : arrays) inputs.push_back(to_tensor(a));
      for (T s : scalars) inputs.push_back(to_tensor(std::vector<T>(static_cast<size_t>(n), s)));
      const auto ref = interp::evaluate_outputs<testing::Domain<T>>(rc.graph, {}, inputs);
      std::vector<T> want;
      for (const auto& v : ref[0].vec()) want.push_back(v.v);
      std::vector<const T*> ptrs;
      for (const auto& a : arrays) ptrs.push_back(a.data());
      std::vector<T> got(static_cast<size_t>(n));
      ElementwiseError err;
      chain_run(rc.chain, ptrs.data(), scalars.data(), got.data(), n, &err);
      EXPECT_FALSE(err.failed());
      EXPECT_SAME_BITS(got, want, "chain trial " + std::to_string(trial));
      // In place over array 0.
      std::vector<T> a0 = arrays[0];
      ptrs[0] = a0.data();
      chain_run(rc.chain, ptrs.data(), scalars.data(), a0.data(), n);
      EXPECT_SAME_BITS(a0, want, "chain in place, trial " + std::to_string(trial));
    }
  });
}
TEST(ElementwiseChain, MatchesNodeByNodeF32) { chains_match_node_by_node<float>(); }
TEST(ElementwiseChain, MatchesNodeByNodeF64) { chains_match_node_by_node<double>(); }

// Two logs in a chain: the error is the first log node's first bad index, as node-by-node
// evaluation reports it, even when the second log fails at an earlier element.
TEST(ElementwiseChain, LogErrorIsTheFirstFailingNodes) {
  for_each_isa([](Isa) {
    const int64_t n = 600;
    std::vector<float> a(n, 2.0f), b(n, 1.0f);
    a[500] = -1.0f;  // step 0: log(a) fails at 500
    b[10] = 5.0f;    // step 2: log(log(a) - b) fails at 10 (log 2 - 5 < 0) and elsewhere
    ElementwiseChain c;
    c.then(ChainStep::of(UnaryOp::log, ChainOperand::array(0)))
        .then(ChainStep::of(BinaryOp::sub, ChainOperand::value(), ChainOperand::array(1)))
        .then(ChainStep::of(UnaryOp::log));
    check_chain(c, 2, 0);
    const float* arrays[] = {a.data(), b.data()};
    std::vector<float> y(n);
    ElementwiseError err;
    chain_run(c, arrays, static_cast<const float*>(nullptr), y.data(), n, &err);
    ASSERT_TRUE(err.failed());
    EXPECT_EQ(err.step, 0);
    EXPECT_EQ(err.index, 500);
    EXPECT_EQ(err.value, -1.0);
    a[500] = 2.0f;
    err = {};
    chain_run(c, arrays, static_cast<const float*>(nullptr), y.data(), n, &err);
    EXPECT_EQ(err.step, 2);
    EXPECT_EQ(err.index, 0);  // log(2) - 1 < 0 everywhere: the first element fails
  });
}

TEST(ElementwiseChain, MalformedChainsAreRejected) {
  ElementwiseChain empty;
  EXPECT_THROW(check_chain(empty, 1, 0), InternalError);
  ElementwiseChain reads_value;
  reads_value.then(ChainStep::of(UnaryOp::relu));
  try {
    check_chain(reads_value, 1, 0);
    ADD_FAILURE() << "no error";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("step 0 (relu) reads the chain value"), std::string::npos)
        << e.what();
  }
  ElementwiseChain bad_array;
  bad_array.then(ChainStep::of(BinaryOp::add, ChainOperand::array(0), ChainOperand::array(3)));
  EXPECT_THROW(check_chain(bad_array, 2, 0), InternalError);
  ElementwiseChain bad_scalar;
  bad_scalar.then(ChainStep::of(UnaryOp::exp, ChainOperand::scalar(1)));
  EXPECT_THROW(check_chain(bad_scalar, 1, 1), InternalError);
  ElementwiseChain full;
  for (int i = 0; i < kMaxChainSteps; ++i) full.then(ChainStep::of(UnaryOp::abs, ChainOperand::array(0)));
  EXPECT_THROW(full.then(ChainStep::of(UnaryOp::abs)), InternalError);
}

// The fast flag switches a chain's elementary functions to their fast variants (and only them).
TEST(ElementwiseChain, FastChainUsesFastElementaryFunctions) {
  Values<float> gen(707, 0.0);
  const int64_t n = 5000;
  const std::vector<float> a = gen.vec(n);
  ElementwiseChain c;
  c.then(ChainStep::of(UnaryOp::tanh, ChainOperand::array(0))).then(ChainStep::of(UnaryOp::relu));
  c.fast = true;
  const float* arrays[] = {a.data()};
  std::vector<float> got(n), want(n);
  chain_run(c, arrays, static_cast<const float*>(nullptr), got.data(), n);
  unary_fast(UnaryOp::tanh, a.data(), want.data(), n);
  unary_exact(UnaryOp::relu, want.data(), want.data(), n);
  EXPECT_SAME_BITS(got, want, "fast chain");
}

}  // namespace
}  // namespace torchlean::runtime
