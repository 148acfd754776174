#include "fluxion/data/point_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/points_file.h"
#include "fluxion/data/toy2d.h"

namespace fx::data {

namespace {
bool is_file_spec(const std::string& s) {
  return s.find('.') != std::string::npos || s.find('/') != std::string::npos;
}
}  // namespace

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull ^ (a + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull ^
               (b + 1) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Tensor take_rows(const Tensor& x, const std::vector<int64_t>& idx) {
  int64_t d = x.dim(1);
  Tensor out({(int64_t)idx.size(), d}, DType::f32);
  for (size_t i = 0; i < idx.size(); ++i)
    std::memcpy(out.data<float>() + i * d, x.data<float>() + idx[i] * d, d * sizeof(float));
  return out;
}

std::vector<int64_t> random_rows(int64_t n, int64_t count, uint64_t seed) {
  std::vector<double> u(count);
  philox_uniform(seed, 9, u.data(), count);
  std::vector<int64_t> idx(count);
  for (int64_t i = 0; i < count; ++i) idx[i] = std::min(n - 1, (int64_t)(u[i] * n));
  return idx;
}

PointSource::PointSource(const std::string& spec, int64_t dim_if_gaussian) : spec_(spec) {
  if (is_file_spec(spec)) {
    points_ = load_points(spec);
    dim_ = points_.dim(1);
  } else {
    FX_CHECK(is_toy(spec), "unknown data set '{}' (built-in: {}; or a .csv/.npy file)", spec,
             fmt::join(toy_names(), ", "));
    dim_ = spec == "gaussian" ? dim_if_gaussian : 2;
  }
}

Tensor PointSource::sample(int64_t n, uint64_t seed) const {
  if (points_.defined()) return take_rows(points_, random_rows(points_.dim(0), n, seed));
  return sample_toy(spec_, n, seed, dim_);
}

}  // namespace fx::data
