// Whole-model equivalence: random graphs built from every op, TorchLean's MLP fixture and a small
// CNN (conv, relu, pools, batch norm, linear, softmax) compiled in exact and fast mode, binary32
// and binary64, checked node by node against the reference evaluator; thread-count invariance;
// evaluation errors raised identically; and the checker catching a deliberately wrong kernel in
// both modes (so the check can fail).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "random_graph.hpp"
#include "runtime_test_util.hpp"
#include "test_models.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/io/state_dict.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::testing {
namespace {

using compile::CompileOptions;
using runtime::KernelMode;

template <class T>
runtime::CheckReport check(const RandomModel& m, const ir::PayloadStore<T>& p, KernelMode mode,
                           bool fuse, int threads = 1) {
  runtime::Program<T> prog = compile::compile<T>(
      m.graph, p, CompileOptions{mode, fuse, true, threads, 0, compile::FastVariants::all});
  return runtime::check_equivalence(prog, to_elem<T>(m.inputs));
}

template <class T>
void check_all_modes(const RandomModel& m, const std::string& what) {
  const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(m.payload);
  for (KernelMode mode : {KernelMode::exact, KernelMode::fast})
    for (bool fuse : {true, false}) {
      runtime::CheckReport r = check<T>(m, p, mode, fuse);
      EXPECT_TRUE(r.ok) << what << " " << (sizeof(T) == 4 ? "f32 " : "f64 ")
                        << runtime::mode_name(mode) << (fuse ? " fused" : "") << ": " << r.text();
    }
}

TEST(RandomGraphs, CompiledEqualsReferenceForEveryOp) {
  std::set<ir::OpKind> seen;
  int raised = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    const RandomModel m = random_model(seed, 10, seed % 3 == 0 ? 0.15 : 0.0);
    for (const ir::Node& n : m.graph.nodes) seen.insert(n.kind);
    check_all_modes<float>(m, "seed " + std::to_string(seed));
    check_all_modes<double>(m, "seed " + std::to_string(seed));
    const ir::PayloadStore<float> p = runtime::to_runtime_payload<float>(m.payload);
    if (!check<float>(m, p, KernelMode::exact, true).eval_error.empty()) ++raised;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(ir::kOpCount)) << "the generator missed an op";
  // Most graphs run to the end (a log of a non-positive value stops the others).
  EXPECT_LT(raised, 40);
}

TEST(RandomGraphs, OneAndTwoThreadsGiveTheSameBits) {
  for (uint64_t seed = 500; seed < 530; ++seed) {
    const RandomModel m = random_model(seed, 12, 0.1);
    const ir::PayloadStore<float> p = runtime::to_runtime_payload<float>(m.payload);
    for (KernelMode mode : {KernelMode::exact, KernelMode::fast}) {
      auto one = compile::compile<float>(
          m.graph, p, CompileOptions{mode, true, true, 1, 0, compile::FastVariants::all});
      auto two = compile::compile<float>(
          m.graph, p, CompileOptions{mode, true, true, 2, 0, compile::FastVariants::all});
      std::vector<Tensor<float>> a, b;
      try {
        a = one.run(to_elem<float>(m.inputs));
      } catch (const EvalError&) {
        EXPECT_THROW(two.run(to_elem<float>(m.inputs)), EvalError);
        continue;
      }
      b = two.run(to_elem<float>(m.inputs));
      ASSERT_EQ(a.size(), b.size());
      for (size_t k = 0; k < a.size(); ++k)
        for (int64_t e = 0; e < a[k].numel(); ++e)
          EXPECT_TRUE(same_bits(a[k][e], b[k][e]))
              << "seed " << seed << " output " << k << "[" << e << "]";
    }
  }
}

// Sizes large enough that the thread pool really splits the GEMM, conv and elementwise work.
// Exact programs give the same bits with 1 and 2 threads. Fast programs call OpenBLAS, whose own
// threading may change its summation order with the thread count (docs/runtime.md), so for them
// each thread count is checked against the declared bounds instead.
TEST(Models, OneAndTwoThreadsGiveTheSameBitsOnLargerModels) {
  for (const TestModel& m : {mlp_model(64, 300, 200, 10, 3), cnn_model(7), nchw_cnn_model(7)}) {
    const ir::PayloadStore<float> p = runtime::to_runtime_payload<float>(m.payload);
    auto one =
        compile::compile<float>(m.graph, p, CompileOptions{KernelMode::exact, true, true, 1});
    auto two =
        compile::compile<float>(m.graph, p, CompileOptions{KernelMode::exact, true, true, 2});
    const auto a = one.run(to_elem<float>(m.inputs));
    const auto b = two.run(to_elem<float>(m.inputs));
    for (size_t k = 0; k < a.size(); ++k)
      for (int64_t e = 0; e < a[k].numel(); ++e)
        ASSERT_TRUE(same_bits(a[k][e], b[k][e])) << m.name << " output " << k << "[" << e << "]";
    for (int threads : {1, 2}) {
      auto fast = compile::compile<float>(
          m.graph, p,
          CompileOptions{KernelMode::fast, true, true, threads, 0, compile::FastVariants::all});
      const runtime::CheckReport r = runtime::check_equivalence(fast, to_elem<float>(m.inputs));
      EXPECT_TRUE(r.ok) << m.name << " fast, threads " << threads << ": " << r.text();
    }
  }
}

TEST(Models, MlpCnnAttentionAndFixturePassTheCheckerInBothModes) {
  for (const TestModel& m : {mlp_model(4, 784, 256, 10, 1), cnn_model(3), attention_model(5),
                             torchlean_mlp_fixture(), nchw_cnn_model(5)}) {
    RandomModel rm{m.graph, m.payload, m.inputs};
    check_all_modes<float>(rm, m.name);
    check_all_modes<double>(rm, m.name);
  }
}

// TorchLean's MLP fixture at x = (0.5, 0.8): the compiled binary32 output is the reference's.
TEST(Models, TorchLeanMlpFixtureMatchesTheReferenceEvaluator) {
  const TestModel m = torchlean_mlp_fixture();
  const ir::PayloadStore<float> p = runtime::to_runtime_payload<float>(m.payload);
  auto prog = compile::compile<float>(m.graph, p, CompileOptions{});
  const float ours = prog.run(to_elem<float>(m.inputs)).at(0)[0];
  const auto ref = interp::evaluate_outputs<F32>(
      m.graph, ir::convert_payload<F32>(m.payload),
      std::vector<Tensor<F32>>{Tensor<F32>(Shape{2}, {F32::of(0.5f), F32::of(0.8f)})});
  EXPECT_TRUE(same_bits(ours, ref.at(0)[0].v)) << ours << " vs " << ref.at(0)[0].v;
  // PyTorch's float32 output for the fixture is 0.9999999403953552 (torch_reference.json); fma
  // versus separate rounding keeps the two within a couple of ulps of 1.
  EXPECT_NEAR(ours, 0.9999999403953552, 0x1p-22);
}

// TorchLean's digits robustness fixture (Verification/Robustness): a linear 64 -> 10 classifier
// on 360 test images (the file's inputs are already divided by normalize_div). The compiled
// program, batched over all 360 images, passes the checker, predicts exactly the classes
// TorchLean's certificate publishes for every example (349 of them correct), and its logits lie
// in the certificate's eps = 0.02 interval bounds.
TEST(Models, TorchLeanDigitsFixture) {
  const std::string dir =
      std::string(TORCHLEAN_SOURCE_DIR) + "/../shared/data/torchlean/Verification/Robustness/";
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
  };
  const nlohmann::json weights = read(dir + "digits_linear_weights.json");
  const nlohmann::json data = read(dir + "digits_test.json");
  const nlohmann::json cert = read(dir + "digits_linear_margin_cert.json");
  const int64_t n = static_cast<int64_t>(data.at("examples").size());
  ASSERT_EQ(n, 360);
  RandomModel m;
  const int64_t x = m.graph.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{n, 64});
  const int64_t y = m.graph.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{n, 10});
  m.graph.input_ids = {x};
  m.graph.output_ids = {y};
  std::vector<double> w, b, xs;
  for (const auto& row : weights.at("layers.0.weight"))
    for (const auto& v : row) w.push_back(v.get<double>());
  for (const auto& v : weights.at("layers.0.bias")) b.push_back(v.get<double>());
  for (const auto& e : data.at("examples"))
    for (const auto& v : e.at("x")) xs.push_back(v.get<double>());
  m.payload[y].emplace("weight", Tensor<double>(Shape{10, 64}, w));
  m.payload[y].emplace("bias", Tensor<double>(Shape{10}, b));
  m.inputs.push_back(Tensor<double>(Shape{n, 64}, xs));
  check_all_modes<float>(m, "digits");
  check_all_modes<double>(m, "digits");

  const ir::PayloadStore<double> p = runtime::to_runtime_payload<double>(m.payload);
  auto prog = compile::compile<double>(m.graph, p, CompileOptions{});
  const Tensor<double> logits = prog.run(to_elem<double>(m.inputs)).at(0);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto& c = cert.at("examples").at(static_cast<size_t>(i));
    int64_t pred = 0;
    for (int64_t k = 1; k < 10; ++k)
      if (logits[i * 10 + k] > logits[i * 10 + pred]) pred = k;
    EXPECT_EQ(pred, c.at("pred").get<int64_t>()) << "example " << i;
    correct += pred == data.at("examples").at(static_cast<size_t>(i)).at("y").get<int64_t>();
    for (int64_t k = 0; k < 10; ++k) {
      EXPECT_GE(logits[i * 10 + k], c.at("logits_lo").at(static_cast<size_t>(k)).get<double>())
          << i;
      EXPECT_LE(logits[i * 10 + k], c.at("logits_hi").at(static_cast<size_t>(k)).get<double>())
          << i;
    }
  }
  EXPECT_EQ(correct, cert.at("summary").at("nominal_ok").get<int64_t>());
}

// Compiles `g` in exact mode (fused and not) on f32 inputs and in f64, and requires the checker's
// bit-for-bit agreement with the reference.
void expect_exact_equivalence(const ir::Graph& g, const ir::Payload& payload,
                              const std::vector<Tensor<float>>& in32, const std::string& what) {
  const ir::PayloadStore<float> p32 = runtime::to_runtime_payload<float>(payload);
  const ir::PayloadStore<double> p64 = runtime::to_runtime_payload<double>(payload);
  for (bool fuse : {true, false}) {
    auto prog = compile::compile<float>(g, p32, CompileOptions{KernelMode::exact, fuse});
    const runtime::CheckReport r = runtime::check_equivalence(prog, in32);
    EXPECT_TRUE(r.ok) << what << (fuse ? " fused: " : ": ") << r.text();
  }
  std::vector<Tensor<double>> in64;
  for (const Tensor<float>& t : in32) {
    Tensor<double> t64(t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) t64[i] = static_cast<double>(t[i]);
    in64.push_back(std::move(t64));
  }
  auto prog64 = compile::compile<double>(g, p64, CompileOptions{});
  const runtime::CheckReport r64 = runtime::check_equivalence(prog64, in64);
  EXPECT_TRUE(r64.ok) << what << " f64: " << r64.text();
}

const std::vector<float> kSpecialValues{1.5f,   -0.f,  0.f,   INFINITY, -INFINITY,
                                        NAN,    3e38f, -2.f,  1e-40f,   7.f,
                                        -1e-3f, 5.f,   0.25f, -8.f,     1.f};
const std::vector<std::pair<float, float>> kSpecialScalars{
    {3.f, -1.f}, {-0.f, 2.f}, {INFINITY, -0.f}, {NAN, 1.f}, {0.5f, INFINITY}, {1e-30f, 1e30f}};

// A broadcast of a one-element value read by a chain step becomes the step's scalar operand (no
// materialised array): either operand of a chain's first step or of a later step, also when the
// broadcast has several such uses; one that some use needs as an array (exp's) is still copied,
// once. Bit-identical to the reference, with NaN, infinities and signed zeros in the scalars.
TEST(Fusion, ScalarBroadcastOperandsMatchTheReference) {
  ir::GraphBuilder b;
  const Shape s{3, 5};
  const int64_t x = b.input(s);
  const int64_t c = b.input(Shape{});
  const int64_t d = b.input(Shape{1});
  auto bcast = [&](int64_t v) { return b.add(ir::OpKind::broadcast, {v}, ir::BroadcastAttrs{s}); };
  const int64_t first = b.add(ir::OpKind::mul_elem, {x, bcast(c)});  // (in0, in1[0])
  const int64_t lhs = b.add(ir::OpKind::sub, {bcast(d), first});     // (in2[0], v)
  const int64_t rhs = b.add(ir::OpKind::div, {lhs, bcast(c)});       // (v, in1[0])
  const int64_t shared = bcast(d);                                   // read as a scalar twice
  b.mark_output(b.add(ir::OpKind::add, {b.add(ir::OpKind::mul_elem, {rhs, shared}), shared}));
  b.mark_output(b.add(ir::OpKind::sub, {bcast(c), x}));  // a first step's left operand
  const int64_t needed = bcast(d);                       // exp reads it as an array
  b.mark_output(b.add(ir::OpKind::add, {x, needed}));
  b.mark_output(b.add(ir::OpKind::exp, {needed}));
  const auto [g, payload] = std::move(b).finish();
  const std::string text =
      runtime::to_text(compile::lower(g, runtime::ElemType::f32, CompileOptions{}));
  EXPECT_NE(text.find("[mul_elem(in0, in1[0]); sub(in2[0], v); div(v, in1[0]); mul_elem(v, "
                      "in2[0]); add(v, in2[0])]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("[sub(in1[0], in0)]"), std::string::npos) << text;
  EXPECT_NE(text.find("[add(in0, in1[0])]"), std::string::npos) << text;
  const size_t gather = text.find(" gather");
  EXPECT_TRUE(gather != std::string::npos && gather == text.rfind(" gather"))
      << "only exp's broadcast is copied\n"
      << text;
  for (const auto& [cv, dv] : kSpecialScalars)
    expect_exact_equivalence(g, payload,
                             {Tensor<float>(s, kSpecialValues), Tensor<float>(Shape{}, {cv}),
                              Tensor<float>(Shape{1}, {dv})},
                             std::to_string(cv) + " " + std::to_string(dv));
}

// relu's backward, where(x > 0, g, 0) with one shared zero broadcast, and where with a scalar
// second operand: compare and where read the broadcasts as scalars and no array is copied.
TEST(Fusion, CompareAndWhereReadScalarOperands) {
  ir::GraphBuilder b;
  const Shape s{3, 5};
  const int64_t x = b.input(s);
  const int64_t gy = b.input(s);
  const int64_t c = b.input(Shape{});
  const int64_t zero = b.add(ir::OpKind::broadcast, {c}, ir::BroadcastAttrs{s});
  const int64_t mask = b.add(ir::OpKind::compare, {x, zero}, ir::CompareAttrs{"gt"});
  b.mark_output(b.add(ir::OpKind::where, {mask, gy, zero}));
  const int64_t other = b.add(ir::OpKind::broadcast, {c}, ir::BroadcastAttrs{s});
  b.mark_output(b.add(ir::OpKind::where, {x, other, gy}));
  const auto [g, payload] = std::move(b).finish();
  const std::string text =
      runtime::to_text(compile::lower(g, runtime::ElemType::f32, CompileOptions{}));
  EXPECT_EQ(text.find(" gather"), std::string::npos) << text;
  EXPECT_NE(text.find("compare n=15 cmp=gt in1[0]"), std::string::npos) << text;
  EXPECT_NE(text.find("where n=15 in2[0]"), std::string::npos) << text;
  EXPECT_NE(text.find("where n=15 in1[0]"), std::string::npos) << text;
  std::vector<float> grads(kSpecialValues.rbegin(), kSpecialValues.rend());
  for (const auto& [cv, unused] : kSpecialScalars)
    expect_exact_equivalence(
        g, payload,
        {Tensor<float>(s, kSpecialValues), Tensor<float>(s, grads), Tensor<float>(Shape{}, {cv})},
        std::to_string(cv));
}

TEST(EvalErrors, ProgramRaisesTheReferenceMessage) {
  ir::Graph g;
  const int64_t x = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{4});
  const int64_t r = g.add(ir::OpKind::relu, {x}, ir::NoAttrs{}, Shape{4});
  const int64_t l = g.add(ir::OpKind::log, {r}, ir::NoAttrs{}, Shape{4});
  g.input_ids = {x};
  g.output_ids = {l};
  const ir::PayloadStore<float> p;
  auto prog = compile::compile<float>(g, p, CompileOptions{});
  const std::vector<Tensor<float>> in{Tensor<float>(Shape{4}, {2.f, 1.f, -3.f, 4.f})};
  try {
    prog.run(in);
    FAIL() << "no error";
  } catch (const EvalError& e) {
    EXPECT_STREQ(e.what(), "[log] node 2: argument at index 2 is 0, not positive");
  }
  runtime::CheckReport rep = runtime::check_equivalence(prog, in);
  EXPECT_TRUE(rep.ok) << rep.text();
  EXPECT_NE(rep.eval_error.find("argument at index 2"), std::string::npos) << rep.text();
}

// The checker must be able to fail: flip one bit of one output element of each instruction in
// turn and require the checker to stop exactly there.
template <class T>
void expect_every_fault_caught(const TestModel& m, KernelMode mode) {
  const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(m.payload);
  auto prog = compile::compile<T>(
      m.graph, p, CompileOptions{mode, true, true, 1, 0, compile::FastVariants::all});
  const auto inputs = to_elem<T>(m.inputs);
  ASSERT_TRUE(runtime::check_equivalence(prog, inputs).ok);
  const auto& instrs = prog.code().instrs;
  for (size_t i = 0; i < instrs.size(); ++i) {
    if (prog.code().slots[static_cast<size_t>(instrs[i].out)].numel == 0) continue;
    // An exact-order instruction must be bit-identical: its lowest bit is caught. A fast one may
    // legitimately differ by a few ulps, so the fault flips a high significand bit instead, far
    // outside any rounding bound.
    const int bit = instrs[i].mode == KernelMode::exact ? 0 : (sizeof(T) == 4 ? 21 : 50);
    prog.set_fault_for_testing(static_cast<int64_t>(i), 0, bit);
    runtime::CheckReport r = runtime::check_equivalence(prog, inputs);
    EXPECT_FALSE(r.ok) << m.name << " instruction " << i << " not caught";
    ASSERT_TRUE(r.mismatch.has_value()) << r.text();
    EXPECT_EQ(r.mismatch->instr, static_cast<int64_t>(i)) << r.text();
    EXPECT_EQ(r.mismatch->index, 0) << r.text();
    EXPECT_NE(r.text().find("FAILED at instruction i" + std::to_string(i)), std::string::npos)
        << r.text();
  }
  prog.set_fault_for_testing(-1, 0);
  EXPECT_TRUE(runtime::check_equivalence(prog, inputs).ok);
}

TEST(Checker, CatchesAFaultInEveryInstructionExactMode) {
  expect_every_fault_caught<float>(attention_model(17), KernelMode::exact);
  expect_every_fault_caught<float>(cnn_model(11), KernelMode::exact);
  expect_every_fault_caught<double>(cnn_model(12), KernelMode::exact);
  expect_every_fault_caught<float>(mlp_model(2, 20, 16, 5, 13), KernelMode::exact);
}

TEST(Checker, CatchesAFaultInEveryInstructionFastMode) {
  expect_every_fault_caught<double>(attention_model(18), KernelMode::fast);
  expect_every_fault_caught<float>(cnn_model(14), KernelMode::fast);
  expect_every_fault_caught<double>(cnn_model(15), KernelMode::fast);
  expect_every_fault_caught<float>(mlp_model(2, 20, 16, 5, 16), KernelMode::fast);
}

TEST(Checker, ReportNamesNodeShapesAndWorstElement) {
  const TestModel m = mlp_model(2, 3, 4, 2, 21);
  const ir::PayloadStore<float> p = runtime::to_runtime_payload<float>(m.payload);
  auto prog = compile::compile<float>(m.graph, p, CompileOptions{});
  prog.set_fault_for_testing(0, 3);  // the first linear: element [0,3] of its (2,4) output
  runtime::CheckReport r = runtime::check_equivalence(prog, to_elem<float>(m.inputs));
  ASSERT_FALSE(r.ok);
  const std::string text = r.text();
  EXPECT_NE(text.find("node %1 linear"), std::string::npos) << text;
  EXPECT_NE(text.find("(2,4) <- (2,3)"), std::string::npos) << text;
  EXPECT_NE(text.find("worst element [0,3]"), std::string::npos) << text;
  EXPECT_NE(text.find("bit equality"), std::string::npos) << text;
  EXPECT_EQ(r.mismatch->bad_elements, 1);
}

}  // namespace
}  // namespace torchlean::testing
