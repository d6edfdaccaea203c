// The extension ops' kernels through the compiler, beyond the op database's samples:
//   - conv2d_nchw and its two gradient ops over groups, dilation, asymmetric padding, per-axis
//     strides, with and without bias, batches that run item-parallel, k across the GEMM's k
//     block, special values (an infinite weight sends grad_input to its direct loop): exact
//     programs are bit-identical to the reference with 1 and 2 threads, fast programs within
//     their bounds;
//   - the compatibility the autodiff rewrite relies on: conv2d_nchw on a reshaped CHW image, the
//     NCHW pools, and matmul(x, W^T) + broadcast(b) give the v1 ops' bits (compiled);
//   - extended matmul (rank-4 batches, a shared 2-D right operand) in both modes;
//   - a fast conv whose output is pushed past its bound is rejected by the checker.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "runtime_test_util.hpp"
#include "test_models.hpp"
#include "torchlean/ir/builder.hpp"

namespace torchlean::testing {
namespace {

using compile::CompileOptions;
using runtime::KernelMode;

struct Built {
  ir::Graph graph;
  ir::Payload payload;
  std::vector<Tensor<double>> inputs;
};

Tensor<double> random_tensor(ValueSource& src, const Shape& s) {
  return Tensor<double>(s, src.values(s.numel()));
}

template <class T>
runtime::CheckReport check(const Built& b, KernelMode mode, int threads) {
  const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(b.payload);
  runtime::Program<T> prog = compile::compile<T>(
      b.graph, p, CompileOptions{mode, true, true, threads, 0, compile::FastVariants::all});
  return runtime::check_equivalence(prog, to_elem<T>(b.inputs));
}

// Exact programs with 1 and 2 threads (item-parallel and tile-parallel conv), fast with 1.
void expect_checked(const Built& b, const std::string& what) {
  for (KernelMode mode : {KernelMode::exact, KernelMode::fast})
    for (int threads = 1; threads <= (mode == KernelMode::exact ? 2 : 1); ++threads) {
      const std::string label = what + " " + std::string(runtime::mode_name(mode)) + " threads " +
                                std::to_string(threads);
      runtime::CheckReport r32 = check<float>(b, mode, threads);
      EXPECT_TRUE(r32.ok) << label << " f32: " << r32.text();
      runtime::CheckReport r64 = check<double>(b, mode, threads);
      EXPECT_TRUE(r64.ok) << label << " f64: " << r64.text();
    }
}

template <class T>
std::vector<Tensor<T>> run(const Built& b, int threads) {
  const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(b.payload);
  runtime::Program<T> prog =
      compile::compile<T>(b.graph, p, CompileOptions{KernelMode::exact, true, true, threads});
  return prog.run(to_elem<T>(b.inputs));
}

template <class T>
void expect_same_bits(const std::vector<Tensor<T>>& a, const std::vector<Tensor<T>>& b,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].numel(), b[k].numel()) << what;
    for (int64_t e = 0; e < a[k].numel(); ++e)
      ASSERT_TRUE(same_bits(a[k][e], b[k][e])) << what << " output " << k << "[" << e << "]";
  }
}

struct ConvCase {
  Shape x, w;
  ir::Conv2dNchwAttrs a;
  bool bias;
};

ir::Conv2dNchwAttrs conv_attrs(int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t pb,
                               int64_t pr, int64_t dh, int64_t dw, int64_t groups) {
  ir::Conv2dNchwAttrs a;
  a.stride_h = sh;
  a.stride_w = sw;
  a.pad_top = pt;
  a.pad_left = pl;
  a.pad_bottom = pb;
  a.pad_right = pr;
  a.dilation_h = dh;
  a.dilation_w = dw;
  a.groups = groups;
  return a;
}

// conv2d_nchw(x, w[, b]) and, for an output gradient g (a second input), its two gradient ops.
Built conv_graph(const ConvCase& c, uint64_t seed, double special) {
  ValueSource src(seed, special);
  ir::GraphBuilder b;
  const int64_t x = b.input(c.x);
  const int64_t w = b.constant(random_tensor(src, c.w));
  std::vector<int64_t> parents{x, w};
  if (c.bias) parents.push_back(b.constant(random_tensor(src, Shape{c.w[0]})));
  const int64_t y = b.add(ir::OpKind::conv2d_nchw, parents, c.a);
  b.mark_output(y);
  const int64_t g = b.input(b.shape(y));
  b.mark_output(b.add(ir::OpKind::conv2d_nchw_grad_input, {g, w}, c.a, c.x));
  b.mark_output(b.add(ir::OpKind::conv2d_nchw_grad_weight, {x, g}, c.a, c.w));
  Built out;
  std::tie(out.graph, out.payload) = std::move(b).finish();
  out.inputs.push_back(random_tensor(src, c.x));
  out.inputs.push_back(random_tensor(src, out.graph.node(g).shape));
  return out;
}

TEST(ConvNchw, ExactBitIdenticalAndFastWithinBound) {
  const ConvCase cases[] = {
      {Shape{1, 3, 8, 7}, Shape{4, 3, 3, 3}, conv_attrs(1, 1, 1, 1, 1, 1, 1, 1, 1), true},
      {Shape{3, 4, 9, 9}, Shape{6, 2, 3, 3}, conv_attrs(2, 1, 0, 1, 2, 0, 1, 1, 2), true},
      {Shape{2, 6, 10, 8}, Shape{6, 1, 3, 2}, conv_attrs(1, 2, 2, 1, 0, 1, 2, 3, 6), false},
      {Shape{2, 4, 6, 6}, Shape{8, 4, 1, 1}, conv_attrs(1, 1, 0, 0, 0, 0, 1, 1, 1), true},
      {Shape{2, 4, 6, 6}, Shape{4, 2, 1, 1}, conv_attrs(1, 1, 0, 0, 0, 0, 1, 1, 2), false},
      {Shape{1, 32, 6, 6}, Shape{5, 32, 3, 3}, conv_attrs(1, 1, 1, 1, 1, 1, 1, 1, 1), true},
      {Shape{4, 2, 5, 5}, Shape{3, 2, 2, 2}, conv_attrs(3, 2, 1, 0, 1, 1, 2, 1, 1), true},
      {Shape{2, 3, 4, 4}, Shape{0, 3, 3, 3}, conv_attrs(1, 1, 1, 1, 1, 1, 1, 1, 1), true},
  };
  int i = 0;
  for (const ConvCase& c : cases) {
    for (double special : {0.0, 0.1}) {
      const Built b = conv_graph(c, 100 + i, special);
      expect_checked(b, "case " + std::to_string(i) + " special " + std::to_string(special));
    }
    ++i;
  }
}

// An infinite weight in one group only: that group's grad_input runs the direct loop (skipped taps,
// no +0 * inf), the other the GEMM; both must give the reference's bits.
TEST(ConvNchw, GradInputWithANonFiniteWeight) {
  const ConvCase c{Shape{2, 4, 5, 5}, Shape{4, 2, 3, 3}, conv_attrs(2, 1, 1, 0, 1, 1, 1, 2, 2),
                   false};
  for (double bad :
       {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    Built b = conv_graph(c, 5, 0.0);
    for (auto& [id, slots] : b.payload)
      if (slots.at("value").shape() == c.w) slots.at("value")[4] = bad;
    expect_checked(b, "non-finite weight");
  }
}

TEST(ConvNchw, ThreadCountDoesNotChangeBitsOnLargerBatches) {
  const ConvCase c{Shape{5, 8, 20, 20}, Shape{16, 4, 3, 3}, conv_attrs(1, 1, 1, 1, 1, 1, 1, 1, 2),
                   true};
  const Built b = conv_graph(c, 7, 0.0);
  expect_same_bits(run<float>(b, 1), run<float>(b, 2), "conv f32");
  expect_same_bits(run<float>(b, 1), run<float>(b, 3), "conv f32 3 threads");
  expect_same_bits(run<double>(b, 1), run<double>(b, 2), "conv f64");
}

// A fast conv's output pushed by one bit past its bound is caught (so the fast check can fail).
TEST(ConvNchw, CheckerRejectsAFastResultOutsideItsBound) {
  const ConvCase c{Shape{2, 3, 6, 6}, Shape{4, 3, 3, 3}, conv_attrs(1, 1, 1, 1, 1, 1, 1, 1, 1),
                   true};
  const Built b = conv_graph(c, 11, 0.0);
  const ir::PayloadStore<float> p = runtime::to_runtime_payload<float>(b.payload);
  runtime::Program<float> prog = compile::compile<float>(
      b.graph, p, CompileOptions{KernelMode::fast, true, true, 1, 0, compile::FastVariants::all});
  ASSERT_EQ(prog.code().instrs.front().kernel, runtime::Kernel::conv2d_nchw);
  ASSERT_EQ(prog.code().instrs.front().mode, KernelMode::fast);
  prog.set_fault_for_testing(0, 5, 22);  // a high mantissa bit: far outside any rounding bound
  const runtime::CheckReport r = runtime::check_equivalence(prog, to_elem<float>(b.inputs));
  EXPECT_FALSE(r.ok);
  ASSERT_TRUE(r.mismatch.has_value()) << r.text();
  EXPECT_EQ(r.mismatch->kernel, "conv2d_nchw.fast");
  EXPECT_GT(r.mismatch->bound, 0);
}

// conv2d_nchw with N = 1, groups 1, dilation 1, symmetric padding and equal strides, on the
// reshaped image, gives v1 conv2d's bits (the autodiff rewrite depends on it); the same for the
// pools and for linear as matmul(x, W^T) + broadcast(b).
TEST(ConvNchw, V1FormsGiveTheV1OpsBits) {
  ValueSource src(21, 0.05);
  const Tensor<double> image = random_tensor(src, Shape{3, 7, 7});
  const Tensor<double> weight = random_tensor(src, Shape{4, 3, 3, 3});
  const Tensor<double> bias = random_tensor(src, Shape{4});

  auto v1 = [&](ir::OpKind pool, ir::Attrs pool_attrs) {
    ir::GraphBuilder b;
    const int64_t x = b.input(Shape{3, 7, 7});
    const int64_t c = b.add(ir::OpKind::conv2d, {x}, ir::Conv2dAttrs{3, 4, 3, 3, 2, 1});
    b.set_payload(c, "weight", weight);
    b.set_payload(c, "bias", bias);
    b.mark_output(c);
    b.mark_output(b.add(pool, {x}, pool_attrs));
    Built out;
    std::tie(out.graph, out.payload) = std::move(b).finish();
    out.inputs.push_back(image);
    return out;
  };
  auto nchw = [&](ir::OpKind pool, const ir::PoolNchwAttrs& pa) {
    ir::GraphBuilder b;
    const int64_t x = b.input(Shape{3, 7, 7});
    const int64_t x4 =
        b.add(ir::OpKind::reshape, {x}, ir::ReshapeAttrs{Shape{3, 7, 7}, Shape{1, 3, 7, 7}});
    const int64_t c = b.add(ir::OpKind::conv2d_nchw, {x4, b.constant(weight), b.constant(bias)},
                            conv_attrs(2, 2, 1, 1, 1, 1, 1, 1, 1));
    const Shape cs = b.shape(c);
    b.mark_output(
        b.add(ir::OpKind::reshape, {c}, ir::ReshapeAttrs{cs, Shape{cs[1], cs[2], cs[3]}}));
    const int64_t p = b.add(pool, {x4}, pa);
    const Shape ps = b.shape(p);
    b.mark_output(
        b.add(ir::OpKind::reshape, {p}, ir::ReshapeAttrs{ps, Shape{ps[1], ps[2], ps[3]}}));
    Built out;
    std::tie(out.graph, out.payload) = std::move(b).finish();
    out.inputs.push_back(image);
    return out;
  };
  ir::PoolNchwAttrs pa;
  pa.kH = 3;
  pa.kW = 2;
  pa.stride_h = pa.stride_w = 2;
  pa.pad_top = pa.pad_left = pa.pad_bottom = pa.pad_right = 1;
  pa.count_include_pad = true;
  const Built max_v1 = v1(ir::OpKind::max_pool2d_pad, ir::Pool2dPadAttrs{3, 2, 2, 1});
  const Built max_nchw = nchw(ir::OpKind::max_pool2d_nchw, pa);
  expect_same_bits(run<float>(max_v1, 1), run<float>(max_nchw, 1), "conv + max pool f32");
  expect_same_bits(run<double>(max_v1, 1), run<double>(max_nchw, 1), "conv + max pool f64");
  const Built avg_v1 = v1(ir::OpKind::avg_pool2d_pad, ir::Pool2dPadAttrs{3, 2, 2, 1});
  const Built avg_nchw = nchw(ir::OpKind::avg_pool2d_nchw, pa);
  expect_same_bits(run<float>(avg_v1, 1), run<float>(avg_nchw, 1), "conv + avg pool f32");
  expect_same_bits(run<double>(avg_v1, 1), run<double>(avg_nchw, 1), "conv + avg pool f64");

  // linear(x) == matmul(x, permute(W)) + broadcast(b).
  const Tensor<double> xs = random_tensor(src, Shape{5, 6});
  const Tensor<double> w = random_tensor(src, Shape{3, 6});
  const Tensor<double> lb = random_tensor(src, Shape{3});
  Built lin, mm;
  {
    ir::GraphBuilder b;
    const int64_t l = b.add(ir::OpKind::linear, {b.input(Shape{5, 6})}, ir::NoAttrs{}, Shape{5, 3});
    b.set_payload(l, "weight", w);
    b.set_payload(l, "bias", lb);
    b.mark_output(l);
    std::tie(lin.graph, lin.payload) = std::move(b).finish();
    lin.inputs.push_back(xs);
  }
  {
    ir::GraphBuilder b;
    const int64_t x = b.input(Shape{5, 6});
    const int64_t wt = b.add(ir::OpKind::permute, {b.constant(w)}, ir::PermuteAttrs{{1, 0}});
    const int64_t prod = b.add(ir::OpKind::matmul, {x, wt});
    const int64_t bb =
        b.add(ir::OpKind::broadcast, {b.constant(lb)}, ir::BroadcastAttrs{Shape{5, 3}});
    b.mark_output(b.add(ir::OpKind::add, {prod, bb}));
    std::tie(mm.graph, mm.payload) = std::move(b).finish();
    mm.inputs.push_back(xs);
  }
  expect_same_bits(run<float>(lin, 1), run<float>(mm, 1), "linear f32");
  expect_same_bits(run<double>(lin, 1), run<double>(mm, 1), "linear f64");
}

TEST(Matmul, ExtendedFormsPassTheChecker) {
  const std::pair<Shape, Shape> forms[] = {
      {Shape{2, 3, 4, 5}, Shape{2, 3, 5, 6}},  // equal rank-4 batches
      {Shape{2, 3, 4, 5}, Shape{5, 6}},        // a shared 2-D right operand
      {Shape{4, 17, 20}, Shape{20, 9}},        // 68 stacked rows: the fast GEMM path
      {Shape{3, 0, 5}, Shape{5, 2}},           // empty rows
  };
  uint64_t seed = 40;
  for (const auto& [sa, sb] : forms) {
    for (double special : {0.0, 0.1}) {
      ValueSource src(seed++, special);
      ir::GraphBuilder b;
      const int64_t a = b.input(sa);
      b.mark_output(b.add(ir::OpKind::matmul, {a, b.constant(random_tensor(src, sb))}));
      Built g;
      std::tie(g.graph, g.payload) = std::move(b).finish();
      g.inputs.push_back(random_tensor(src, sa));
      expect_checked(g, sa.str() + " x " + sb.str());
    }
  }
}

}  // namespace
}  // namespace torchlean::testing
