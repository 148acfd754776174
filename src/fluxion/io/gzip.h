// gzip decompression through zlib (Debian's zlib1g, already pulled in by libpng).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace fx::io {

// True when the bytes start with the gzip magic (1f 8b).
bool is_gzip(std::span<const uint8_t> bytes);

// Inflates a whole gzip stream. Throws fx::Error naming `name` on corrupt or truncated input,
// or when the output would exceed `max_bytes` (a guard against decompression bombs).
std::string gunzip(std::span<const uint8_t> bytes, std::string_view name,
                   size_t max_bytes = size_t{1} << 31);

}  // namespace fx::io
