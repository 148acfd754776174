#include "fluxion/data/npy_images.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <span>

#include "fluxion/core/error.h"
#include "fluxion/data/npy_header.h"
#include "fluxion/io/atomic_file.h"

namespace fx::data {

Tensor load_npy_images(const std::string& path) {
  std::string bytes = io::read_file(path);
  return parse_npy_images({(const uint8_t*)bytes.data(), bytes.size()}, path);
}

Tensor parse_npy_images(std::span<const uint8_t> raw, const std::string& path) {
  NpyHeader h = parse_npy_header(raw, path);
  FX_CHECK(h.shape.size() == 4, "{}: NPY array has shape {}; images must be [N, C, H, W]", path,
           shape_str(h.shape));
  FX_CHECK(h.dtype == DType::f32, "{}: images must be f32 ('<f4'), got {}", path,
           dtype_name(h.dtype));
  uint64_t count = 1;
  for (int64_t e : h.shape) {
    FX_CHECK(e > 0 && e <= (int64_t(1) << 31), "{}: NPY shape {} holds no images or is too large",
             path, shape_str(h.shape));
    FX_CHECK(!__builtin_mul_overflow(count, (uint64_t)e, &count) && count < (uint64_t(1) << 40),
             "{}: NPY shape {} is too large", path, shape_str(h.shape));
  }
  const uint64_t have = raw.size() - h.data_offset;
  FX_CHECK(have == count * 4, "{}: NPY data has {} bytes, shape {} needs {}", path, have,
           shape_str(h.shape), count * 4);
  Tensor t(h.shape, DType::f32);
  std::memcpy(t.raw(), raw.data() + h.data_offset, count * 4);
  const float* p = t.data<float>();
  for (uint64_t i = 0; i < count; ++i)
    FX_CHECK(std::isfinite(p[i]), "{}: pixel {} is {} (not finite)", path, i, p[i]);
  return t;
}

bool npy_holds_images(const std::string& path) {
  if (path.size() < 4 || path.compare(path.size() - 4, 4, ".npy") != 0) return false;
  // The header is at the front and short; read at most 64 KiB of it.
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::string head(65536, '\0');
  f.read(head.data(), (std::streamsize)head.size());
  head.resize((size_t)f.gcount());
  try {
    NpyHeader h = parse_npy_header({(const uint8_t*)head.data(), head.size()}, path);
    return h.shape.size() == 4;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace fx::data
