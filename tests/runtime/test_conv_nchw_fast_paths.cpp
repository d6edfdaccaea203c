// The conv2d_nchw kernels (forward and both gradients, exact order) against the reference
// evaluator, bit for bit, on geometries that hit each kernel path and its edges: the AVX-512 paths
// (forward and grad_input plane kernels: row blocks and width tails; the forward channel-lane
// kernel: channel and column blocks; grad_weight: output blocks and tails, padding taps) and the
// paths kept for the other cases (stride > 1, non-finite weights, and every GEMM path, the only
// ones on CPUs without AVX-512), with special values, 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "linalg_test_util.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/runtime/conv_nchw.hpp"
#include "torchlean/runtime/gemm.hpp"
#include "torchlean/runtime/thread_pool.hpp"

namespace torchlean::runtime {
namespace {

using testing::random_vector;
using testing::show;

struct Case {
  const char* what;
  Shape x, w;
  // stride h/w, pads top/left/bottom/right, dilation h/w, groups.
  int64_t sh, sw, pt, pl, pb, pr, dh, dw, groups;

  ir::Conv2dNchwAttrs attrs() const {
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
  ConvNchwGeometry geometry() const {
    ConvNchwGeometry g;
    g.batch = x[0];
    g.in_c = x[1];
    g.in_h = x[2];
    g.in_w = x[3];
    g.out_c = w[0];
    g.k_h = w[2];
    g.k_w = w[3];
    g.stride_h = sh;
    g.stride_w = sw;
    g.pad_top = pt;
    g.pad_left = pl;
    g.pad_bottom = pb;
    g.pad_right = pr;
    g.dilation_h = dh;
    g.dilation_w = dw;
    g.groups = groups;
    g.out_h = conv_nchw_out_extent(g.in_h, g.k_h, sh, pt, pb, dh);
    g.out_w = conv_nchw_out_extent(g.in_w, g.k_w, sw, pl, pr, dw);
    return g;
  }
};

const Case kCases[] = {
    // LeNet's two convs: width 14 < one vector, rows in blocks 8 + 6; 28 wide with padding 2.
    {"lenet conv2", {3, 6, 14, 14}, {16, 6, 5, 5}, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"lenet conv1", {2, 1, 28, 28}, {6, 1, 5, 5}, 1, 1, 2, 2, 2, 2, 1, 1, 1},
    // Width 37: two full vectors and a 5-lane tail; 21 rows: blocks 8, 8, 5.
    {"wide", {2, 3, 21, 37}, {4, 3, 3, 3}, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    // Asymmetric padding, dilation, groups.
    {"dilated groups", {2, 4, 9, 11}, {6, 2, 3, 2}, 1, 1, 2, 0, 1, 3, 2, 3, 2},
    // Padding beyond the kernel extent: output columns that reach no input.
    {"wide padding", {1, 2, 5, 6}, {3, 2, 2, 2}, 1, 1, 0, 3, 4, 4, 1, 1, 1},
    // Depthwise 1x1 on 17 columns (one lane past a float vector).
    {"depthwise 1x1", {2, 4, 7, 17}, {4, 1, 1, 1}, 1, 1, 0, 0, 0, 0, 1, 1, 4},
    // Kernel as large as the input, padding 2: every tap misses somewhere.
    {"full kernel", {1, 1, 3, 3}, {2, 1, 3, 3}, 1, 1, 2, 2, 2, 2, 1, 1, 1},
    // 9 columns: one binary64 vector and a 1-lane tail; 25 weight rows (16 + 9 lanes).
    {"nine columns", {3, 2, 6, 9}, {6, 1, 5, 5}, 1, 1, 2, 2, 2, 2, 1, 1, 2},
    // 24 output channels a group (binary32 channel lanes: 16 + an 8-lane block), 23 columns (a
    // 16 + 7 column split), padding, dilation, groups.
    {"channel lanes", {2, 4, 7, 21}, {48, 2, 3, 2}, 1, 1, 1, 2, 0, 1, 2, 1, 2},
    // Many outputs per group (33 = 2 vectors + 1 lane of o), channels 3 (ic blocks).
    {"many outputs", {2, 3, 5, 5}, {33, 3, 2, 2}, 1, 1, 1, 0, 0, 1, 1, 1, 1},
    // Strided (the GEMM path of grad_input), one axis only and both.
    {"stride 2", {2, 3, 9, 10}, {4, 3, 3, 3}, 2, 2, 1, 1, 1, 1, 1, 1, 1},
    {"stride w", {2, 2, 6, 11}, {3, 2, 2, 3}, 1, 3, 0, 1, 0, 2, 1, 1, 1},
    // No output channels, and no images.
    {"no out channels", {2, 3, 4, 20}, {0, 3, 3, 3}, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"no images", {0, 2, 4, 4}, {3, 2, 3, 3}, 1, 1, 0, 0, 0, 0, 1, 1, 1},
};

std::string describe(const Case& c, int threads) {
  return std::string(c.what) + " x" + c.x.str() + " w" + c.w.str() + ", " +
         std::to_string(threads) + " thread(s)";
}

template <class T>
Tensor<IeeeScalar<T>> tensor_of(const Shape& s, const std::vector<T>& v) {
  std::vector<IeeeScalar<T>> out;
  for (T e : v) out.push_back(IeeeScalar<T>::of(e));
  return Tensor<IeeeScalar<T>>(s, std::move(out));
}

template <class T>
void expect_bits(const std::vector<T>& got, const Tensor<IeeeScalar<T>>& want,
                 const std::string& what) {
  ASSERT_EQ(static_cast<int64_t>(got.size()), want.numel()) << what;
  int64_t bad = 0;
  for (int64_t e = 0; e < want.numel(); ++e) {
    const T v = got[static_cast<size_t>(e)];
    if (testing::bits_of(v) != testing::bits_of(want[e].v) && bad++ < 3)
      ADD_FAILURE() << what << " element " << e << ": " << show(v) << ", reference "
                    << show(want[e].v);
  }
  EXPECT_EQ(bad, 0) << what;
}

// A kernel workspace of the size its function declares, followed by a guard band that the kernel
// must leave untouched.
template <class T>
class Workspace {
 public:
  explicit Workspace(int64_t elems)
      : elems_(static_cast<size_t>(elems)), buf_(elems_ + kGuard, T(0)) {
    std::fill(buf_.begin() + static_cast<std::ptrdiff_t>(elems_), buf_.end(), T(-3.5));
  }
  T* data() { return buf_.data(); }
  void expect_guard_intact(const std::string& what) const {
    for (size_t i = elems_; i < buf_.size(); ++i)
      ASSERT_EQ(buf_[i], T(-3.5)) << what << ": the workspace of " << elems_
                                  << " elements was written at " << i;
  }

 private:
  static constexpr size_t kGuard = 4096;
  size_t elems_;
  std::vector<T> buf_;
};

// y = conv2d_nchw(x, w[, b]), dx = grad_input(gy, w), dw = grad_weight(x, gy): kernels against the
// evaluator. w_special is the share of special values in w (non-zero: the non-finite fallback).
template <class T>
void check_case(const Case& c, std::mt19937_64& rng, double special, double w_special) {
  using S = IeeeScalar<T>;
  const ConvNchwGeometry g = c.geometry();
  const Shape y_shape{g.batch, g.out_c, g.out_h, g.out_w};
  const std::vector<T> x = random_vector<T>(rng, c.x.numel(), special);
  const std::vector<T> w = random_vector<T>(rng, c.w.numel(), w_special);
  const std::vector<T> b = random_vector<T>(rng, g.out_c, special);
  const std::vector<T> gy = random_vector<T>(rng, y_shape.numel(), special);

  ir::GraphBuilder builder;
  const int64_t ix = builder.input(c.x), iw = builder.input(c.w);
  const int64_t ib = builder.input(Shape{g.out_c}), ig = builder.input(y_shape);
  builder.mark_output(builder.add(ir::OpKind::conv2d_nchw, {ix, iw, ib}, c.attrs()));
  builder.mark_output(builder.add(ir::OpKind::conv2d_nchw, {ix, iw}, c.attrs()));
  builder.mark_output(builder.add(ir::OpKind::conv2d_nchw_grad_input, {ig, iw}, c.attrs(), c.x));
  builder.mark_output(builder.add(ir::OpKind::conv2d_nchw_grad_weight, {ix, ig}, c.attrs(), c.w));
  const auto [graph, payload] = std::move(builder).finish();
  (void)payload;  // every operand is an input
  const std::vector<Tensor<S>> inputs = {tensor_of(c.x, x), tensor_of(c.w, w),
                                         tensor_of(Shape{g.out_c}, b), tensor_of(y_shape, gy)};
  const std::vector<Tensor<S>> want =
      interp::evaluate_outputs<S>(graph, ir::PayloadStore<S>{}, inputs);

  for (GemmPath path : {GemmPath::portable, GemmPath::avx2, GemmPath::avx512})
    for (int threads : {1, 2, 3}) {
      if (!gemm_path_supported(path)) continue;
      ThreadPool pool(threads);
      ThreadPool* p = threads == 1 ? nullptr : &pool;
      const std::string what = describe(c, threads) + ", " + gemm_path_name(path) + " path";
      std::vector<T> y(static_cast<size_t>(y_shape.numel()));
      Workspace<T> ws(conv_nchw_workspace_elems(g, threads));
      conv2d_nchw_exact<T>(g, x.data(), w.data(), b.data(), y.data(), ws.data(), p, path);
      expect_bits(y, want[0], "conv2d_nchw " + what);
      conv2d_nchw_exact<T>(g, x.data(), w.data(), nullptr, y.data(), ws.data(), p, path);
      expect_bits(y, want[1], "conv2d_nchw without bias " + what);
      ws.expect_guard_intact("conv2d_nchw " + what);
      std::vector<T> dx(static_cast<size_t>(c.x.numel()), T(7));
      Workspace<T> wsi(conv_nchw_grad_input_workspace_elems(g));
      conv2d_nchw_grad_input_exact<T>(g, gy.data(), w.data(), dx.data(), wsi.data(), p, path);
      expect_bits(dx, want[2], "grad_input " + what);
      wsi.expect_guard_intact("grad_input " + what);
      std::vector<T> dw(static_cast<size_t>(c.w.numel()), T(7));
      Workspace<T> wsw(conv_nchw_grad_weight_workspace_elems(g));
      conv2d_nchw_grad_weight_exact<T>(g, x.data(), gy.data(), dw.data(), wsw.data(), p, path);
      expect_bits(dw, want[3], "grad_weight " + what);
      wsw.expect_guard_intact("grad_weight " + what);
    }
}

template <class T>
void check_all(double special, double w_special) {
  std::mt19937_64 rng(101 + sizeof(T) + static_cast<uint64_t>(special * 1000 + w_special * 7));
  for (const Case& c : kCases) check_case<T>(c, rng, special, w_special);
}

TEST(ConvNchwKernels, MatchTheEvaluatorFloat) { check_all<float>(0.0, 0.0); }
TEST(ConvNchwKernels, MatchTheEvaluatorDouble) { check_all<double>(0.0, 0.0); }
// NaN, infinities, -0 and subnormals in x, gy and the bias; finite weights keep the vector path.
TEST(ConvNchwKernels, SpecialValuesFloat) { check_all<float>(0.05, 0.0); }
TEST(ConvNchwKernels, SpecialValuesDouble) { check_all<double>(0.05, 0.0); }
// Non-finite weights too: grad_input's direct loop for those groups.
TEST(ConvNchwKernels, NonFiniteWeightsFloat) { check_all<float>(0.05, 0.05); }
TEST(ConvNchwKernels, NonFiniteWeightsDouble) { check_all<double>(0.05, 0.05); }

// grad_input's missed taps are skipped, not multiplied: gy = +inf everywhere and w = 1 gives +inf
// at every input reached by some tap and +0 (an empty fold) at one reached by none (stride 2 skips
// odd columns of a 1x1 kernel); with finite w a skipped tap is also never a +0 * inf = NaN.
TEST(ConvNchwKernels, GradInputSkipsMissedTaps) {
  const Case c{"skip", {1, 1, 3, 4}, {1, 1, 2, 2}, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  const ConvNchwGeometry g = c.geometry();
  const std::vector<float> gy(static_cast<size_t>(g.out_h * g.out_w),
                              std::numeric_limits<float>::infinity());
  const std::vector<float> w(4, 1.0f);
  std::vector<float> dx(12), ws(static_cast<size_t>(conv_nchw_grad_input_workspace_elems(g)));
  conv2d_nchw_grad_input_exact<float>(g, gy.data(), w.data(), dx.data(), ws.data(), nullptr);
  for (float v : dx) EXPECT_EQ(v, std::numeric_limits<float>::infinity());
  const Case s{"stride", {1, 1, 1, 4}, {1, 1, 1, 1}, 1, 2, 0, 0, 0, 0, 1, 1, 1};
  const ConvNchwGeometry gs = s.geometry();
  std::vector<float> dxs(4, 7.0f),
      wss(static_cast<size_t>(conv_nchw_grad_input_workspace_elems(gs)));
  const std::vector<float> gys(2, std::numeric_limits<float>::infinity());
  conv2d_nchw_grad_input_exact<float>(gs, gys.data(), w.data(), dxs.data(), wss.data(), nullptr);
  EXPECT_EQ(dxs[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(testing::bits_of(dxs[1]), testing::bits_of(0.0f));
  EXPECT_EQ(dxs[2], std::numeric_limits<float>::infinity());
  EXPECT_EQ(testing::bits_of(dxs[3]), testing::bits_of(0.0f));
}

}  // namespace
}  // namespace torchlean::runtime
