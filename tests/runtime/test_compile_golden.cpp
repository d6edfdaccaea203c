// Golden snapshots of lowered programs (tinygrad's "process replay" habit): the text form of the
// Program for a few models is compared exactly with tests/runtime/golden/*.txt, so any change to
// lowering, fusion or the memory plan shows up in review. To regenerate after an intended change:
//   TORCHLEAN_UPDATE_GOLDEN=1 ./build/tests/runtime/test_compile_golden
// (run from the repository root), then review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_models.hpp"

namespace torchlean::testing {
namespace {

using compile::CompileOptions;
using runtime::KernelMode;

std::string golden_path(const std::string& name) {
  return std::string(TORCHLEAN_SOURCE_DIR) + "/tests/runtime/golden/" + name + ".txt";
}

void expect_golden(const std::string& name, const std::string& text) {
  const std::string path = golden_path(name);
  if (const char* update = std::getenv("TORCHLEAN_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    std::ofstream(path) << text;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing golden file " << path
                         << " (TORCHLEAN_UPDATE_GOLDEN=1 writes it)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(text, want.str()) << "lowering of " << name << " changed; if intended, regenerate with "
                              << "TORCHLEAN_UPDATE_GOLDEN=1 and review the diff";
}

TEST(Golden, Mlp784Exact) {
  const TestModel m = mlp_model(1, 784, 256, 10, 1);
  expect_golden("mlp784_f32_exact", runtime::to_text(compile::lower(m.graph, runtime::ElemType::f32,
                                                                    CompileOptions{})));
}

TEST(Golden, Mlp784FastBatch256) {
  const TestModel m = mlp_model(256, 784, 256, 10, 1);
  expect_golden("mlp784_b256_f32_fast",
                runtime::to_text(compile::lower(m.graph, runtime::ElemType::f32,
                                                CompileOptions{KernelMode::fast, true, true, 1, 16,
                                                               compile::FastVariants::all})));
}

TEST(Golden, CnnExactF64) {
  const TestModel m = cnn_model(1);
  expect_golden("cnn_f64_exact", runtime::to_text(compile::lower(m.graph, runtime::ElemType::f64,
                                                                 CompileOptions{})));
}

TEST(Golden, CnnUnfusedNoReuse) {
  const TestModel m = cnn_model(1);
  expect_golden(
      "cnn_f32_unfused_noreuse",
      runtime::to_text(compile::lower(m.graph, runtime::ElemType::f32,
                                      CompileOptions{KernelMode::exact, false, false, 1})));
}

TEST(Golden, NchwCnnExactAndFast) {
  const TestModel m = nchw_cnn_model(1);
  expect_golden("nchw_cnn_f32_exact", runtime::to_text(compile::lower(
                                          m.graph, runtime::ElemType::f32, CompileOptions{})));
  expect_golden("nchw_cnn_f32_fast_2threads",
                runtime::to_text(compile::lower(m.graph, runtime::ElemType::f32,
                                                CompileOptions{KernelMode::fast, true, true, 2, 16,
                                                               compile::FastVariants::all})));
}

TEST(Golden, AttentionExactAndFast) {
  const TestModel m = attention_model(1);
  expect_golden("attention_f32_exact", runtime::to_text(compile::lower(
                                           m.graph, runtime::ElemType::f32, CompileOptions{})));
  expect_golden("attention_f32_fast",
                runtime::to_text(compile::lower(m.graph, runtime::ElemType::f32,
                                                CompileOptions{KernelMode::fast, true, true, 1, 16,
                                                               compile::FastVariants::all})));
}

// Fast mode's default kernel choice (compile.hpp, FastVariants::faster): OpenBLAS GEMMs only
// where our exact-order GEMM has no AVX-512 path, the fast sum only on rows of 1024 or more;
// FastVariants::all takes every fast variant.
runtime::KernelMode mode_of(const runtime::ProgramCode& code, runtime::Kernel k, int64_t len) {
  for (const runtime::Instr& in : code.instrs)
    if (in.kernel == k &&
        (k != runtime::Kernel::reduce_sum || std::get<runtime::AxisParams>(in.params).len == len))
      return in.mode;
  ADD_FAILURE() << "no " << runtime::kernel_name(k) << " instruction";
  return KernelMode::exact;
}

TEST(FastMode, TakesAFastVariantOnlyWhereItIsFaster) {
  ir::GraphBuilder b;
  const int64_t x = b.input(Shape{64, 28});
  const int64_t short_rows = b.add(ir::OpKind::reduce_sum, {x}, ir::AxisAttrs{1});
  const int64_t y = b.input(Shape{2, 4096});
  const int64_t long_rows = b.add(ir::OpKind::reduce_sum, {y}, ir::AxisAttrs{1});
  b.mark_output(short_rows);
  b.mark_output(long_rows);
  const ir::Graph sums = std::move(b).finish().first;
  const TestModel mlp = mlp_model(128, 784, 256, 10, 1);
  const bool avx512 = runtime::gemm_default_path() == runtime::GemmPath::avx512;
  for (compile::FastVariants v : {compile::FastVariants::faster, compile::FastVariants::all}) {
    const bool all = v == compile::FastVariants::all;
    const CompileOptions o{KernelMode::fast, true, true, 1, 16, v};
    const runtime::ProgramCode s = compile::lower(sums, runtime::ElemType::f32, o);
    EXPECT_EQ(mode_of(s, runtime::Kernel::reduce_sum, 28),
              all ? KernelMode::fast : KernelMode::exact);
    EXPECT_EQ(mode_of(s, runtime::Kernel::reduce_sum, 4096), KernelMode::fast);
    const runtime::ProgramCode m = compile::lower(mlp.graph, runtime::ElemType::f32, o);
    EXPECT_EQ(mode_of(m, runtime::Kernel::gemm, 0),
              all || !avx512 ? KernelMode::fast : KernelMode::exact);
  }
}

}  // namespace
}  // namespace torchlean::testing
