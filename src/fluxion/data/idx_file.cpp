#include "fluxion/data/idx_file.h"

#include <string>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/gzip.h"

namespace fx::data {
namespace {

uint32_t read_be32(std::span<const uint8_t> b, size_t at) {
  return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 |
         uint32_t{b[at + 3]};
}

}  // namespace

IdxArray parse_idx(std::span<const uint8_t> bytes, std::string_view name) {
  if (bytes.size() < 4)
    fail("{}: truncated IDX header ({} bytes, need at least 4)", name, bytes.size());
  if (bytes[0] != 0 || bytes[1] != 0)
    fail("{}: bad IDX magic number 0x{:02x}{:02x}{:02x}{:02x} (must start with 00 00)", name,
         bytes[0], bytes[1], bytes[2], bytes[3]);
  if (bytes[2] != 0x08)
    fail("{}: IDX element type 0x{:02x} is not supported (fluxion reads unsigned bytes, 0x08)",
         name, bytes[2]);
  const int ndim = bytes[3];
  if (ndim < 1 || ndim > 4) fail("{}: IDX rank {} out of range 1..4", name, ndim);
  const size_t header = 4 + 4 * size_t(ndim);
  if (bytes.size() < header)
    fail("{}: truncated IDX header ({} bytes, rank {} needs {})", name, bytes.size(), ndim, header);
  IdxArray out;
  uint64_t count = 1;
  for (int i = 0; i < ndim; ++i) {
    const uint32_t d = read_be32(bytes, 4 + 4 * size_t(i));
    if (d == 0) fail("{}: IDX dimension {} is 0", name, i);
    // Checked: 2^34 * 2^30 would wrap past 2^64 to 0 and match an empty file.
    if (__builtin_mul_overflow(count, uint64_t{d}, &count) || count > (uint64_t{1} << 34))
      fail("{}: IDX dimension {} ({}) makes the sizes multiply to more than 2^34 values", name, i,
           d);
    out.dims.push_back(d);
  }
  const uint64_t have = bytes.size() - header;
  if (have < count)
    fail("{}: truncated IDX data: header promises {} values, file holds {}", name, count, have);
  if (have > count)
    fail("{}: {} unexpected trailing bytes after {} IDX values", name, have - count, count);
  out.values.assign(bytes.begin() + header, bytes.end());
  return out;
}

IdxArray read_idx_file(const std::string& path) {
  const std::string raw = io::read_file(path);
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  if (io::is_gzip(bytes)) {
    const std::string inflated = io::gunzip(bytes, path);
    return parse_idx({reinterpret_cast<const uint8_t*>(inflated.data()), inflated.size()}, path);
  }
  return parse_idx(bytes, path);
}

}  // namespace fx::data
