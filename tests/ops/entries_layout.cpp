// Op database entries for the value-moving ops (input, const, permute, broadcast_to, reshape,
// flatten, concat, swap_first_two, transpose3d_last_two; the extension ops broadcast, slice,
// slice_grad, pad, gather, gather_grad) and the seeded random ops. Layout
// expectations are written out by hand or from the index formula in the op's spec; random draws
// come from an independent Python implementation of TorchLean's Random.lean (command below).
#include <cmath>

#include "op_database.hpp"

namespace torchlean::testing {

namespace {

using ir::OpKind;

std::vector<double> iota(int n, double start = 0) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(start + i);
  return v;
}

GraphSpec unary(OpKind kind, ir::Attrs attrs, Tensor<double> x, Shape out) {
  return GraphSpec{kind, std::move(attrs), {std::move(x)}, std::move(out), {}};
}

// Draws u_j (TorchLean's sampleNat) for the expected values below, produced by this independent
// re-implementation of Random.lean (splitmix64, keyOf, sampleNat with denom 2^32):
//   /usr/bin/python3 -c '
//   M=(1<<64)-1
//   def sm(x):
//     z=(x+0x9e3779b97f4a7c15)&M; z=((z^(z>>30))*0xbf58476d1ce4e5b9)&M
//     z=((z^(z>>27))*0x94d049bb133111eb)&M; return z^(z>>31)
//   for seed,node,n in [(7,1,6),(0,1,1),(3,1,8)]:
//     k=sm((seed+node)&M); print(seed,node,[hex(sm((k+j)&M)%(1<<32)) for j in range(n)])'
// (splitmix64(0) = 0xe220a8397b1dcdaf, the published first SplitMix64 output for seed 0.)
const std::vector<uint32_t> kDrawsSeed7 = {0x6c0ac966, 0x2a789298, 0xad3516f3,
                                           0x5c404dde, 0xafcaf297, 0x61a4cd6e};
const std::vector<uint32_t> kDrawsSeed0 = {0x7439611e};
const std::vector<uint32_t> kDrawsSeed3 = {0x0dedf5cb, 0x300f9a27, 0x92985897, 0x96e47bda,
                                           0x06936d7c, 0xfee747e8, 0x923b68ab, 0x6ee87809};

// u / 2^32 exactly (binary64 holds it), its binary32 rounding, and the rational.
Sample& expect_draws(Sample& s, const std::vector<uint32_t>& draws) {
  std::vector<double> f64, f32;
  std::vector<ExactExpect> exact;
  for (uint32_t u : draws) {
    double v = std::ldexp(static_cast<double>(u), -32);
    f64.push_back(v);
    f32.push_back(static_cast<float>(v));
    exact.push_back(q(std::to_string(u) + "/4294967296"));
  }
  expect_f64(s, f64);
  expect_f32(s, f32);
  return expect_exact(s, exact);
}

Sample& expect_mask(Sample& s, const std::vector<uint32_t>& draws, double keep) {
  std::vector<double> mask;
  for (uint32_t u : draws)
    mask.push_back(std::ldexp(static_cast<double>(u), -32) < keep ? 1.0 : 0.0);
  return s.ieee_only ? expect_ieee(s, mask) : expect_all(s, mask);
}

GraphSpec mask_spec(int64_t seed, double keep, Shape out) {
  return GraphSpec{OpKind::bernoulli_mask, ir::SeedAttrs{seed}, {scalar(keep)}, std::move(out), {}};
}

GraphSpec broadcast(Tensor<double> x, Shape to) {
  Shape from = x.shape();
  return unary(OpKind::broadcast_to, ir::BroadcastToAttrs{from, to}, std::move(x), to);
}

}  // namespace

OpEntry entry_input() {
  GraphSpec spec{OpKind::input,
                 ir::NoAttrs{},
                 {tensor({2, 3}, {1, -0.0, kInf, -kInf, kNaN, kMinSubF32})},
                 Shape{2, 3},
                 {}};
  Sample s = sample("bound value with specials", spec);
  expect_ieee(ieee_only(s), {1, -0.0, kInf, -kInf, kNaN, kMinSubF32});
  Sample v =
      sample("bound value",
             GraphSpec{OpKind::input, ir::NoAttrs{}, {tensor({2}, {0.5, -2})}, Shape{2}, {}});
  expect_all(v, {0.5, -2});
  GraphSpec bad{OpKind::input, ir::NoAttrs{}, {tensor({3}, {1, 2, 3})}, Shape{2}, {}};
  return OpEntry{OpKind::input,
                 {s, v},
                 {error("bound tensor has the wrong shape", bad, {"input 0", "(2)", "(3)"})}};
}

OpEntry entry_constant() {
  auto constant = [](Tensor<double> value, Shape shape) {
    return GraphSpec{
        OpKind::constant, ir::ConstAttrs{shape}, {}, shape, {{"value", std::move(value)}}};
  };
  Sample s =
      sample("payload with specials", constant(tensor({2, 2}, {1.5, -0.0, kInf, kNaN}), {2, 2}));
  expect_ieee(ieee_only(s), {1.5, -0.0, kInf, kNaN});
  Sample v = sample("payload", constant(tensor({2}, {0.25, -3}), {2}));
  expect_all(v, {0.25, -3});
  Sample empty = sample("empty", constant(tensor({0, 3}, {}), {0, 3}));
  expect_all(empty, {});
  GraphSpec missing = constant(tensor({2}, {1, 2}), {2});
  missing.slots.clear();
  GraphSpec wrong = constant(tensor({3}, {1, 2, 3}), {2, 2});
  return OpEntry{OpKind::constant,
                 {s, v, empty},
                 {error("missing payload", missing, {"[const] node 1", "'value'"}),
                  error("payload shape", wrong, {"[const] node 1", "'value'", "(3)", "(2,2)"})}};
}

OpEntry entry_permute() {
  OpEntry e{OpKind::permute, {}, {}};
  auto permute = [](Tensor<double> x, std::vector<int64_t> perm, Shape out) {
    return unary(OpKind::permute, ir::PermuteAttrs{std::move(perm)}, std::move(x), std::move(out));
  };
  Sample t = sample("transpose", permute(tensor({2, 3}, {1, 2, 3, 4, 5, 6}), {1, 0}, {3, 2}));
  e.samples.push_back(expect_all(t, {1, 4, 2, 5, 3, 6}));
  // x[i][j][k] = 12i + 4j + k; perm (2,0,1) gives out[a][b][c] = x[b][c][a] = 12b + 4c + a.
  std::vector<double> want;
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 3; ++c) want.push_back(12 * b + 4 * c + a);
  Sample r3 =
      sample("rank 3, perm (2,0,1)", permute(tensor({2, 3, 4}, iota(24)), {2, 0, 1}, {4, 2, 3}));
  e.samples.push_back(expect_all(r3, want));
  Sample specials = sample("bits are moved unchanged",
                           permute(tensor({2, 2}, {-0.0, kNaN, kInf, kMinSubF64}), {1, 0}, {2, 2}));
  e.samples.push_back(expect_f64(ieee_only(specials), {-0.0, kInf, kNaN, kMinSubF64}));
  Sample empty = sample("empty", permute(tensor({0, 2}, {}), {1, 0}, {2, 0}));
  e.samples.push_back(expect_all(empty, {}));
  e.errors.push_back(error("not a permutation", permute(tensor({2, 3}, iota(6)), {0, 0}, {2, 2}),
                           {"[permute] node 1", "(0,0)"}));
  return e;
}

OpEntry entry_rand_uniform() {
  OpEntry e{OpKind::rand_uniform, {}, {}};
  e.cross = CrossDomain::rounded_once;  // F64 and Exact hold u / 2^32 exactly, F32 rounds it
  auto rand = [](int64_t seed, Shape out) {
    return GraphSpec{OpKind::rand_uniform, ir::SeedAttrs{seed}, {}, std::move(out), {}};
  };
  // The op is node 1 (node 0 is the graph's input), so the key is splitmix64(seed + 1).
  Sample s7 = sample("seed 7, (2,3)", rand(7, {2, 3}));
  e.samples.push_back(expect_draws(s7, kDrawsSeed7));
  Sample s0 = sample("seed 0, rank 0", rand(0, {}));
  e.samples.push_back(expect_draws(s0, kDrawsSeed0));
  Sample empty = sample("empty", rand(5, {0, 4}));
  e.samples.push_back(expect_all(empty, {}));
  GraphSpec with_parent = rand(1, {2});
  with_parent.inputs = {tensor({2}, {1, 2})};
  e.errors.push_back(
      error("has a parent", with_parent, {"[rand_uniform] node 1", "0 parents", "got 1"}));
  return e;
}

OpEntry entry_bernoulli_mask() {
  OpEntry e{OpKind::bernoulli_mask, {}, {}};
  e.cross = CrossDomain::exact_f64;
  e.range = InputRange::unit;
  // mask_j = 1 exactly when u_j / 2^32 < keepProb; no rescaling by 1/keepProb.
  Sample half = sample("keep 0.5", mask_spec(3, 0.5, {8}));
  e.samples.push_back(expect_mask(half, kDrawsSeed3, 0.5));
  Sample quarter = sample("keep 0.25, (2,4)", mask_spec(3, 0.25, {2, 4}));
  e.samples.push_back(expect_mask(quarter, kDrawsSeed3, 0.25));
  Sample none = sample("keep 0", mask_spec(3, 0.0, {8}));
  e.samples.push_back(expect_all(none, std::vector<double>(8, 0.0)));
  Sample all = sample("keep 1", mask_spec(3, 1.0, {8}));
  e.samples.push_back(expect_all(all, std::vector<double>(8, 1.0)));
  Sample nan = sample("NaN keepProb keeps nothing", mask_spec(3, kNaN, {3}));
  e.samples.push_back(expect_ieee(ieee_only(nan), {0.0, 0.0, 0.0}));
  e.errors.push_back(error(
      "keepProb is not a scalar",
      GraphSpec{OpKind::bernoulli_mask, ir::SeedAttrs{0}, {tensor({2}, {0.5, 0.5})}, Shape{2}, {}},
      {"[bernoulli_mask] node 1", "(2)"}));
  return e;
}

OpEntry entry_broadcast_to() {
  OpEntry e{OpKind::broadcast_to, {}, {}};
  // TorchLean's left-aligned greedy rule: (3) -> (3,3) keeps the 3 as the FIRST axis.
  Sample left = sample("(3) -> (3,3) is left-aligned", broadcast(tensor({3}, {1, 2, 3}), {3, 3}));
  e.samples.push_back(expect_all(left, {1, 1, 1, 2, 2, 2, 3, 3, 3}));
  // 2 matches neither 3 nor 1, so the 3 is a new axis and the vector repeats.
  Sample expand = sample("(2) -> (3,2) adds an axis", broadcast(tensor({2}, {1, 2}), {3, 2}));
  e.samples.push_back(expect_all(expand, {1, 2, 1, 2, 1, 2}));
  Sample ones = sample("(1,2) -> (3,2) repeats the 1", broadcast(tensor({1, 2}, {1, 2}), {3, 2}));
  e.samples.push_back(expect_all(ones, {1, 2, 1, 2, 1, 2}));
  Sample col = sample("(2,1) -> (2,3)", broadcast(tensor({2, 1}, {1, 2}), {2, 3}));
  e.samples.push_back(expect_all(col, {1, 1, 1, 2, 2, 2}));
  Sample fill = sample("() -> (2,2)", broadcast(scalar(-0.0), {2, 2}));
  e.samples.push_back(expect_all(fill, {-0.0, -0.0, -0.0, -0.0}));
  // (2,3) -> (2,4,3): 2 = 2, then 3 != 4 makes 4 a new axis, then 3 = 3: out[i][j][k] = x[i][k].
  std::vector<double> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) want.push_back(10 * i + k);
  Sample inner = sample("(2,3) -> (2,4,3) inserts a middle axis",
                        broadcast(tensor({2, 3}, {0, 1, 2, 10, 11, 12}), {2, 4, 3}));
  e.samples.push_back(expect_all(inner, want));
  Sample empty = sample("(1) -> (0)", broadcast(tensor({1}, {5}), {0}));
  e.samples.push_back(expect_all(empty, {}));
  e.errors.push_back(error("incompatible", broadcast(tensor({2}, {1, 2}), {3}),
                           {"[broadcast_to] node 1", "(2)", "(3)"}));
  GraphSpec wrong_from = broadcast(tensor({2}, {1, 2}), {2, 2});
  std::get<ir::BroadcastToAttrs>(wrong_from.attrs).from_shape = Shape{1};
  e.errors.push_back(error("from_shape differs from the parent", wrong_from,
                           {"[broadcast_to] node 1", "(2)", "(1)"}));
  return e;
}

OpEntry entry_reshape() {
  OpEntry e{OpKind::reshape, {}, {}};
  auto reshape = [](Tensor<double> x, Shape out) {
    Shape in = x.shape();
    return unary(OpKind::reshape, ir::ReshapeAttrs{in, out}, std::move(x), out);
  };
  Sample r = sample("(2,3) -> (3,2)", reshape(tensor({2, 3}, {1, 2, 3, 4, 5, 6}), {3, 2}));
  e.samples.push_back(expect_all(r, {1, 2, 3, 4, 5, 6}));
  Sample r0 = sample("(1) -> ()", reshape(tensor({1}, {-0.0}), {}));
  e.samples.push_back(expect_all(r0, {-0.0}));
  Sample empty = sample("(0,3) -> (3,0)", reshape(tensor({0, 3}, {}), {3, 0}));
  e.samples.push_back(expect_all(empty, {}));
  e.errors.push_back(error("element count differs", reshape(tensor({2, 3}, iota(6)), {4}),
                           {"[reshape] node 1", "(2,3)", "(4)"}));
  return e;
}

OpEntry entry_flatten() {
  OpEntry e{OpKind::flatten, {}, {}};
  auto flatten = [](Tensor<double> x) {
    Shape in = x.shape();
    return unary(OpKind::flatten, ir::FlattenAttrs{in}, std::move(x), Shape{in.numel()});
  };
  Sample f = sample("(2,2) -> (4)", flatten(tensor({2, 2}, {1, 2, 3, 4})));
  e.samples.push_back(expect_all(f, {1, 2, 3, 4}));
  Sample r0 = sample("() -> (1)", flatten(scalar(9)));
  e.samples.push_back(expect_all(r0, {9}));
  Sample empty = sample("(0,5) -> (0)", flatten(tensor({0, 5}, {})));
  e.samples.push_back(expect_all(empty, {}));
  GraphSpec bad = flatten(tensor({2, 2}, {1, 2, 3, 4}));
  std::get<ir::FlattenAttrs>(bad.attrs).value_shape = Shape{4};
  e.errors.push_back(
      error("value_shape differs from the parent", bad, {"[flatten] node 1", "(2,2)", "(4)"}));
  return e;
}

OpEntry entry_concat() {
  OpEntry e{OpKind::concat, {}, {}};
  auto concat = [](std::vector<Tensor<double>> xs, int64_t axis, Shape out) {
    return GraphSpec{OpKind::concat, ir::AxisAttrs{axis}, std::move(xs), std::move(out), {}};
  };
  Sample a0 =
      sample("axis 0", concat({tensor({1, 2}, {1, 2}), tensor({2, 2}, {3, 4, 5, 6})}, 0, {3, 2}));
  e.samples.push_back(expect_all(a0, {1, 2, 3, 4, 5, 6}));
  Sample a1 =
      sample("axis 1", concat({tensor({2, 1}, {1, 2}), tensor({2, 2}, {3, 4, 5, 6})}, 1, {2, 3}));
  e.samples.push_back(expect_all(a1, {1, 3, 4, 2, 5, 6}));
  Sample three =
      sample("three parents",
             concat({tensor({1}, {1}), tensor({2}, {2, 3}), tensor({1}, {-0.0})}, 0, {4}));
  e.samples.push_back(expect_all(three, {1, 2, 3, -0.0}));
  Sample empty_part = sample("an empty parent",
                             concat({tensor({2, 0}, {}), tensor({2, 2}, {1, 2, 3, 4})}, 1, {2, 2}));
  e.samples.push_back(expect_all(empty_part, {1, 2, 3, 4}));
  e.errors.push_back(error("one parent", concat({tensor({2}, {1, 2})}, 0, {2}),
                           {"[concat] node 1", "at least 2"}));
  e.errors.push_back(error("shapes differ off the axis",
                           concat({tensor({2, 1}, {1, 2}), tensor({3, 1}, {1, 2, 3})}, 1, {2, 2}),
                           {"[concat] node 2", "(3,1)", "(2,1)"}));
  return e;
}

OpEntry entry_swap_first_two() {
  OpEntry e{OpKind::swap_first_two, {}, {}};
  auto swap = [](Tensor<double> x, Shape out) {
    return unary(OpKind::swap_first_two, ir::NoAttrs{}, std::move(x), std::move(out));
  };
  Sample m = sample("(2,3) -> (3,2)", swap(tensor({2, 3}, {1, 2, 3, 4, 5, 6}), {3, 2}));
  e.samples.push_back(expect_all(m, {1, 4, 2, 5, 3, 6}));
  // y[j][i][r] = x[i][j][r] with x[i][j][r] = 4i + 2j + r.
  Sample r3 = sample("(2,2,2) keeps the last axis", swap(tensor({2, 2, 2}, iota(8)), {2, 2, 2}));
  e.samples.push_back(expect_all(r3, {0, 1, 4, 5, 2, 3, 6, 7}));
  Sample empty = sample("(0,3) -> (3,0)", swap(tensor({0, 3}, {}), {3, 0}));
  e.samples.push_back(expect_all(empty, {}));
  e.errors.push_back(
      error("rank 1", swap(tensor({2}, {1, 2}), {2}), {"[swap_first_two] node 1", "(2)"}));
  return e;
}

OpEntry entry_transpose3d_last_two() {
  OpEntry e{OpKind::transpose3d_last_two, {}, {}};
  auto tr = [](Tensor<double> x, Shape out) {
    return unary(OpKind::transpose3d_last_two, ir::NoAttrs{}, std::move(x), std::move(out));
  };
  // x[i][j][k] = 6i + 3j + k of shape (2,2,3); y[i][k][j] = x[i][j][k].
  Sample t = sample("(2,2,3) -> (2,3,2)", tr(tensor({2, 2, 3}, iota(12)), {2, 3, 2}));
  e.samples.push_back(expect_all(t, {0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11}));
  Sample empty = sample("(0,2,3) -> (0,3,2)", tr(tensor({0, 2, 3}, {}), {0, 3, 2}));
  e.samples.push_back(expect_all(empty, {}));
  e.errors.push_back(error("rank 2", tr(tensor({2, 2}, {1, 2, 3, 4}), {2, 2}),
                           {"[transpose3d_last_two] node 1", "(2,2)"}));
  return e;
}

// ---- extension ops (src/torchlean/ops/indexing.cpp): pure data movement except gather_grad ----

OpEntry entry_broadcast() {
  auto bc = [](Tensor<double> x, Shape to) {
    return unary(OpKind::broadcast, ir::BroadcastAttrs{to}, std::move(x), to);
  };
  // Right-aligned: (3,1) -> (2,3,2) reads x[j,0] for out[i,j,k].
  Sample v = sample("(3,1) to (2,3,2)", bc(tensor({3, 1}, {1, 2, 3}), Shape{2, 3, 2}));
  expect_all(v, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  Sample r0 = sample("scalar to (2)", bc(scalar(5), Shape{2}));
  expect_all(r0, {5, 5});
  // (2) -> (2,2): the row is repeated (TorchLean's left-aligned broadcast_to would not accept
  // (2) -> (3,2) differently; here the trailing axes align).
  Sample row = sample("(2) to (3,2)", bc(tensor({2}, {7, -0.0}), Shape{3, 2}));
  expect_ieee(ieee_only(row), {7, -0.0, 7, -0.0, 7, -0.0});
  Sample empty = sample("to an empty shape", bc(tensor({2}, {1, 2}), Shape{0, 2}));
  expect_all(empty, {});
  ErrorSample mismatch = error("(3) to (2)", bc(tensor({3}, {1, 2, 3}), Shape{2}),
                               {"[broadcast] node 1", "cannot broadcast (3) to (2)"});
  ErrorSample rank = error("higher rank source", bc(tensor({1, 2}, {1, 2}), Shape{2}),
                           {"[broadcast] node 1", "(1,2)", "(2)"});
  return OpEntry{OpKind::broadcast, {v, r0, row, empty}, {mismatch, rank}};
}

namespace {

GraphSpec slice_spec(Tensor<double> x, std::vector<int64_t> starts, std::vector<int64_t> ends,
                     std::vector<int64_t> steps, Shape out) {
  return unary(OpKind::slice, ir::SliceAttrs{std::move(starts), std::move(ends), std::move(steps)},
               std::move(x), std::move(out));
}

}  // namespace

OpEntry entry_slice() {
  // x = 0..4; range(4, -1, -2) = 4, 2, 0.
  Sample neg = sample("negative step", slice_spec(tensor({5}, iota(5)), {4}, {-1}, {-2}, {3}));
  expect_all(neg, {4, 2, 0});
  // x (3,4) = 0..11: rows range(2,-1,-1) = 2,1,0, cols range(1,4,2) = 1,3.
  Sample two = sample("2-D, mixed steps",
                      slice_spec(tensor({3, 4}, iota(12)), {2, 1}, {-1, 4}, {-1, 2}, {3, 2}));
  expect_all(two, {9, 11, 5, 7, 1, 3});
  // ceil((5-1)/3) = 2 elements: 1, 4.
  Sample ceil = sample("length rounds up", slice_spec(tensor({5}, iota(5)), {1}, {5}, {3}, {2}));
  expect_all(ceil, {1, 4});
  Sample empty = sample("empty range", slice_spec(tensor({5}, iota(5)), {2}, {2}, {1}, {0}));
  expect_all(empty, {});
  Sample specials = sample("values move unchanged",
                           slice_spec(tensor({3}, {kNaN, -0.0, kInf}), {0}, {3}, {1}, {3}));
  expect_ieee(ieee_only(specials), {kNaN, -0.0, kInf});
  ErrorSample zero_step = error("step 0", slice_spec(tensor({5}, iota(5)), {0}, {5}, {0}, {5}),
                                {"[slice] node 1", "step must not be 0"});
  ErrorSample bounds =
      error("start beyond the dim", slice_spec(tensor({5}, iota(5)), {6}, {5}, {1}, {0}),
            {"[slice] node 1", "axis 0 of input (5)", "start 6", "[0, 5]"});
  ErrorSample neg_bounds =
      error("negative step from the end", slice_spec(tensor({5}, iota(5)), {5}, {0}, {-1}, {5}),
            {"[slice] node 1", "[-1, 4]"});
  ErrorSample arity =
      error("one entry per axis", slice_spec(tensor({2, 2}, iota(4)), {0}, {2}, {1}, {2}),
            {"[slice] node 1", "one entry per axis", "(2,2)"});
  return OpEntry{
      OpKind::slice, {neg, two, ceil, empty, specials}, {zero_step, bounds, neg_bounds, arity}};
}

OpEntry entry_slice_grad() {
  auto sg = [](Tensor<double> g, std::vector<int64_t> starts, std::vector<int64_t> ends,
               std::vector<int64_t> steps, Shape x) {
    return unary(OpKind::slice_grad,
                 ir::SliceAttrs{std::move(starts), std::move(ends), std::move(steps)}, std::move(g),
                 std::move(x));
  };
  // range(4,-1,-2) = 4,2,0 receive g = 1,2,3; the rest is +0.
  Sample v = sample("negative step", sg(tensor({3}, {1, 2, 3}), {4}, {-1}, {-2}, {5}));
  expect_all(v, {3, 0, 2, 0, 1});
  // g values are copied, not added: -0 stays -0, untouched positions are +0.
  Sample z = sample("copies -0", sg(tensor({1, 2}, {-0.0, kNaN}), {1, 0}, {2, 3}, {1, 2}, {2, 3}));
  expect_ieee(ieee_only(z), {0, 0, 0, -0.0, 0, kNaN});
  ErrorSample shape =
      error("declared shape does not slice to g", sg(tensor({3}, {1, 2, 3}), {0}, {4}, {1}, {5}),
            {"[slice_grad] node 1", "slice of the declared shape (5) is (4)", "(3)"});
  return OpEntry{OpKind::slice_grad, {v, z}, {shape}};
}

OpEntry entry_pad() {
  auto pd = [](Tensor<double> x, std::vector<int64_t> b, std::vector<int64_t> e, double value,
               Shape out) {
    return unary(OpKind::pad, ir::PadAttrs{std::move(b), std::move(e), value}, std::move(x),
                 std::move(out));
  };
  // (2,2) padded by one row before and two columns after with 9.
  Sample v = sample("rows before, columns after",
                    pd(tensor({2, 2}, {1, 2, 3, 4}), {1, 0}, {0, 2}, 9, {3, 4}));
  expect_all(v, {9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9});
  Sample none = sample("no padding", pd(tensor({2}, {5, 6}), {0}, {0}, 1, {2}));
  expect_all(none, {5, 6});
  Sample neg_inf = sample("-inf value", pd(tensor({1}, {2}), {1}, {1}, -kInf, {3}));
  expect_ieee(ieee_only(neg_inf), {-kInf, 2, -kInf});
  neg_inf.skip_cross = true;  // the graph's pad value makes Exact fail
  // The value is rounded to the domain: fl64(0.1) and fl32(0.1); Exact holds the binary64 value.
  // Cross-domain skipped: binary32's value differs.
  Sample tenth = sample("0.1 rounded per domain", pd(tensor({1}, {2}), {0}, {1}, 0.1, {2}));
  expect_f64(tenth, {2, 0.1});
  expect_f32(tenth, {2, static_cast<float>(0.1)});
  expect_exact(tenth, {q("2"), qd(0.1)});
  tenth.skip_cross = true;
  ErrorSample negative = error("negative pad", pd(tensor({2}, {1, 2}), {-1}, {0}, 0, {1}),
                               {"[pad] node 1", "pads_begin entry must be >= 0, got -1"});
  ErrorSample arity =
      error("one entry per axis", pd(tensor({2, 2}, {1, 2, 3, 4}), {1}, {1}, 0, {4, 2}),
            {"[pad] node 1", "one entry per axis", "(2,2)"});
  ErrorSample inf_exact = error("Exact pad value -inf", pd(tensor({1}, {2}), {1}, {0}, -kInf, {2}),
                                {"[pad] node 1", "not a real number"}, kExact, true);
  return OpEntry{OpKind::pad, {v, none, neg_inf, tenth}, {negative, arity, inf_exact}};
}

namespace {

GraphSpec gather_spec(Tensor<double> data, Tensor<double> idx, int64_t axis, Shape out) {
  return GraphSpec{
      OpKind::gather, ir::GatherAttrs{axis}, {std::move(data), std::move(idx)}, std::move(out), {}};
}

// Index tensors hold integers; random dyadic inputs would not, so index samples skip the
// cross-domain test (their expectations are checked in every domain).
Sample& indexed(Sample& s) {
  s.skip_cross = true;
  return s;
}

}  // namespace

OpEntry entry_gather() {
  // data (3,2) rows 0..2; indices 2 and -3 (= 0) along axis 0.
  Sample rows = sample("axis 0, negative index",
                       gather_spec(tensor({3, 2}, iota(6)), tensor({2}, {2, -3}), 0, {2, 2}));
  expect_all(indexed(rows), {4, 5, 0, 1});
  // data (2,3); indices (2,2) along axis 1: out[a, j0, j1] = data[a, idx[j0, j1]].
  Sample cols =
      sample("axis 1, 2-D indices",
             gather_spec(tensor({2, 3}, iota(6)), tensor({2, 2}, {-1, 0, 1, 1}), 1, {2, 2, 2}));
  expect_all(indexed(cols), {2, 0, 1, 1, 5, 3, 4, 4});
  Sample r0 = sample("scalar index", gather_spec(tensor({3}, {7, 8, 9}), scalar(1), 0, {}));
  expect_all(indexed(r0), {8});
  auto bad = [](std::string name, double v, unsigned domains, std::string text) {
    return error(std::move(name), gather_spec(tensor({3}, {7, 8, 9}), tensor({2}, {0, v}), 0, {2}),
                 {"[gather] node 2", "index at index 1 is " + text, "[-3, 2]"}, domains, true);
  };
  ErrorSample axis =
      error("axis out of range", gather_spec(tensor({3}, {7, 8, 9}), tensor({1}, {0}), 1, {1}),
            {"[gather] node 2", "invalid axis 1", "(3)"});
  return OpEntry{OpKind::gather,
                 {rows, cols, r0},
                 {bad("index 3", 3, kAllDomains, "3"), bad("index -4", -4, kAllDomains, "-4"),
                  bad("fractional index", 0.5, kIeee, "0.5"),
                  bad("fractional index in Exact", 0.5, kExact, "1/2"),
                  bad("NaN index", kNaN, kIeee, "nan"), axis}};
}

OpEntry entry_gather_grad() {
  auto gg = [](Tensor<double> idx, Tensor<double> g, int64_t axis, Shape data) {
    return GraphSpec{OpKind::gather_grad,
                     ir::GatherAttrs{axis},
                     {std::move(idx), std::move(g)},
                     std::move(data),
                     {}};
  };
  // indices (0, 2, 0) along axis 0 of a (3,2) data: row 0 gets g rows 0 and 2, row 1 nothing.
  Sample v = sample("scatter-add",
                    gg(tensor({3}, {0, 2, 0}), tensor({3, 2}, {1, 2, 3, 4, 5, 6}), 0, {3, 2}));
  expect_all(indexed(v), {6, 8, 0, 0, 3, 4});
  // Accumulation in g's order from +0: ((0 + 2^53) + 1) + 1 = 2^53 in binary64 and binary32 (each
  // + 1 ties to even); the exact sum is 2^53 + 2.
  Sample order = sample("accumulation order",
                        gg(tensor({3}, {0, -1, 0}), tensor({3}, {0x1p53, 1, 1}), 0, {1}));
  expect_ieee(order, {0x1p53});
  expect_exact(indexed(order), {q("9007199254740994")});
  // +0 + -0 = +0: a single -0 contribution becomes +0.
  Sample z = sample("-0 becomes +0", gg(tensor({1}, {1}), tensor({1}, {-0.0}), 0, {2}));
  expect_all(indexed(z), {0.0, 0.0});
  ErrorSample bad =
      error("index out of range", gg(tensor({1}, {2}), tensor({1}, {1}), 0, {2}),
            {"[gather_grad] node 2", "index at index 0 is 2", "[-2, 1]"}, kAllDomains, true);
  ErrorSample shape =
      error("declared shape does not gather to g",
            gg(tensor({2}, {0, 1}), tensor({3}, {1, 2, 3}), 0, {4}),
            {"[gather_grad] node 2", "gather of the declared shape (4) is (2)", "(3)"});
  return OpEntry{OpKind::gather_grad, {v, order, z}, {bad, shape}};
}

}  // namespace torchlean::testing
