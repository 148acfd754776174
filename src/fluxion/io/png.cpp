#include "fluxion/io/png.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"

namespace fx::io {

namespace {

// libpng reports errors by longjmp. The functions that call setjmp below keep only trivially
// destructible locals, and no C++ exception ever crosses libpng's C frames.
struct PngIo {
  std::string* out = nullptr;   // writing
  std::span<const uint8_t> in;  // reading
  size_t pos = 0;
  char error[256] = {};
};

void on_error(png_structp png, png_const_charp msg) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  std::snprintf(io->error, sizeof io->error, "%s", msg);
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

void on_write(png_structp png, png_bytep data, size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  try {
    io->out->append(reinterpret_cast<const char*>(data), n);
  } catch (...) {
    png_error(png, "out of memory");
  }
}
void on_flush(png_structp) {}

void on_read(png_structp png, png_bytep data, size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (n > io->in.size() - io->pos) png_error(png, "file truncated");
  std::memcpy(data, io->in.data() + io->pos, n);
  io->pos += n;
}

// Deflate expands at most about 1032:1, so the file must be large enough to hold the rows its
// header claims (one filter byte each). Refusing here avoids allocating gigabytes for a
// 100-byte file that says 32768x32768.
void check_fits_in_file(png_structp png, png_infop info, size_t file_bytes) {
  const uint64_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  const uint64_t raw = (uint64_t(png_get_rowbytes(png, info)) + 1) * h;
  if (raw / 1032 <= file_bytes) return;
  char msg[200];
  std::snprintf(msg, sizeof msg,
                "header claims %llux%llu pixels (%llu bytes uncompressed), more than a %zu-byte "
                "file can hold",
                (unsigned long long)w, (unsigned long long)h, (unsigned long long)raw, file_bytes);
  png_error(png, msg);
}

bool encode(const Image& img, PngIo* io) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, io, on_error, on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, io, on_write, on_flush);
  png_set_IHDR(png, info, img.width, img.height, 8,
               img.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  size_t stride = (size_t)img.width * img.channels;
  for (int y = 0; y < img.height; ++y)
    png_write_row(png, const_cast<png_bytep>(img.pixels.data() + y * stride));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

// Fills *img (already default-constructed) or returns false.
bool decode(PngIo* io, Image* img) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, io, on_error, on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, io, on_read);
  png_set_user_limits(png, 1 << 15, 1 << 15);
  png_read_info(png, info);
  check_fits_in_file(png, info, io->in.size());
  int color = png_get_color_type(png, info);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_packing(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_expand_gray_1_2_4_to_8(png);
  png_read_update_info(png, info);
  int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
  int ch = png_get_channels(png, info);
  if (ch != 1 && ch != 3) png_error(png, "unsupported channel layout");
  img->width = w, img->height = h, img->channels = ch;
  img->pixels.resize((size_t)w * h * ch);  // at most 32768^2*3, and bounded by the file size
  for (int y = 0; y < h; ++y) png_read_row(png, img->pixels.data() + (size_t)y * w * ch, nullptr);
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

Image::Image(int w, int h, int c, uint8_t fill) : width(w), height(h), channels(c) {
  FX_CHECK(w >= 0 && h >= 0 && w <= (1 << 15) && h <= (1 << 15),
           "image size {}x{} is out of range (0..32768)", w, h);
  FX_CHECK(c == 1 || c == 3, "image channels must be 1 (grey) or 3 (RGB), got {}", c);
  pixels.assign((size_t)w * h * c, fill);
}

std::string encode_png(const Image& img) {
  FX_CHECK(img.width > 0 && img.height > 0, "cannot encode an empty {}x{} image as PNG", img.width,
           img.height);
  FX_CHECK(img.channels == 1 || img.channels == 3, "PNG: channels must be 1 or 3, got {}",
           img.channels);
  FX_CHECK(img.pixels.size() == (size_t)img.width * img.height * img.channels,
           "PNG: {} pixel bytes for a {}x{}x{} image", img.pixels.size(), img.width, img.height,
           img.channels);
  std::string out;
  PngIo io;
  io.out = &out;
  if (!encode(img, &io)) fail("PNG encoding failed: {}", io.error);
  return out;
}

void write_png(const std::string& path, const Image& image) {
  write_file_atomic(path, encode_png(image));
}

Image decode_png(std::span<const uint8_t> bytes, std::string_view name) {
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0)
    fail("{}: not a PNG file (bad signature)", name);
  PngIo io;
  io.in = bytes;
  Image img;
  if (!decode(&io, &img)) fail("{}: cannot decode PNG: {}", name, io.error);
  return img;
}

Image read_png(const std::string& path) {
  std::string bytes = read_file(path);
  return decode_png({(const uint8_t*)bytes.data(), bytes.size()}, path);
}

}  // namespace fx::io
