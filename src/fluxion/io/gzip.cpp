#include "fluxion/io/gzip.h"

#include <zlib.h>

#include "fluxion/core/error.h"

namespace fx::io {

bool is_gzip(std::span<const uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

std::string gunzip(std::span<const uint8_t> bytes, std::string_view name, size_t max_bytes) {
  if (!is_gzip(bytes)) fail("{}: not a gzip file (bad magic bytes)", name);
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip header and trailer (CRC-32 and length are checked).
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail("{}: zlib initialisation failed", name);
  std::string out;
  out.resize(std::min<size_t>(max_bytes, std::max<size_t>(bytes.size() * 4, 1 << 16)));
  zs.next_in = const_cast<Bytef*>(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  size_t produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (produced == out.size()) {
      if (out.size() >= max_bytes) {
        inflateEnd(&zs);
        fail("{}: decompresses to more than {} bytes", name, max_bytes);
      }
      out.resize(std::min(max_bytes, out.size() * 2));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, 1u << 30));
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      fail("{}: truncated gzip stream ({} bytes read)", name, bytes.size());
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string why = zs.msg ? zs.msg : "error " + std::to_string(rc);
      inflateEnd(&zs);
      fail("{}: corrupt gzip data ({})", name, why);
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

}  // namespace fx::io
