#include "torchlean/io/bytes.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>

#include "torchlean/core/error.hpp"

namespace torchlean::io {

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, std::string_view format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(std::string(format) + ": cannot open '" + path.string() + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad())
    throw UserError(std::string(format) + ": error while reading '" + path.string() + "'");
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
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw UserError(std::string(format) + ": error while writing '" + path.string() + "'");
}

void write_file_text(const std::filesystem::path& path, std::string_view text,
                     std::string_view format) {
  write_file_bytes(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                   format);
}

std::vector<uint8_t> gunzip(std::span<const uint8_t> bytes, size_t limit, std::string_view source) {
  const std::string what(source);
  if (bytes.size() > UINT32_MAX) throw UserError(what + ": compressed data larger than 4 GiB");
  z_stream zs{};
  // 16 + MAX_WBITS: gzip header and trailer (zlib checks the CRC-32 and the length).
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw InternalError("gunzip: inflateInit2 failed");
  auto fail = [&](const std::string& msg) {
    inflateEnd(&zs);
    throw UserError(what + ": " + msg);
  };
  auto truncated = [&](size_t n) {
    fail("truncated gzip stream after " + std::to_string(n) + " inflated bytes");
  };
  std::vector<uint8_t> out;
  zs.next_in = const_cast<Bytef*>(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  while (true) {
    if (out.size() == limit && zs.avail_in > 0)
      fail("inflated data larger than " + std::to_string(limit) + " bytes");
    // Grow geometrically with the output produced so far, so a small stream allocates little.
    const size_t chunk =
        std::min<size_t>(std::max<size_t>(out.size(), 1 << 16), limit - out.size());
    const size_t before = out.size();
    out.resize(before + chunk);
    zs.next_out = out.data() + before;
    zs.avail_out = static_cast<uInt>(std::min<size_t>(chunk, UINT32_MAX));
    const uInt offered = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(before + (offered - zs.avail_out));
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows: continue with a fresh stream state.
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) truncated(out.size());
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      fail(std::string("corrupt gzip stream: ") +
           (zs.msg ? zs.msg : "error " + std::to_string(rc)));
    if (zs.avail_in == 0 && zs.avail_out != 0) truncated(out.size());
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace torchlean::io
