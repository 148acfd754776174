#include "fluxion/io/samples_file.h"

#include <fmt/format.h>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/png.h"

namespace fx::io {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string csv_bytes(const Tensor& x) {
  FX_CHECK(x.rank() == 2, "CSV holds points [n, d]; these samples are {}: use .npy",
           shape_str(x.shape()));
  std::string s;
  auto v = x.to_f32_vector();
  const int64_t d = x.dim(1);
  for (int64_t i = 0; i < x.dim(0); ++i) {
    for (int64_t k = 0; k < d; ++k) s += fmt::format("{}{}", k ? "," : "", v[i * d + k]);
    s += "\n";
  }
  return s;
}
}  // namespace

std::string npy_bytes(const Tensor& x) {
  std::string shape;
  for (int64_t e : x.shape()) shape += fmt::format("{},", e);
  if (x.rank() > 1) shape.pop_back();  // numpy writes (3,) but (3, 2)
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", shape);
  // Magic, version 1.0, header length; the header pads with spaces to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += (char)(header.size() & 0xff);
  out += (char)(header.size() >> 8);
  out += header;
  auto v = x.to_f32_vector();
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  return out;
}

void write_samples(const std::string& path, const Tensor& samples) {
  if (ends_with(path, ".npy")) return write_file_atomic(path, npy_bytes(samples));
  if (ends_with(path, ".csv")) return write_file_atomic(path, csv_bytes(samples));
  if (ends_with(path, ".png")) {
    FX_CHECK(samples.rank() == 4 || samples.rank() == 3,
             "a PNG grid needs images [n, C, H, W]; these samples are {}: use .csv or .npy",
             shape_str(samples.shape()));
    return write_png(path, image_grid(samples));
  }
  fail("--out '{}': unknown format (use .csv or .npy for points, .png or .npy for images)", path);
}

}  // namespace fx::io
