// SHA-256 (FIPS 180-4), used to bind certificates to a model and a specification.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace torchlean::core {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental SHA-256: feed bytes with update(), then finish() once.
class Sha256 {
 public:
  Sha256();
  void update(std::span<const uint8_t> bytes);
  void update(std::string_view bytes);
  // Appends the binary64 value's bits in little-endian order.
  void update_f64_le(double x);
  Sha256Digest finish();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

Sha256Digest sha256(std::span<const uint8_t> bytes);
Sha256Digest sha256(std::string_view bytes);
// Lower-case hex, 64 characters.
std::string to_hex(const Sha256Digest& digest);

}  // namespace torchlean::core
