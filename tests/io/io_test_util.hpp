// Helpers for the io tests: message checks for UserError, bitwise comparisons, fixture paths.
#pragma once
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "torchlean/core/error.hpp"
#include "torchlean/core/tensor.hpp"

namespace torchlean::io::test {

// Runs `f`, requires a UserError whose message starts with `prefix` and contains every needle.
template <class F>
void expect_user_error(F&& f, const std::string& prefix, std::initializer_list<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "expected a UserError starting with '" << prefix << "'";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(prefix, 0), 0u) << "message: " << msg;
    for (const std::string& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "missing '" << n << "' in: " << msg;
  }
}

inline uint64_t bits(double x) { return std::bit_cast<uint64_t>(x); }
inline uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }

template <class S>
void expect_same_bits(const Tensor<S>& a, const Tensor<S>& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(bits(a[i]), bits(b[i])) << "at flat index " << i;
}

inline std::filesystem::path source_dir() { return TORCHLEAN_SOURCE_DIR; }
inline std::filesystem::path shared_data() { return source_dir() / ".." / "shared" / "data"; }

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("torchlean_io_test_" + std::to_string(reinterpret_cast<uintptr_t>(this)) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace torchlean::io::test
