// Shape rules of all 41 v1 ops and of the extension ops as a case table: valid cases with the
// expected output shape, and invalid cases with a substring of the expected message. Expected
// shapes follow TorchLean v1's rules (NN/IR/Infer.lean, NN/IR/OpContracts.lean); the
// conv/pool/permute/concat/matmul/linear/ reduce shapes were also confirmed with PyTorch (F.conv2d,
// F.max_pool2d, ...), noted per case.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::ir {
namespace {

struct ShapeCase {
  std::string name;
  OpKind kind;
  Attrs attrs;
  std::vector<Shape> parents;
  Shape declared;               // only read by input, rand_uniform, bernoulli_mask, linear
  std::optional<Shape> expect;  // the inferred shape, or nullopt when the rule must reject
  std::string error = {};       // substring of the error message when rejected
};

ShapeCase ok(std::string name, OpKind k, Attrs a, std::vector<Shape> ps, Shape out,
             Shape declared = Shape{}) {
  return {std::move(name), k, std::move(a), std::move(ps), std::move(declared), std::move(out)};
}

ShapeCase bad(std::string name, OpKind k, Attrs a, std::vector<Shape> ps, std::string error,
              Shape declared = Shape{}) {
  return {std::move(name), k, std::move(a), std::move(ps), std::move(declared), std::nullopt,
          std::move(error)};
}

Pool2dAttrs pool(int64_t kh, int64_t kw, int64_t stride) { return {kh, kw, stride}; }
Pool2dPadAttrs pool_pad(int64_t kh, int64_t kw, int64_t stride, int64_t pad) {
  return {kh, kw, stride, pad};
}
Conv2dAttrs conv(int64_t in_c, int64_t out_c, int64_t kh, int64_t kw, int64_t stride, int64_t pad) {
  return {in_c, out_c, kh, kw, stride, pad};
}

using K = OpKind;
const NoAttrs kNo{};

std::vector<ShapeCase> elementwise_cases() {
  std::vector<ShapeCase> cs;
  for (OpKind k : {K::add, K::sub, K::mul_elem, K::max_elem, K::min_elem}) {
    std::string n(op_name(k));
    cs.push_back(ok(n + " same shapes", k, kNo, {{2, 3}, {2, 3}}, {2, 3}));
    cs.push_back(ok(n + " zero-size", k, kNo, {{0, 3}, {0, 3}}, {0, 3}));
    cs.push_back(ok(n + " scalars", k, kNo, {{}, {}}, {}));
    cs.push_back(bad(n + " mismatch", k, kNo, {{2, 3}, {3, 2}}, "shape mismatch: (2,3) vs (3,2)"));
    // v1 has no implicit broadcasting: a broadcast_to node must make the shapes equal.
    cs.push_back(bad(n + " no implicit broadcast", k, kNo, {{2, 3}, {1, 3}}, "shape mismatch"));
    cs.push_back(bad(n + " one parent", k, kNo, {{2, 3}}, "expected 2 parents, got 1"));
  }
  for (OpKind k : {K::abs, K::sqrt, K::inv, K::relu, K::tanh, K::sigmoid, K::exp, K::log, K::sin,
                   K::cos, K::detach}) {
    std::string n(op_name(k));
    cs.push_back(ok(n + " keeps shape", k, kNo, {{2, 0, 3}}, {2, 0, 3}));
    cs.push_back(ok(n + " scalar", k, kNo, {{}}, {}));
    cs.push_back(bad(n + " two parents", k, kNo, {{2}, {2}}, "expected 1 parent, got 2"));
  }
  return cs;
}

std::vector<ShapeCase> window_cases() {
  std::vector<ShapeCase> cs;
  for (OpKind k : {K::max_pool2d, K::avg_pool2d}) {
    std::string n(op_name(k));
    cs.push_back(ok(n + " 2x2 stride 2", k, pool(2, 2, 2), {{1, 4, 4}}, {1, 2, 2}));
    cs.push_back(ok(n + " 2x3 stride 2 (torch: (3,2,3))", k, pool(2, 3, 2), {{3, 5, 7}}, {3, 2, 3}));
    cs.push_back(ok(n + " 3x2 stride 1 (torch: (2,4,3))", k, pool(3, 2, 1), {{2, 6, 4}}, {2, 4, 3}));
    cs.push_back(ok(n + " zero channels", k, pool(2, 2, 2), {{0, 4, 4}}, {0, 2, 2}));
    cs.push_back(bad(n + " 3x3 on (1,2,2) (TorchLean contract)", k, pool(3, 3, 1), {{1, 2, 2}},
                     "[" + n + "] node 1: window 3x3 (stride 1, padding 0) does not fit input (1,2,2)"));
    cs.push_back(bad(n + " kH 0", k, pool(0, 2, 1), {{1, 4, 4}}, "kH must be > 0, got 0"));
    cs.push_back(bad(n + " kW negative", k, pool(2, -1, 1), {{1, 4, 4}}, "kW must be > 0, got -1"));
    cs.push_back(bad(n + " stride 0", k, pool(2, 2, 0), {{1, 4, 4}}, "stride must be > 0, got 0"));
    cs.push_back(bad(n + " rank 2", k, pool(2, 2, 2), {{4, 4}}, "expected input shape (C,H,W), got (4,4)"));
    cs.push_back(bad(n + " batched NCHW", k, pool(2, 2, 2), {{1, 1, 4, 4}}, "got (1,1,4,4)"));
  }
  for (OpKind k : {K::max_pool2d_pad, K::avg_pool2d_pad}) {
    std::string n(op_name(k));
    cs.push_back(ok(n + " 3x3 s2 p1 (torch: (1,3,3))", k, pool_pad(3, 3, 2, 1), {{1, 5, 5}}, {1, 3, 3}));
    cs.push_back(ok(n + " 2x2 s3 p1 (torch: (2,3,3))", k, pool_pad(2, 2, 3, 1), {{2, 6, 6}}, {2, 3, 3}));
    cs.push_back(ok(n + " padding makes 3x3 fit (1,2,2)", k, pool_pad(3, 3, 1, 1), {{1, 2, 2}}, {1, 2, 2}));
    // (0 + 2 - 2)/1 + 1 = 1 row: TorchLean's rule only asks the window to fit the padded input.
    cs.push_back(ok(n + " zero-height input, padded", k, pool_pad(2, 2, 1, 1), {{1, 0, 4}}, {1, 1, 5}));
    cs.push_back(bad(n + " 3x3 p0 on (1,2,2)", k, pool_pad(3, 3, 1, 0), {{1, 2, 2}},
                     "window 3x3 (stride 1, padding 0) does not fit input (1,2,2)"));
    cs.push_back(bad(n + " negative padding", k, pool_pad(2, 2, 1, -1), {{1, 4, 4}},
                     "padding must be >= 0, got -1"));
    cs.push_back(bad(n + " stride 0", k, pool_pad(2, 2, 0, 0), {{1, 4, 4}}, "stride must be > 0"));
    cs.push_back(bad(n + " huge padding", k, pool_pad(2, 2, 1, INT64_MAX / 2), {{1, 4, 4}},
                     "overflows"));
  }
  const K c = K::conv2d;
  cs.push_back(ok("conv2d 3x3 s2 p1 (torch: (4,4,5))", c, conv(3, 4, 3, 3, 2, 1), {{3, 7, 9}}, {4, 4, 5}));
  cs.push_back(ok("conv2d 5x5 full (torch: (2,1,1))", c, conv(1, 2, 5, 5, 1, 0), {{1, 5, 5}}, {2, 1, 1}));
  cs.push_back(ok("conv2d zero out channels", c, conv(1, 0, 1, 1, 1, 0), {{1, 3, 3}}, {0, 3, 3}));
  cs.push_back(bad("conv2d 3x3 on (1,2,2) (TorchLean contract)", c, conv(1, 1, 3, 3, 1, 0), {{1, 2, 2}},
                   "[conv2d] node 1: window 3x3 (stride 1, padding 0) does not fit input (1,2,2)"));
  cs.push_back(bad("conv2d inC mismatch", c, conv(2, 4, 3, 3, 1, 0), {{3, 5, 5}},
                   "inC=2 does not match input channels of (3,5,5)"));
  cs.push_back(bad("conv2d inC 0", c, conv(0, 4, 1, 1, 1, 0), {{0, 5, 5}}, "inC must be > 0, got 0"));
  cs.push_back(bad("conv2d outC negative", c, conv(1, -4, 1, 1, 1, 0), {{1, 5, 5}}, "outC must be >= 0"));
  cs.push_back(bad("conv2d kH 0", c, conv(1, 1, 0, 1, 1, 0), {{1, 5, 5}}, "kH must be > 0"));
  cs.push_back(bad("conv2d stride 0", c, conv(1, 1, 1, 1, 0, 0), {{1, 5, 5}}, "stride must be > 0"));
  cs.push_back(bad("conv2d negative padding", c, conv(1, 1, 1, 1, 1, -2), {{1, 5, 5}}, "padding must be >= 0"));
  cs.push_back(bad("conv2d batched input", c, conv(1, 1, 1, 1, 1, 0), {{2, 1, 5, 5}},
                   "expected input shape (inC,H,W), got (2,1,5,5)"));
  const K b = K::batch_norm2d_nchw_eval;
  cs.push_back(ok("batch_norm NCHW", b, BatchNormAttrs{3}, {{2, 3, 4, 5}}, {2, 3, 4, 5}));
  cs.push_back(bad("batch_norm channel mismatch", b, BatchNormAttrs{4}, {{2, 3, 4, 5}},
                   "channels=4 does not match input (2,3,4,5)"));
  cs.push_back(bad("batch_norm zero batch", b, BatchNormAttrs{3}, {{0, 3, 4, 5}}, "must be > 0"));
  cs.push_back(bad("batch_norm zero width", b, BatchNormAttrs{3}, {{1, 3, 4, 0}}, "must be > 0"));
  cs.push_back(bad("batch_norm channels 0", b, BatchNormAttrs{0}, {{1, 0, 4, 4}}, "channels must be > 0"));
  cs.push_back(bad("batch_norm CHW input", b, BatchNormAttrs{3}, {{3, 4, 5}},
                   "expected input shape (N,C,H,W), got (3,4,5)"));
  return cs;
}

std::vector<ShapeCase> layout_cases() {
  std::vector<ShapeCase> cs;
  auto perm = [](std::vector<int64_t> p) { return PermuteAttrs{std::move(p)}; };
  cs.push_back(ok("permute (2,0,1) (torch: (4,2,3))", K::permute, perm({2, 0, 1}), {{2, 3, 4}}, {4, 2, 3}));
  cs.push_back(ok("permute zero-size", K::permute, perm({1, 0}), {{0, 5}}, {5, 0}));
  cs.push_back(ok("permute scalar", K::permute, perm({}), {{}}, {}));
  cs.push_back(bad("permute duplicate", K::permute, perm({0, 0, 1}), {{2, 3, 4}},
                   "perm (0,0,1) is not a permutation of the 3 axes of input (2,3,4)"));
  cs.push_back(bad("permute short", K::permute, perm({1, 0}), {{2, 3, 4}}, "is not a permutation"));
  cs.push_back(bad("permute out of range", K::permute, perm({0, 3, 1}), {{2, 3, 4}}, "is not a permutation"));
  cs.push_back(bad("permute negative", K::permute, perm({-1, 0}), {{2, 3}}, "is not a permutation"));

  auto bc = [](Shape from, Shape to) { return BroadcastToAttrs{std::move(from), std::move(to)}; };
  const K t = K::broadcast_to;
  cs.push_back(ok("broadcast_to new leading axis", t, bc({3}, {2, 3}), {{3}}, {2, 3}));
  cs.push_back(ok("broadcast_to scalar", t, bc({}, {2, 2}), {{}}, {2, 2}));
  cs.push_back(ok("broadcast_to 1 -> n", t, bc({1, 3}, {4, 3}), {{1, 3}}, {4, 3}));
  // Left-aligned: (3) matches the first 3 and the trailing 2 is new. NumPy would reject this.
  cs.push_back(ok("broadcast_to trailing new axis", t, bc({3}, {3, 2}), {{3}}, {3, 2}));
  cs.push_back(ok("broadcast_to 1 -> 0", t, bc({1}, {0}), {{1}}, {0}));
  cs.push_back(bad("broadcast_to (2)->(3)", t, bc({2}, {3}), {{2}}, "cannot broadcast (2) to (3)"));
  cs.push_back(bad("broadcast_to (2,3)->(3,2)", t, bc({2, 3}, {3, 2}), {{2, 3}},
                   "cannot broadcast (2,3) to (3,2)"));
  cs.push_back(bad("broadcast_to to lower rank", t, bc({2, 3}, {2}), {{2, 3}}, "cannot broadcast"));
  cs.push_back(bad("broadcast_to parent differs", t, bc({3}, {2, 3}), {{4}},
                   "parent shape (4) differs from from_shape (3)"));

  for (OpKind k : {K::reduce_sum, K::reduce_mean}) {
    std::string n(op_name(k));
    cs.push_back(ok(n + " middle axis (torch: (2,4))", k, AxisAttrs{1}, {{2, 3, 4}}, {2, 4}));
    cs.push_back(ok(n + " last axis of vector", k, AxisAttrs{0}, {{5}}, {}));
    cs.push_back(ok(n + " zero-size axis (torch: (2))", k, AxisAttrs{1}, {{2, 0}}, {2}));
    cs.push_back(bad(n + " axis = rank", k, AxisAttrs{3}, {{2, 3, 4}},
                     "invalid axis 3 for input (2,3,4) of rank 3"));
    cs.push_back(bad(n + " negative axis", k, AxisAttrs{-1}, {{2, 3}}, "invalid axis -1"));
    cs.push_back(bad(n + " scalar", k, AxisAttrs{0}, {{}}, "invalid axis 0 for input () of rank 0"));
  }
  cs.push_back(ok("sum matrix", K::sum, kNo, {{2, 3}}, {}));
  cs.push_back(ok("sum zero-size", K::sum, kNo, {{0}}, {}));
  cs.push_back(ok("sum scalar", K::sum, kNo, {{}}, {}));
  cs.push_back(bad("sum two parents", K::sum, kNo, {{2}, {2}}, "expected 1 parent, got 2"));

  for (OpKind k : {K::softmax, K::layernorm}) {
    std::string n(op_name(k));
    cs.push_back(ok(n + " last axis", k, AxisAttrs{1}, {{2, 3}}, {2, 3}));
    cs.push_back(ok(n + " first axis", k, AxisAttrs{0}, {{2, 3, 4}}, {2, 3, 4}));
    cs.push_back(bad(n + " axis = rank", k, AxisAttrs{2}, {{2, 3}}, "invalid axis 2 for input (2,3) of rank 2"));
    cs.push_back(bad(n + " scalar", k, AxisAttrs{0}, {{}}, "invalid axis 0"));
  }

  auto rs = [](Shape in, Shape out) { return ReshapeAttrs{std::move(in), std::move(out)}; };
  cs.push_back(ok("reshape (2,3)->(3,2)", K::reshape, rs({2, 3}, {3, 2}), {{2, 3}}, {3, 2}));
  cs.push_back(ok("reshape to scalar", K::reshape, rs({1, 1}, {}), {{1, 1}}, {}));
  cs.push_back(ok("reshape zero-size", K::reshape, rs({2, 0}, {0, 5}), {{2, 0}}, {0, 5}));
  cs.push_back(bad("reshape numel", K::reshape, rs({2, 3}, {4, 2}), {{2, 3}},
                   "element count mismatch: (2,3) has 6, (4,2) has 8"));
  cs.push_back(bad("reshape parent differs", K::reshape, rs({2, 3}, {6}), {{3, 2}},
                   "parent shape (3,2) differs from in_shape (2,3)"));

  cs.push_back(ok("flatten (2,3,4)", K::flatten, FlattenAttrs{{2, 3, 4}}, {{2, 3, 4}}, {24}));
  cs.push_back(ok("flatten zero-size", K::flatten, FlattenAttrs{{2, 0}}, {{2, 0}}, {0}));
  cs.push_back(ok("flatten scalar", K::flatten, FlattenAttrs{{}}, {{}}, {1}));
  cs.push_back(bad("flatten parent differs", K::flatten, FlattenAttrs{{2, 3}}, {{3, 2}},
                   "parent shape (3,2) differs from value_shape (2,3)"));

  const K cc = K::concat;
  cs.push_back(ok("concat axis 0", cc, AxisAttrs{0}, {{2, 3}, {4, 3}}, {6, 3}));
  cs.push_back(ok("concat axis 1, three parents (torch: (2,4))", cc, AxisAttrs{1},
                  {{2, 3}, {2, 1}, {2, 0}}, {2, 4}));
  cs.push_back(bad("concat one parent (TorchLean needs 2)", cc, AxisAttrs{0}, {{2, 3}},
                   "expected at least 2 parents, got 1"));
  cs.push_back(bad("concat no parents", cc, AxisAttrs{0}, {}, "expected at least 1 parent, got 0"));
  cs.push_back(bad("concat rank mismatch", cc, AxisAttrs{0}, {{2, 3}, {2}}, "parent 1 has shape (2) of rank 1"));
  cs.push_back(bad("concat off-axis mismatch", cc, AxisAttrs{0}, {{2, 3}, {2, 4}},
                   "parent 1 has shape (2,4), parent 0 has (2,3); shapes must agree except along axis 0"));
  cs.push_back(bad("concat axis out of range", cc, AxisAttrs{2}, {{2, 3}, {2, 3}}, "invalid axis 2"));

  cs.push_back(ok("swap_first_two rank 3", K::swap_first_two, kNo, {{2, 3, 4}}, {3, 2, 4}));
  cs.push_back(ok("swap_first_two rank 2", K::swap_first_two, kNo, {{2, 0}}, {0, 2}));
  cs.push_back(bad("swap_first_two rank 1", K::swap_first_two, kNo, {{5}}, "expected rank >= 2, got (5)"));
  cs.push_back(ok("transpose3d_last_two", K::transpose3d_last_two, kNo, {{2, 3, 4}}, {2, 4, 3}));
  cs.push_back(bad("transpose3d_last_two rank 2", K::transpose3d_last_two, kNo, {{3, 4}},
                   "expected rank 3, got (3,4)"));
  cs.push_back(bad("transpose3d_last_two rank 4", K::transpose3d_last_two, kNo, {{1, 2, 3, 4}},
                   "expected rank 3"));
  return cs;
}

std::vector<ShapeCase> other_cases() {
  std::vector<ShapeCase> cs;
  cs.push_back(ok("input declared", K::input, kNo, {}, {2, 3}, {2, 3}));
  cs.push_back(bad("input with parent", K::input, kNo, {{2}}, "expected 0 parents, got 1", {2}));
  cs.push_back(ok("const value_shape", K::constant, ConstAttrs{{2, 2}}, {}, {2, 2}));
  cs.push_back(ok("const zero-size", K::constant, ConstAttrs{{0, 3}}, {}, {0, 3}));
  cs.push_back(bad("const with parent", K::constant, ConstAttrs{{2}}, {{2}}, "expected 0 parents, got 1"));
  cs.push_back(ok("rand_uniform declared", K::rand_uniform, SeedAttrs{7}, {}, {4}, {4}));
  cs.push_back(bad("rand_uniform with parent", K::rand_uniform, SeedAttrs{7}, {{}}, "expected 0 parents"));
  cs.push_back(ok("bernoulli_mask declared", K::bernoulli_mask, SeedAttrs{1}, {{}}, {3, 4}, {3, 4}));
  cs.push_back(bad("bernoulli_mask vector keepProb", K::bernoulli_mask, SeedAttrs{1}, {{1}},
                   "expected scalar keepProb parent (), got (1)", {3}));

  const K m = K::matmul;
  cs.push_back(ok("matmul 2-D (torch: (2,4))", m, kNo, {{2, 3}, {3, 4}}, {2, 4}));
  cs.push_back(ok("matmul batched 3-D (torch: (5,2,4))", m, kNo, {{5, 2, 3}, {5, 3, 4}}, {5, 2, 4}));
  cs.push_back(ok("matmul zero rows", m, kNo, {{0, 3}, {3, 4}}, {0, 4}));
  cs.push_back(ok("matmul zero inner", m, kNo, {{2, 0}, {0, 4}}, {2, 4}));
  cs.push_back(bad("matmul inner mismatch", m, kNo, {{2, 3}, {4, 5}}, "inner dims mismatch: (2,3) x (4,5)"));
  cs.push_back(bad("matmul batch mismatch", m, kNo, {{2, 2, 3}, {3, 3, 4}}, "batch dims mismatch"));
  cs.push_back(bad("matmul batched inner mismatch", m, kNo, {{2, 2, 3}, {2, 4, 4}}, "inner dims mismatch"));
  cs.push_back(bad("matmul vectors", m, kNo, {{3}, {3}}, "unsupported shapes (3) x (3)"));
  cs.push_back(bad("matmul mixed ranks", m, kNo, {{2, 3}, {1, 3, 4}}, "unsupported shapes"));

  const K l = K::linear;
  cs.push_back(ok("linear vector", l, kNo, {{3}}, {4}, {4}));
  cs.push_back(ok("linear batch (torch: (2,7,8))", l, kNo, {{2, 7, 3}}, {2, 7, 8}, {2, 7, 8}));
  cs.push_back(ok("linear zero batch", l, kNo, {{0, 3}}, {0, 5}, {0, 5}));
  cs.push_back(bad("linear leading dims", l, kNo, {{2, 3}},
                   "leading dims must be preserved: input (2,3), declared (3,5)", {3, 5}));
  cs.push_back(bad("linear scalar input", l, kNo, {{}}, "expected rank >= 1 input and output", {4}));
  cs.push_back(bad("linear scalar output", l, kNo, {{3}}, "expected rank >= 1", {}));

  cs.push_back(ok("mse_loss", K::mse_loss, kNo, {{2, 3}, {2, 3}}, {}));
  cs.push_back(ok("mse_loss zero-size", K::mse_loss, kNo, {{0}, {0}}, {}));
  cs.push_back(bad("mse_loss mismatch", K::mse_loss, kNo, {{2, 3}, {3, 2}}, "shape mismatch: (2,3) vs (3,2)"));
  // Attributes of the wrong type are a user error (a malformed graph), not a crash.
  cs.push_back(bad("wrong attribute type", K::max_pool2d, AxisAttrs{0}, {{1, 4, 4}},
                   "attributes are AxisAttrs, expected Pool2dAttrs"));
  return cs;
}

// The extension ops (docs/ir.md). Conv/pool/matmul shapes confirmed with PyTorch 1.13 (F.conv2d of
// F.pad(x), F.max_pool2d, F.avg_pool2d, torch.matmul), noted per case.
std::vector<ShapeCase> extension_cases() {
  std::vector<ShapeCase> cs;
  for (OpKind k : {K::neg, K::erf, K::gelu, K::softplus, K::silu}) {
    std::string n(op_name(k));
    cs.push_back(ok(n + " keeps the shape", k, kNo, {{2, 0, 3}}, {2, 0, 3}));
    cs.push_back(bad(n + " two parents", k, kNo, {{2}, {2}}, "expected 1 parent, got 2"));
  }
  cs.push_back(ok("div", K::div, kNo, {{2, 3}, {2, 3}}, {2, 3}));
  cs.push_back(
      bad("div no implicit broadcast", K::div, kNo, {{2, 3}, {1, 3}}, "(2,3), parent 1 is (1,3)"));
  cs.push_back(ok("pow_const", K::pow_const, PowAttrs{1.5}, {{4}}, {4}));
  cs.push_back(ok("pow_const p=-1024", K::pow_const, PowAttrs{-1024}, {{4}}, {4}));
  cs.push_back(bad("pow_const p=1025", K::pow_const, PowAttrs{1025}, {{4}}, "|p| <= 1024"));
  cs.push_back(
      bad("pow_const NaN", K::pow_const, PowAttrs{std::nan("")}, {{4}}, "exponent must be finite"));
  cs.push_back(ok("leaky_relu", K::leaky_relu, LeakyReluAttrs{0.01}, {{3}}, {3}));
  cs.push_back(bad("leaky_relu inf", K::leaky_relu, LeakyReluAttrs{INFINITY}, {{3}},
                   "alpha must be finite"));
  cs.push_back(ok("clamp", K::clamp, ClampAttrs{0, 6, true, true}, {{3}}, {3}));
  cs.push_back(ok("clamp NaN but unused bound", K::clamp, ClampAttrs{std::nan(""), 6, false, true},
                  {{3}}, {3}));
  cs.push_back(bad("clamp NaN bound", K::clamp, ClampAttrs{0, std::nan(""), true, true}, {{3}},
                   "must not be NaN"));
  for (const char* c : {"lt", "le", "gt", "ge", "eq", "ne"})
    cs.push_back(ok(std::string("compare ") + c, K::compare, CompareAttrs{c}, {{2}, {2}}, {2}));
  cs.push_back(bad("compare unknown", K::compare, CompareAttrs{"less"}, {{2}, {2}},
                   "unknown comparison \"less\""));
  cs.push_back(
      bad("compare mismatch", K::compare, CompareAttrs{"lt"}, {{2}, {3}}, "shape mismatch"));
  cs.push_back(ok("where", K::where, kNo, {{2, 2}, {2, 2}, {2, 2}}, {2, 2}));
  cs.push_back(bad("where mismatch", K::where, kNo, {{2, 2}, {2, 2}, {2}}, "parent 2 is (2)"));
  // broadcast: NumPy's right-aligned rule (torch.broadcast_to agrees on every case here).
  cs.push_back(ok("broadcast (3,1) to (2,3,4)", K::broadcast, BroadcastAttrs{{2, 3, 4}}, {{3, 1}},
                  {2, 3, 4}));
  cs.push_back(ok("broadcast scalar", K::broadcast, BroadcastAttrs{{2}}, {{}}, {2}));
  cs.push_back(ok("broadcast 1 to 0", K::broadcast, BroadcastAttrs{{0, 3}}, {{1, 3}}, {0, 3}));
  cs.push_back(bad("broadcast left-aligned only", K::broadcast, BroadcastAttrs{{2, 3}}, {{2}},
                   "cannot broadcast (2) to (2,3)"));
  cs.push_back(bad("broadcast to lower rank", K::broadcast, BroadcastAttrs{{3}}, {{1, 3}},
                   "cannot broadcast"));
  // slice: x[4::-2, 1:6:2] of (5,7) is (3,3) in Python; ends -1 stand for "before 0".
  cs.push_back(
      ok("slice mixed steps", K::slice, SliceAttrs{{4, 1}, {-1, 6}, {-2, 2}}, {{5, 7}}, {3, 3}));
  cs.push_back(ok("slice empty", K::slice, SliceAttrs{{3}, {1}, {1}}, {{5}}, {0}));
  cs.push_back(ok("slice of an empty dim", K::slice, SliceAttrs{{0}, {0}, {1}}, {{0}}, {0}));
  cs.push_back(
      bad("slice step 0", K::slice, SliceAttrs{{0}, {5}, {0}}, {{5}}, "step must not be 0"));
  cs.push_back(bad("slice end beyond dim", K::slice, SliceAttrs{{0}, {6}, {1}}, {{5}},
                   "must lie in [0, 5]"));
  cs.push_back(bad("slice negative start", K::slice, SliceAttrs{{-1}, {3}, {1}}, {{5}},
                   "must lie in [0, 5]"));
  cs.push_back(
      bad("slice axes", K::slice, SliceAttrs{{0}, {1}, {1}}, {{5, 2}}, "one entry per axis"));
  cs.push_back(ok("pad", K::pad, PadAttrs{{1, 0}, {2, 3}, 0}, {{2, 2}}, {5, 5}));
  cs.push_back(bad("pad negative", K::pad, PadAttrs{{0}, {-1}, 0}, {{2}},
                   "pads_end entry must be >= 0, got -1"));
  cs.push_back(bad("pad axes", K::pad, PadAttrs{{0, 0}, {0, 0}, 0}, {{2}}, "one entry per axis"));
  // gather: ONNX Gather's data[:axis] + indices + data[axis+1:].
  cs.push_back(ok("gather axis 1", K::gather, GatherAttrs{1}, {{2, 5, 3}, {4, 2}}, {2, 4, 2, 3}));
  cs.push_back(ok("gather scalar index", K::gather, GatherAttrs{0}, {{5, 3}, {}}, {3}));
  cs.push_back(bad("gather axis", K::gather, GatherAttrs{2}, {{5, 3}, {1}},
                   "invalid axis 2 for input (5,3)"));
  cs.push_back(ok("log_softmax", K::log_softmax, AxisAttrs{1}, {{2, 3}}, {2, 3}));
  cs.push_back(bad("log_softmax axis", K::log_softmax, AxisAttrs{2}, {{2, 3}}, "invalid axis 2"));
  cs.push_back(ok("cross_entropy", K::cross_entropy, kNo, {{4, 10}, {4}}, {}));
  cs.push_back(bad("cross_entropy batch", K::cross_entropy, kNo, {{4, 10}, {3}},
                   "expected logits (N,C) and targets (N)"));
  cs.push_back(
      bad("cross_entropy no classes", K::cross_entropy, kNo, {{4, 0}, {4}}, "must be > 0"));
  // torch: F.conv2d(F.pad(zeros(2,4,7,9), (1,0,2,1)), zeros(6,2,3,2), stride=(2,3),
  // dilation=(2,1), groups=2) has shape (2,6,3,3).
  const Conv2dNchwAttrs cv{2, 3, 2, 1, 1, 0, 2, 1, 2};
  cs.push_back(ok("conv2d_nchw (torch: (2,6,3,3))", K::conv2d_nchw, cv,
                  {{2, 4, 7, 9}, {6, 2, 3, 2}}, {2, 6, 3, 3}));
  cs.push_back(ok("conv2d_nchw with bias", K::conv2d_nchw, cv, {{2, 4, 7, 9}, {6, 2, 3, 2}, {6}},
                  {2, 6, 3, 3}));
  cs.push_back(bad("conv2d_nchw groups", K::conv2d_nchw, cv, {{2, 3, 7, 9}, {6, 2, 3, 2}},
                   "input channels 3 are not divisible by groups=2"));
  cs.push_back(bad("conv2d_nchw output groups", K::conv2d_nchw, cv, {{2, 4, 7, 9}, {5, 2, 3, 2}},
                   "output channels 5 are not divisible"));
  cs.push_back(bad("conv2d_nchw bias", K::conv2d_nchw, cv, {{2, 4, 7, 9}, {6, 2, 3, 2}, {5}},
                   "bias has shape (5), expected (6)"));
  cs.push_back(
      bad("conv2d_nchw one parent", K::conv2d_nchw, cv, {{2, 4, 7, 9}}, "expected 2 or 3 parents"));
  cs.push_back(bad("conv2d_nchw dilation 0", K::conv2d_nchw,
                   Conv2dNchwAttrs{1, 1, 0, 0, 0, 0, 0, 1, 1}, {{1, 1, 3, 3}, {1, 1, 1, 1}},
                   "dilation_h must be > 0, got 0"));
  // torch: F.max_pool2d(zeros(1,1,5,7), (3,2), stride=(2,3), padding=(1,1), ceil_mode=True) is
  // (1,1,3,3): the fourth column window would start in the end padding and is dropped.
  const PoolNchwAttrs pl{3, 2, 2, 3, 1, 1, 1, 1, true, false};
  for (OpKind k : {K::max_pool2d_nchw, K::avg_pool2d_nchw}) {
    std::string n(op_name(k));
    cs.push_back(ok(n + " ceil mode (torch: (1,1,3,3))", k, pl, {{1, 1, 5, 7}}, {1, 1, 3, 3}));
    cs.push_back(bad(n + " pad >= kernel", k, PoolNchwAttrs{2, 2, 1, 1, 2, 0, 0, 0, false, false},
                     {{1, 1, 5, 7}}, "must be < kH=2"));
    cs.push_back(
        bad(n + " not NCHW", k, pl, {{5, 7}}, "expected input of shape (N,C,H,W), got (5,7)"));
  }
  // torch: F.avg_pool2d(zeros(1,1,3,3), 2, stride=2, padding=1, ceil_mode=True) is (1,1,2,2).
  cs.push_back(ok("avg_pool2d_nchw ceil drop (torch: (1,1,2,2))", K::avg_pool2d_nchw,
                  PoolNchwAttrs{2, 2, 2, 2, 1, 1, 1, 1, true, true}, {{1, 1, 3, 3}}, {1, 1, 2, 2}));
  // Gradient ops: the declared shape must map to the gradient's shape.
  cs.push_back(ok("max_pool2d_nchw_grad", K::max_pool2d_nchw_grad, pl, {{1, 1, 5, 7}, {1, 1, 3, 3}},
                  {1, 1, 5, 7}, {1, 1, 5, 7}));
  cs.push_back(bad("max_pool2d_nchw_grad g", K::max_pool2d_nchw_grad, pl,
                   {{1, 1, 5, 7}, {1, 1, 3, 4}},
                   "max_pool2d_nchw of the declared shape (1,1,5,7) is (1,1,3,3), but the incoming "
                   "gradient has shape (1,1,3,4)",
                   {1, 1, 5, 7}));
  cs.push_back(ok("avg_pool2d_nchw_grad", K::avg_pool2d_nchw_grad, pl, {{1, 1, 3, 3}}, {1, 1, 5, 7},
                  {1, 1, 5, 7}));
  cs.push_back(bad("avg_pool2d_nchw_grad undeclared", K::avg_pool2d_nchw_grad, pl, {{1, 1, 3, 3}},
                   "(N,C,H,W), got ()"));
  cs.push_back(ok("conv2d_nchw_grad_input", K::conv2d_nchw_grad_input, cv,
                  {{2, 6, 3, 3}, {6, 2, 3, 2}}, {2, 4, 7, 9}, {2, 4, 7, 9}));
  // Stride 2 maps heights 6 and 7 alike; the declared shape decides.
  cs.push_back(ok("conv2d_nchw_grad_input other height", K::conv2d_nchw_grad_input, cv,
                  {{2, 6, 3, 3}, {6, 2, 3, 2}}, {2, 4, 6, 9}, {2, 4, 6, 9}));
  cs.push_back(bad("conv2d_nchw_grad_input g", K::conv2d_nchw_grad_input, cv,
                   {{2, 6, 4, 3}, {6, 2, 3, 2}}, "incoming gradient has shape (2,6,4,3)",
                   {2, 4, 7, 9}));
  cs.push_back(ok("conv2d_nchw_grad_weight", K::conv2d_nchw_grad_weight, cv,
                  {{2, 4, 7, 9}, {2, 6, 3, 3}}, {6, 2, 3, 2}, {6, 2, 3, 2}));
  cs.push_back(bad("conv2d_nchw_grad_weight g", K::conv2d_nchw_grad_weight, cv,
                   {{2, 4, 7, 9}, {2, 5, 3, 3}}, "(2,6,3,3)", {6, 2, 3, 2}));
  cs.push_back(ok("gather_grad", K::gather_grad, GatherAttrs{1}, {{4, 2}, {2, 4, 2, 3}}, {2, 5, 3},
                  {2, 5, 3}));
  cs.push_back(bad("gather_grad g", K::gather_grad, GatherAttrs{1}, {{4, 2}, {2, 4, 3}},
                   "gather of the declared shape (2,5,3) is (2,4,2,3)", {2, 5, 3}));
  cs.push_back(ok("slice_grad", K::slice_grad, SliceAttrs{{4, 1}, {-1, 6}, {-2, 2}}, {{3, 3}},
                  {5, 7}, {5, 7}));
  cs.push_back(bad("slice_grad g", K::slice_grad, SliceAttrs{{4, 1}, {-1, 6}, {-2, 2}}, {{3, 2}},
                   "slice of the declared shape (5,7) is (3,3)", {5, 7}));
  // matmul extension forms (torch.matmul agrees): equal batch dims of any rank, or a shared 2-D
  // right operand.
  cs.push_back(ok("matmul rank 4 (torch: (2,3,4,6))", K::matmul, kNo, {{2, 3, 4, 5}, {2, 3, 5, 6}},
                  {2, 3, 4, 6}));
  cs.push_back(ok("matmul shared right (torch: (2,3,4,6))", K::matmul, kNo, {{2, 3, 4, 5}, {5, 6}},
                  {2, 3, 4, 6}));
  cs.push_back(bad("matmul 4-D batch mismatch", K::matmul, kNo, {{2, 3, 4, 5}, {2, 2, 5, 6}},
                   "batch dims mismatch"));
  cs.push_back(bad("matmul shared left is not a form", K::matmul, kNo, {{4, 5}, {2, 5, 6}},
                   "unsupported shapes"));
  return cs;
}

std::vector<ShapeCase> all_cases() {
  std::vector<ShapeCase> all;
  for (auto part :
       {elementwise_cases(), window_cases(), layout_cases(), other_cases(), extension_cases()})
    all.insert(all.end(), part.begin(), part.end());
  return all;
}

Node make_node(const ShapeCase& c) {
  Node n;
  n.id = 1;
  n.kind = c.kind;
  n.attrs = c.attrs;
  n.shape = c.declared;
  return n;
}

TEST(ShapeInfer, CaseTable) {
  for (const ShapeCase& c : all_cases()) {
    SCOPED_TRACE(c.name);
    Node n = make_node(c);
    if (c.expect) {
      EXPECT_EQ(infer_shape(n, c.parents).str(), c.expect->str());
    } else {
      try {
        Shape s = infer_shape(n, c.parents);
        ADD_FAILURE() << "accepted, inferred " << s.str();
      } catch (const UserError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find(c.error), std::string::npos) << "message: " << msg;
        std::string prefix = "[" + std::string(op_name(c.kind)) + "] node 1: ";
        EXPECT_EQ(msg.rfind(prefix, 0), 0u) << "message: " << msg;
      }
    }
  }
}

TEST(ShapeInfer, EveryOpHasValidAndInvalidCases) {
  std::set<OpKind> valid, invalid;
  for (const ShapeCase& c : all_cases()) (c.expect ? valid : invalid).insert(c.kind);
  for (const OpInfo& info : kOpInfos) {
    EXPECT_TRUE(valid.contains(info.kind)) << "no valid shape case for " << info.json_kind;
    EXPECT_TRUE(invalid.contains(info.kind)) << "no invalid shape case for " << info.json_kind;
  }
}

}  // namespace
}  // namespace torchlean::ir
