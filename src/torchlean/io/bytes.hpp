// Byte-level helpers shared by the binary formats: whole-file reads and writes with clear errors,
// bounded gzip inflation, and little-endian integer and float encoding (independent of the host's
// byte order).
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace torchlean::io {

// Reads a whole file. Throws UserError "<format>: cannot open '<path>'" on failure.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, std::string_view format);
std::string read_file_text(const std::filesystem::path& path, std::string_view format);
// Writes (replaces) a whole file. Throws UserError "<format>: cannot write '<path>'" on failure.
void write_file_bytes(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                      std::string_view format);
void write_file_text(const std::filesystem::path& path, std::string_view text,
                     std::string_view format);

// Inflates a gzip stream (RFC 1952; concatenated members, as `cat a.gz b.gz` gives, are one
// stream) with zlib. The output grows with the data actually produced and never beyond `limit`
// bytes. Errors start with `source` (the file): "<source>: inflated data larger than N bytes",
// "<source>: truncated gzip stream after N inflated bytes", "<source>: corrupt gzip stream: ...".
std::vector<uint8_t> gunzip(std::span<const uint8_t> bytes, size_t limit, std::string_view source);

namespace detail {

// Little-endian load/store of an unsigned integer of N bytes.
template <class U>
U load_le(const uint8_t* p) {
  U v = 0;
  for (size_t i = sizeof(U); i-- > 0;) v = static_cast<U>((v << 8) | p[i]);
  return v;
}

template <class U>
void store_le(uint8_t* p, U v) {
  for (size_t i = 0; i < sizeof(U); ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

inline float load_f32_le(const uint8_t* p) { return std::bit_cast<float>(load_le<uint32_t>(p)); }
inline double load_f64_le(const uint8_t* p) { return std::bit_cast<double>(load_le<uint64_t>(p)); }
inline void store_f32_le(uint8_t* p, float x) { store_le<uint32_t>(p, std::bit_cast<uint32_t>(x)); }
inline void store_f64_le(uint8_t* p, double x) {
  store_le<uint64_t>(p, std::bit_cast<uint64_t>(x));
}

// True when `x` is a binary32 value (or a NaN), so narrowing it to float loses nothing.
inline bool exact_in_f32(double x) {
  return x != x || static_cast<double>(static_cast<float>(x)) == x;
}

}  // namespace detail
}  // namespace torchlean::io
