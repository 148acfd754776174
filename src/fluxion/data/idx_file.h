// The IDX format of (Fashion-)MNIST: big-endian magic 00 00 <type> <ndim>, ndim u32 sizes,
// then the data in C order. fluxion reads unsigned-byte arrays (type 0x08), which is what
// both MNIST and Fashion-MNIST ship.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace fx::data {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  // C order, product(dims) bytes
};

// Parses raw (already decompressed) IDX bytes. Errors name `name`, the field and the value:
// bad magic, unsupported element type, zero dims, a size that disagrees with the file length.
IdxArray parse_idx(std::span<const uint8_t> bytes, std::string_view name);

// Reads a .gz (gzip) or plain IDX file.
IdxArray read_idx_file(const std::string& path);

}  // namespace fx::data
