// 8-bit grey or RGB images and their PNG encoding (libpng). Writes are atomic (atomic_file.h).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fx::io {

struct Image {
  int width = 0, height = 0;
  int channels = 3;             // 1 = grey, 3 = RGB
  std::vector<uint8_t> pixels;  // row-major, channels interleaved

  Image() = default;
  Image(int width, int height, int channels = 3, uint8_t fill = 0);  // throws on bad sizes
  uint8_t* at(int x, int y) { return &pixels[((size_t)y * width + x) * channels]; }
  const uint8_t* at(int x, int y) const { return &pixels[((size_t)y * width + x) * channels]; }
};

// The PNG file's bytes.
std::string encode_png(const Image& image);
// Throws fx::Error naming the path and the reason (e.g. a missing directory).
void write_png(const std::string& path, const Image& image);

// Any PNG, converted to 8-bit grey (1 channel) or RGB (3); alpha is dropped. For tests and tools.
Image decode_png(std::span<const uint8_t> bytes, std::string_view name_for_errors);
Image read_png(const std::string& path);

}  // namespace fx::io
