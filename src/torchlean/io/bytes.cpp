#include "torchlean/io/bytes.hpp"

#include <fstream>
#include <iterator>

#include "torchlean/core/error.hpp"

namespace torchlean::io {

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, std::string_view format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(std::string(format) + ": cannot open '" + path.string() + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw UserError(std::string(format) + ": error while reading '" + path.string() + "'");
  return bytes;
}

std::string read_file_text(const std::filesystem::path& path, std::string_view format) {
  std::vector<uint8_t> bytes = read_file_bytes(path, format);
  return std::string(bytes.begin(), bytes.end());
}

void write_file_bytes(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                      std::string_view format) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw UserError(std::string(format) + ": cannot write '" + path.string() + "'");
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw UserError(std::string(format) + ": error while writing '" + path.string() + "'");
}

void write_file_text(const std::filesystem::path& path, std::string_view text, std::string_view format) {
  write_file_bytes(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), format);
}

}  // namespace torchlean::io
