// The fast paths of the NCHW max pool, its gradient and the compare/where map kernels
// (runtime/pool_nchw.cpp, pool_nchw_avx512.cpp, map_kernels.cpp):
//   - hand-made windows whose maximum and first maximiser the spec fixes (ties of -0 and +0,
//     NaNs with payloads and signs, infinities), on the portable path and on AVX-512 where the
//     CPU has it;
//   - compiled max pools and their gradients over geometries that mix interior windows (the key
//     path, the 2x2 stride-2 vector kernel with full and partial 16-window blocks) with border
//     windows (padding, ceil mode), overlapping windows (3x3 stride 1 and 2), uncovered rows and
//     columns, and one-cell windows, on random values dense in specials and on tie-heavy values:
//     bit-identical to the reference evaluator, f32 and f64, 1 and 2 threads, both ISA paths;
//   - compare and where on random masks with specials: bit-identical to the reference, and where
//     copies the chosen operand's bits (NaN payloads included).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "runtime_test_util.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/runtime/map_kernels.hpp"
#include "torchlean/runtime/pool_nchw.hpp"
#include "torchlean/runtime/vmath.hpp"

namespace torchlean::testing {
namespace {

using runtime::Isa;
using runtime::KernelMode;

// Forces an ISA path for the lifetime of the guard.
struct IsaGuard {
  explicit IsaGuard(Isa isa) { runtime::force_isa_for_testing(isa); }
  ~IsaGuard() { runtime::force_isa_for_testing(std::nullopt); }
};

// The paths to run: portable always, AVX-512 when this CPU has it.
std::vector<Isa> isa_paths() {
  std::vector<Isa> paths{Isa::portable};
  if (runtime::isa_supported(Isa::avx512)) paths.push_back(Isa::avx512);
  return paths;
}

float f32_bits(uint32_t b) { return std::bit_cast<float>(b); }
uint32_t bits_of(float v) { return std::bit_cast<uint32_t>(v); }

const float kInf = std::numeric_limits<float>::infinity();
const uint32_t kQnan = 0x7fc00000u;               // the canonical quiet NaN
const float kPayloadNan = f32_bits(0x7fa00123u);  // a signalling NaN with a payload
const float kNegNan = f32_bits(0xffc00005u);      // a negative quiet NaN with a payload

// A 2x2 stride-2 pool over one plane of 2 rows and 2n columns, run through the kernels directly.
runtime::PoolNchwParams row_params(int64_t n) {
  runtime::PoolNchwParams p;
  p.planes = 1;
  p.in_h = 2;
  p.in_w = 2 * n;
  p.out_h = 1;
  p.out_w = n;
  p.k_h = p.k_w = 2;
  p.stride_h = p.stride_w = 2;
  return p;
}

// One window per case, cells in row-major order (top-left, top-right, bottom-left,
// bottom-right), with the maximum's bits and the first maximiser the spec gives.
struct WindowCase {
  float cells[4];
  uint32_t max_bits;
  int first;
};

const std::vector<WindowCase>& window_cases() {
  static const std::vector<WindowCase> cases = {
      {{1, 2, 3, 4}, bits_of(4.0f), 3},
      {{4, 3, 2, 1}, bits_of(4.0f), 0},
      {{-0.0f, 0.0f, -0.0f, 0.0f}, bits_of(0.0f), 1},  // +0 above -0
      {{0.0f, -0.0f, 0.0f, -0.0f}, bits_of(0.0f), 0},  // a tie keeps the first
      {{-0.0f, -0.0f, -0.0f, -0.0f}, bits_of(-0.0f), 0},
      {{-1, -0.0f, -2, -0.0f}, bits_of(-0.0f), 1},
      {{5, 5, 5, 5}, bits_of(5.0f), 0},
      {{-kInf, -kInf, -kInf, -kInf}, bits_of(-kInf), 0},
      {{1, kInf, kInf, 3}, bits_of(kInf), 1},
      {{1, 2, kPayloadNan, kInf}, kQnan, 2},        // NaN above everything, canonical
      {{kNegNan, kInf, 3, kPayloadNan}, kQnan, 0},  // the first NaN, whatever its sign
      {{-kInf, 0.0f, 7, kNegNan}, kQnan, 3},
      {{0x1p-149f, -0x1p-149f, 0.0f, 0x1p-148f}, bits_of(0x1p-148f), 3},
      {{-3, -2, -2, -5}, bits_of(-2.0f), 1},
  };
  return cases;
}

// n windows side by side, cycling through the cases, and gradients g[j] = j + 1 (window 3's
// gradient is -0 to check +0 + -0 = +0, window 5's a payload NaN to check canonicalisation).
struct WindowRow {
  std::vector<float> x, g;
};
WindowRow window_row(int64_t n) {
  WindowRow r{std::vector<float>(static_cast<size_t>(4 * n)),
              std::vector<float>(static_cast<size_t>(n))};
  const auto& cases = window_cases();
  for (int64_t j = 0; j < n; ++j) {
    const WindowCase& c = cases[static_cast<size_t>(j) % cases.size()];
    r.x[static_cast<size_t>(2 * j)] = c.cells[0];
    r.x[static_cast<size_t>(2 * j + 1)] = c.cells[1];
    r.x[static_cast<size_t>(2 * n + 2 * j)] = c.cells[2];
    r.x[static_cast<size_t>(2 * n + 2 * j + 1)] = c.cells[3];
    r.g[static_cast<size_t>(j)] = j == 3 ? -0.0f : j == 5 ? kPayloadNan : static_cast<float>(j + 1);
  }
  return r;
}

TEST(MaxPoolFastPath, WindowsFollowTheSpec) {
  // 5 and 8 windows (a narrow row: half a step), 14 (one partial step) and 37 (two full steps and
  // a partial one).
  for (Isa isa : isa_paths())
    for (int64_t n : {int64_t{5}, int64_t{8}, int64_t{14}, int64_t{37}}) {
      IsaGuard guard(isa);
      const std::string label =
          std::string(runtime::isa_name(isa)) + " n " + std::to_string(n) + " window ";
      const runtime::PoolNchwParams p = row_params(n);
      const WindowRow r = window_row(n);
      std::vector<float> y(static_cast<size_t>(n), 99.0f);
      runtime::max_pool2d_nchw_exact<float>(p, r.x.data(), y.data(), 0, 1);
      std::vector<float> dx(r.x.size(), 99.0f);
      runtime::max_pool2d_nchw_grad_exact<float>(p, r.x.data(), r.g.data(), dx.data(), 0, 1);
      const auto& cases = window_cases();
      for (int64_t j = 0; j < n; ++j) {
        const WindowCase& c = cases[static_cast<size_t>(j) % cases.size()];
        EXPECT_EQ(bits_of(y[static_cast<size_t>(j)]), c.max_bits) << label << j;
        const float g = r.g[static_cast<size_t>(j)];
        const uint32_t dg = g != g ? kQnan : g == 0 ? bits_of(0.0f) : bits_of(g);
        const int64_t cells[4] = {2 * j, 2 * j + 1, 2 * n + 2 * j, 2 * n + 2 * j + 1};
        for (int k = 0; k < 4; ++k)
          EXPECT_EQ(bits_of(dx[static_cast<size_t>(cells[k])]), k == c.first ? dg : 0u)
              << label << j << " cell " << k;
      }
    }
}

// A one-cell window is the cell itself, NaN payload included.
TEST(MaxPoolFastPath, OneCellWindowsKeepTheBits) {
  runtime::PoolNchwParams p;
  p.planes = 1;
  p.in_h = 1;
  p.in_w = 3;
  p.out_h = 1;
  p.out_w = 3;
  const std::vector<float> x{kPayloadNan, -0.0f, kNegNan};
  std::vector<float> y(3);
  runtime::max_pool2d_nchw_exact<float>(p, x.data(), y.data(), 0, 1);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(bits_of(y[i]), bits_of(x[i])) << i;
}

// The gradient writes every cell of dx, whatever dx held before: uncovered rows and columns and
// cells next to padding get +0. Expected values from the spec's loop: dx = +0, then per output in
// row-major order dx[first maximiser] += g, the maximiser replaced only by a cell strictly above
// it (NaN above all, +0 above -0).
TEST(MaxPoolFastPath, GradientOverwritesAStaleBuffer) {
  auto above = [](float v, float best) {
    if (best != best) return false;
    if (v != v) return true;
    if (v == best) return std::signbit(best) && !std::signbit(v);
    return v > best;
  };
  ValueSource src(7, 0.3);
  for (Isa isa : isa_paths())
    for (int64_t pad : {int64_t{0}, int64_t{1}})
      for (int64_t in_w : {int64_t{37}, int64_t{13}}) {  // wide rows; narrow rows in pairs
        IsaGuard guard(isa);
        runtime::PoolNchwParams p;
        p.planes = 2;
        p.in_h = 11;
        p.in_w = in_w;
        p.k_h = p.k_w = p.stride_h = p.stride_w = 2;
        p.pad_top = p.pad_right = pad;
        p.out_h = (p.in_h + pad - 2) / 2 + 1;
        p.out_w = (p.in_w + pad - 2) / 2 + 1;
        std::vector<float> x(static_cast<size_t>(p.planes * p.in_h * p.in_w));
        std::vector<float> g(static_cast<size_t>(p.planes * p.out_h * p.out_w));
        for (float& v : x) v = to_elem<float>(src.value());
        for (float& v : g) v = to_elem<float>(src.value());
        std::vector<float> want(x.size(), 0.0f);
        for (int64_t c = 0; c < p.planes; ++c)
          for (int64_t oh = 0; oh < p.out_h; ++oh)
            for (int64_t ow = 0; ow < p.out_w; ++ow) {
              int64_t at = -1;
              for (int64_t ih = oh * 2 - pad; ih < oh * 2 - pad + 2; ++ih)
                for (int64_t iw = ow * 2; iw < ow * 2 + 2; ++iw) {
                  if (ih < 0 || ih >= p.in_h || iw >= p.in_w) continue;
                  const int64_t i = (c * p.in_h + ih) * p.in_w + iw;
                  if (at < 0 || above(x[static_cast<size_t>(i)], x[static_cast<size_t>(at)]))
                    at = i;
                }
              float& d = want[static_cast<size_t>(at)];
              d = d + g[static_cast<size_t>((c * p.out_h + oh) * p.out_w + ow)];
              if (d != d) d = f32_bits(kQnan);
            }
        std::vector<float> dx(x.size(), -99.0f);
        runtime::max_pool2d_nchw_grad_exact<float>(p, x.data(), g.data(), dx.data(), 0, p.planes);
        for (size_t i = 0; i < dx.size(); ++i)
          ASSERT_EQ(bits_of(dx[i]), bits_of(want[i]))
              << runtime::isa_name(isa) << " pad " << pad << " in_w " << in_w << " cell " << i;
      }
}

struct Built {
  ir::Graph graph;
  ir::Payload payload;
  std::vector<Shape> input_shapes;
};

ir::PoolNchwAttrs pool_attrs(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pl,
                             int64_t pb, int64_t pr, bool ceil_mode) {
  ir::PoolNchwAttrs a;
  a.kH = kh;
  a.kW = kw;
  a.stride_h = sh;
  a.stride_w = sw;
  a.pad_top = pt;
  a.pad_left = pl;
  a.pad_bottom = pb;
  a.pad_right = pr;
  a.ceil_mode = ceil_mode;
  return a;
}

// y = max_pool(x) and dx = max_pool_grad(x, g), both outputs.
Built pool_graph(const Shape& x_shape, const ir::PoolNchwAttrs& a) {
  ir::GraphBuilder b;
  const int64_t x = b.input(x_shape);
  const int64_t y = b.add(ir::OpKind::max_pool2d_nchw, {x}, a);
  const int64_t g = b.input(b.shape(y));
  b.mark_output(y);
  b.mark_output(b.add(ir::OpKind::max_pool2d_nchw_grad, {x, g}, a, x_shape));
  Built out{{}, {}, {x_shape, b.shape(y)}};
  std::tie(out.graph, out.payload) = std::move(b).finish();
  return out;
}

// Values: random with many specials, or drawn from a handful so that windows tie often.
template <class T>
std::vector<Tensor<T>> inputs(const Built& b, uint64_t seed, bool ties) {
  ValueSource src(seed, 0.2);
  const T few[] = {T(-0.0),
                   T(0),
                   T(1),
                   T(-1),
                   std::numeric_limits<T>::quiet_NaN(),
                   std::numeric_limits<T>::infinity(),
                   -std::numeric_limits<T>::infinity(),
                   T(1),
                   T(0),
                   T(-0.0)};
  std::vector<Tensor<T>> out;
  for (const Shape& s : b.input_shapes) {
    std::vector<T> v(static_cast<size_t>(s.numel()));
    for (T& e : v) e = ties ? few[src.below(std::size(few))] : to_elem<T>(src.value());
    out.emplace_back(s, std::move(v));
  }
  return out;
}

template <class T>
void expect_bit_identical(const Built& b, int threads, uint64_t seed, bool ties,
                          const std::string& label) {
  const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(b.payload);
  runtime::Program<T> prog = compile::compile<T>(
      b.graph, p, compile::CompileOptions{KernelMode::exact, true, true, threads});
  const runtime::CheckReport r = runtime::check_equivalence(prog, inputs<T>(b, seed, ties));
  EXPECT_TRUE(r.ok) << label << ": " << r.text();
}

struct PoolCase {
  std::string name;
  Shape x;
  ir::PoolNchwAttrs a;
};

TEST(MaxPoolFastPath, CompiledPoolsMatchTheReference) {
  const std::vector<PoolCase> cases = {
      {"2x2 s2, 14 columns", {2, 3, 28, 28}, pool_attrs(2, 2, 2, 2, 0, 0, 0, 0, false)},
      {"2x2 s2, 37 columns", {1, 2, 6, 74}, pool_attrs(2, 2, 2, 2, 0, 0, 0, 0, false)},
      {"2x2 s2, odd sizes", {2, 2, 11, 13}, pool_attrs(2, 2, 2, 2, 0, 0, 0, 0, false)},
      {"2x2 s2, padded", {1, 3, 10, 40}, pool_attrs(2, 2, 2, 2, 1, 1, 1, 1, false)},
      {"2x2 s2, ceil mode", {1, 2, 9, 35}, pool_attrs(2, 2, 2, 2, 0, 0, 0, 0, true)},
      {"2x2 s2, asymmetric padding", {1, 2, 9, 9}, pool_attrs(2, 2, 2, 2, 1, 0, 0, 1, false)},
      {"3x3 s2 pad 1 (overlapping)", {2, 2, 13, 15}, pool_attrs(3, 3, 2, 2, 1, 1, 1, 1, false)},
      {"3x3 s1 (overlapping)", {1, 2, 9, 20}, pool_attrs(3, 3, 1, 1, 0, 0, 0, 0, false)},
      {"2x2 s1 (overlapping)", {1, 2, 7, 9}, pool_attrs(2, 2, 1, 1, 0, 0, 0, 0, false)},
      {"2x2 s3 (gaps)", {1, 2, 11, 11}, pool_attrs(2, 2, 3, 3, 0, 0, 0, 0, false)},
      {"2x3 s(1,2), padded", {1, 2, 8, 11}, pool_attrs(2, 3, 1, 2, 1, 1, 0, 2, false)},
      {"1x2 s(1,2)", {1, 2, 5, 8}, pool_attrs(1, 2, 1, 2, 0, 0, 0, 0, false)},
      {"1x1 (one-cell windows)", {1, 2, 4, 5}, pool_attrs(1, 1, 1, 1, 0, 0, 0, 0, false)},
      {"kernel = input", {1, 2, 4, 4}, pool_attrs(4, 4, 1, 1, 0, 0, 0, 0, false)},
  };
  uint64_t seed = 1;
  for (Isa isa : isa_paths()) {
    IsaGuard guard(isa);
    for (const PoolCase& c : cases) {
      const Built b = pool_graph(c.x, c.a);
      for (int threads : {1, 2})
        for (bool ties : {false, true}) {
          const std::string label = std::string(runtime::isa_name(isa)) + " " + c.name +
                                    " threads " + std::to_string(threads) +
                                    (ties ? " ties" : " random");
          expect_bit_identical<float>(b, threads, seed, ties, label + " f32");
          expect_bit_identical<double>(b, threads, seed, ties, label + " f64");
          ++seed;
        }
    }
  }
}

// compare (all six predicates) and where(compare, a, b), both outputs.
Built map_graph(const Shape& s, const std::string& cmp) {
  ir::GraphBuilder b;
  const int64_t u = b.input(s), v = b.input(s), a = b.input(s), c = b.input(s);
  const int64_t m = b.add(ir::OpKind::compare, {u, v}, ir::CompareAttrs{cmp});
  b.mark_output(m);
  b.mark_output(b.add(ir::OpKind::where, {m, a, c}));
  b.mark_output(b.add(ir::OpKind::where, {u, a, c}));  // a raw condition: -0, NaN, specials
  Built out{{}, {}, {s, s, s, s}};
  std::tie(out.graph, out.payload) = std::move(b).finish();
  return out;
}

TEST(MapFastPath, CompareAndWhereMatchTheReference) {
  uint64_t seed = 100;
  for (const char* cmp : {"lt", "le", "gt", "ge", "eq", "ne"}) {
    const Built b = map_graph(Shape{3, 1001}, cmp);
    for (int threads : {1, 2})
      for (bool ties : {false, true}) {
        const std::string label = std::string(cmp) + " threads " + std::to_string(threads);
        expect_bit_identical<float>(b, threads, seed, ties, label + " f32");
        expect_bit_identical<double>(b, threads, seed, ties, label + " f64");
        ++seed;
      }
  }
}

// where copies the chosen operand's bits: NaN payloads and -0 survive, a NaN condition picks a.
TEST(MapFastPath, WhereCopiesTheChosenBits) {
  const std::vector<float> c{1, 0.0f, -0.0f, kPayloadNan, -kInf, 0x1p-149f, 0.0f, 2};
  const std::vector<float> a{kPayloadNan, 1, 2, -0.0f, kNegNan, 3, 4, -0.0f};
  const std::vector<float> bv{5, kNegNan, kPayloadNan, 6, 7, 8, -0.0f, 9};
  const std::vector<uint32_t> expected{bits_of(kPayloadNan), bits_of(kNegNan), bits_of(kPayloadNan),
                                       bits_of(-0.0f),       bits_of(kNegNan), bits_of(3.0f),
                                       bits_of(-0.0f),       bits_of(-0.0f)};
  runtime::MapParams p;
  p.op = ir::OpKind::where;
  p.n = static_cast<int64_t>(c.size());
  const float* in[3] = {c.data(), a.data(), bv.data()};
  std::vector<float> y(c.size());
  runtime::map_exact<float>(p, in, y.data(), 0, p.n);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(bits_of(y[i]), expected[i]) << i;
}

// compare gives exactly 1 or +0; NaN compares unequal to everything, -0 equals +0.
TEST(MapFastPath, CompareGivesOneOrPlusZero) {
  const std::vector<float> u{1, -0.0f, kPayloadNan, kInf, 2};
  const std::vector<float> v{2, 0.0f, kPayloadNan, kInf, 1};
  const std::vector<std::pair<std::string, std::vector<float>>> expected = {
      {"lt", {1, 0, 0, 0, 0}}, {"le", {1, 1, 0, 1, 0}}, {"gt", {0, 0, 0, 0, 1}},
      {"ge", {0, 1, 0, 1, 1}}, {"eq", {0, 1, 0, 1, 0}}, {"ne", {1, 0, 1, 0, 1}}};
  for (const auto& [cmp, want] : expected) {
    runtime::MapParams p;
    p.op = ir::OpKind::compare;
    p.n = static_cast<int64_t>(u.size());
    p.attrs = ir::CompareAttrs{cmp};
    const float* in[2] = {u.data(), v.data()};
    std::vector<float> y(u.size());
    runtime::map_exact<float>(p, in, y.data(), 0, p.n);
    for (size_t i = 0; i < y.size(); ++i)
      EXPECT_EQ(bits_of(y[i]), bits_of(want[i])) << cmp << " " << i;
  }
}

}  // namespace
}  // namespace torchlean::testing
