// Shape rules of all 41 v1 ops as a case table: valid cases with the expected output shape, and
// invalid cases with a substring of the expected message. Expected shapes follow TorchLean v1's
// rules (NN/IR/Infer.lean, NN/IR/OpContracts.lean); the conv/pool/permute/concat/matmul/linear/
// reduce shapes were also confirmed with PyTorch (F.conv2d, F.max_pool2d, ...), noted per case.
#include <gtest/gtest.h>

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

std::vector<ShapeCase> all_cases() {
  std::vector<ShapeCase> all;
  for (auto part : {elementwise_cases(), window_cases(), layout_cases(), other_cases()})
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
