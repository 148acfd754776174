#include "fluxion/data/toy2d.h"

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::data {

const std::vector<std::string>& toy_names() {
  static const std::vector<std::string> names = {"gaussian", "8gaussians",   "25gaussians",
                                                 "moons",    "checkerboard", "swissroll",
                                                 "spirals",  "rings"};
  return names;
}

bool is_toy(const std::string& name) {
  for (const auto& n : toy_names())
    if (n == name) return true;
  return false;
}

namespace {
// Independent streams per purpose: u = uniforms, z = normals.
struct Draws {
  std::vector<double> u, z;
  Draws(int64_t n, int per_point_u, int per_point_z, uint64_t seed)
      : u(n * per_point_u), z(n * per_point_z) {
    philox_uniform(seed, 1, u.data(), (int64_t)u.size());
    philox_normal(seed, 2, z.data(), (int64_t)z.size());
  }
};
}  // namespace

Tensor sample_toy(const std::string& name, int64_t n, uint64_t seed, int64_t dim) {
  FX_CHECK(n >= 0, "sample_toy: negative count {}", n);
  if (!is_toy(name))
    fail("unknown data set '{}' (built-in: {}; or give a .csv/.npy file)", name,
         fmt::join(toy_names(), ", "));
  if (name == "gaussian") {
    FX_CHECK(dim > 0, "gaussian: dimension must be positive, got {}", dim);
    Tensor t({n, dim}, DType::f32);
    philox_normal(seed, 2, t.data<float>(), n * dim);
    return t;
  }
  FX_CHECK(dim == 2, "data set '{}' is 2-D; asked for dimension {}", name, dim);
  Tensor t({n, 2}, DType::f32);
  float* p = t.data<float>();
  Draws d(n, 2, 2, seed);
  for (int64_t i = 0; i < n; ++i) {
    double u0 = d.u[2 * i], u1 = d.u[2 * i + 1], z0 = d.z[2 * i], z1 = d.z[2 * i + 1];
    double x = 0, y = 0;
    if (name == "8gaussians") {  // radius 4, std 0.5 (as shared/peer/rectified_flow_2d.py)
      double a = std::floor(u0 * 8) * (2 * M_PI / 8);
      x = 4 * std::cos(a) + 0.5 * z0;
      y = 4 * std::sin(a) + 0.5 * z1;
    } else if (name == "25gaussians") {  // 5x5 grid, spacing 2, std 0.1
      int k = std::min(24, (int)(u0 * 25));
      x = 2.0 * (k % 5 - 2) + 0.1 * z0;
      y = 2.0 * (k / 5 - 2) + 0.1 * z1;
    } else if (name == "moons") {  // as the peer: scaled by 3, centred, noise 0.1
      double th = u1 * M_PI;
      bool upper = u0 < 0.5;
      double mx = upper ? std::cos(th) : 1 - std::cos(th);
      double my = upper ? std::sin(th) : 0.5 - std::sin(th);
      x = (mx - 0.5) * 3.0 + 0.1 * z0;
      y = (my - 0.25) * 3.0 + 0.1 * z1;
    } else if (name == "checkerboard") {  // FFJORD's: 8 alternating squares on [-4,4]^2
      double a = u0 * 4 - 2;
      double b = u1 - (z0 > 0 ? 2.0 : 0.0);
      int parity = (((int)std::floor(a)) % 2 + 2) % 2;
      x = a * 2;
      y = (b + parity) * 2;
    } else if (name == "swissroll") {
      double th = 1.5 * M_PI * (1 + 2 * u0);
      x = th * std::cos(th) / 3.0 + 0.1 * z0;
      y = th * std::sin(th) / 3.0 + 0.1 * z1;
    } else if (name == "spirals") {
      double r = std::sqrt(u1) * 3 * M_PI;
      double sgn = u0 < 0.5 ? 1.0 : -1.0;
      x = sgn * -std::cos(r) * r / 2.5 + 0.1 * z0;
      y = sgn * std::sin(r) * r / 2.5 + 0.1 * z1;
    } else if (name == "rings") {  // radii 1, 2, 3, 4
      double r = 1 + std::floor(u0 * 4);
      double a = 2 * M_PI * u1;
      x = r * std::cos(a) + 0.05 * z0;
      y = r * std::sin(a) + 0.05 * z1;
    }
    p[2 * i] = (float)x;
    p[2 * i + 1] = (float)y;
  }
  return t;
}

}  // namespace fx::data
