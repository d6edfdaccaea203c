// Every op of the op database (tests/ops) through the compiler, in binary32 and binary64:
//   - exact Programs reproduce the database's hand-derived expected bits and pass the equivalence
//     checker (bit-identical to the reference evaluator, node by node);
//   - the same graphs with random values, including NaN, +-0, +-inf and subnormals, pass the
//     checker in exact and in fast mode (fast kernels within their declared bounds);
//   - error inputs give the reference's error message (at compile time for graph and payload
//     errors, at run time for evaluation errors).
#include <gtest/gtest.h>

#include <string>

#include "../ops/op_database.hpp"
#include "runtime_test_util.hpp"
#include "torchlean/compile/compile.hpp"
#include "torchlean/runtime/equivalence.hpp"

namespace torchlean::testing {
namespace {

using compile::CompileOptions;
using runtime::KernelMode;

const OpEntry& entry(size_t i) { return op_database().at(i); }

std::string op_label(const ::testing::TestParamInfo<size_t>& info) {
  return std::string(ir::op_name(ir::kOpInfos[info.param].kind));
}

template <class T>
void expect_checked(const ir::Graph& g, const ir::Payload& payload,
                    const std::vector<Tensor<double>>& inputs, KernelMode mode,
                    const std::string& what) {
  const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(payload);
  runtime::Program<T> prog =
      compile::compile<T>(g, p, CompileOptions{mode, true, true, 1, 0, compile::FastVariants::all});
  runtime::CheckReport r = runtime::check_equivalence(prog, to_elem<T>(inputs));
  EXPECT_TRUE(r.ok) << what << " (" << (sizeof(T) == 4 ? "f32" : "f64") << ", "
                    << runtime::mode_name(mode) << "): " << r.text();
}

// The expected values of a sample, bit for bit (NaN means the canonical NaN).
template <class T>
void expect_values(const Sample& s, const std::vector<double>& want) {
  const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(s.payload);
  runtime::Program<T> prog = compile::compile<T>(s.graph, p, CompileOptions{});
  std::vector<Tensor<T>> out = prog.run(to_elem<T>(s.inputs));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].numel(), static_cast<int64_t>(want.size())) << s.name;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_TRUE(same_bits(out[0][static_cast<int64_t>(i)], to_elem<T>(want[i])))
        << s.name << " element " << i << ": got " << out[0][static_cast<int64_t>(i)] << ", want "
        << want[i];
}

class CompiledOp : public ::testing::TestWithParam<size_t> {};

TEST_P(CompiledOp, ExactProgramsGiveTheDatabaseValues) {
  for (const Sample& s : entry(GetParam()).samples) {
    if (s.f32) expect_values<float>(s, *s.f32);
    if (s.f64) expect_values<double>(s, *s.f64);
  }
}

TEST_P(CompiledOp, SamplesPassTheChecker) {
  for (const Sample& s : entry(GetParam()).samples) {
    for (KernelMode mode : {KernelMode::exact, KernelMode::fast}) {
      expect_checked<float>(s.graph, s.payload, s.inputs, mode, s.name);
      expect_checked<double>(s.graph, s.payload, s.inputs, mode, s.name);
    }
  }
}

// The sample graphs with fresh random values (specials included) in inputs and payload.
TEST_P(CompiledOp, RandomValuesWithSpecialsPassTheChecker) {
  const OpEntry& e = entry(GetParam());
  ValueSource src(0xC0FFEE + GetParam());
  for (const Sample& s : e.samples) {
    for (int round = 0; round < 4; ++round) {
      std::vector<Tensor<double>> inputs;
      for (const Tensor<double>& x : s.inputs)
        inputs.emplace_back(x.shape(), src.values(x.numel()));
      ir::Payload payload;
      for (const auto& [id, slots] : s.payload)
        for (const auto& [name, t] : slots)
          payload[id].emplace(name, Tensor<double>(t.shape(), src.values(t.numel())));
      const std::string what = s.name + " round " + std::to_string(round);
      for (KernelMode mode : {KernelMode::exact, KernelMode::fast}) {
        expect_checked<float>(s.graph, payload, inputs, mode, what);
        expect_checked<double>(s.graph, payload, inputs, mode, what);
      }
    }
  }
}

template <class T>
void expect_error(const ErrorSample& e) {
  try {
    const ir::PayloadStore<T> p = runtime::to_runtime_payload<T>(e.payload);
    runtime::Program<T> prog = compile::compile<T>(e.graph, p, CompileOptions{});
    prog.run(to_elem<T>(e.inputs));
    ADD_FAILURE() << e.name << ": no error";
  } catch (const UserError& err) {
    const std::string msg = err.what();
    if (e.eval_error) {
      EXPECT_NE(dynamic_cast<const EvalError*>(&err), nullptr) << e.name << ": " << msg;
    }
    for (const std::string& part : e.message_parts)
      EXPECT_NE(msg.find(part), std::string::npos)
          << e.name << ": '" << part << "' not in: " << msg;
  }
}

TEST_P(CompiledOp, ErrorInputsGiveTheReferenceMessage) {
  for (const ErrorSample& e : entry(GetParam()).errors) {
    if (e.domains & kF32) expect_error<float>(e);
    if (e.domains & kF64) expect_error<double>(e);
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, CompiledOp, ::testing::Range<size_t>(0, ir::kOpCount), op_label);

}  // namespace
}  // namespace torchlean::testing
