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
                                                CompileOptions{KernelMode::fast})));
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
                                                CompileOptions{KernelMode::fast, true, true, 2})));
}

TEST(Golden, AttentionExactAndFast) {
  const TestModel m = attention_model(1);
  expect_golden("attention_f32_exact", runtime::to_text(compile::lower(
                                           m.graph, runtime::ElemType::f32, CompileOptions{})));
  expect_golden("attention_f32_fast",
                runtime::to_text(compile::lower(m.graph, runtime::ElemType::f32,
                                                CompileOptions{KernelMode::fast})));
}

}  // namespace
}  // namespace torchlean::testing
