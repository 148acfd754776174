#include "fluxion/data/toy2d.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::data {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kUniformsPerPoint = 4;      // two for the shape, two for one Box-Muller pair
constexpr int64_t kParallelPoints = 256;  // fewer: one thread (a parallel region costs ~3 us)

// Draws for one point: u[0], u[1] shape the point, z0/z1 are independent N(0, 1).
struct Draw {
  double u[2];
  double z0, z1;
};

// Box-Muller on (u1, u2) in [0, 1); 1 - u1 is in (0, 1], so the log is finite.
void box_muller(double u1, double u2, double* z0, double* z1) {
  double r = std::sqrt(-2.0 * std::log(1.0 - u1));
  *z0 = r * std::cos(2 * kPi * u2);
  *z1 = r * std::sin(2 * kPi * u2);
}

// One Philox stream per distribution name (FNV-1a), so that, say, "moons" and "8gaussians"
// drawn with the same seed are independent.
uint64_t stream_of(std::string_view name) {
  uint64_t h = 1469598103934665603ull;
  for (char c : name) h = (h ^ (uint8_t)c) * 1099511628211ull;
  return h;
}

int pick(double u, int k) { return std::min(k - 1, (int)(u * k)); }

void point(std::string_view name, const Draw& d, double* x, double* y) {
  double u0 = d.u[0], u1 = d.u[1];
  if (name == "8gaussians") {
    double a = pick(u0, 8) * (2 * kPi / 8);
    *x = 4 * std::cos(a) + 0.5 * d.z0;
    *y = 4 * std::sin(a) + 0.5 * d.z1;
  } else if (name == "25gaussians") {
    int k = pick(u0, 25);
    *x = 2.0 * (k % 5 - 2) + 0.2 * d.z0;
    *y = 2.0 * (k / 5 - 2) + 0.2 * d.z1;
  } else if (name == "moons") {
    double th = u1 * kPi;
    bool first = u0 < 0.5;
    double mx = first ? std::cos(th) : 1 - std::cos(th);
    double my = first ? std::sin(th) : 0.5 - std::sin(th);
    *x = (mx - 0.5) * 3.0 + 0.1 * d.z0;
    *y = (my - 0.25) * 3.0 + 0.1 * d.z1;
  } else if (name == "checkerboard") {
    // One of the 8 squares (col + row even) of side 2 on [-4,4]^2, then uniform inside it. The
    // fraction of u0 left after picking the square is itself uniform.
    int k = pick(u0, 8);
    int col = k % 4, row = 2 * (k / 4) + col % 2;
    *x = -4 + 2 * (col + (u0 * 8 - k));
    *y = -4 + 2 * (row + u1);
  } else if (name == "swissroll") {
    double t = 1.5 * kPi * (1 + 2 * u0);
    *x = t * std::cos(t) / 3.0 + 0.1 * d.z0;
    *y = t * std::sin(t) / 3.0 + 0.1 * d.z1;
  } else if (name == "spirals") {
    double r = std::sqrt(u1) * 3 * kPi;
    double s = u0 < 0.5 ? 1.0 : -1.0;
    *x = s * -std::cos(r) * r / 2.5 + 0.1 * d.z0;
    *y = s * std::sin(r) * r / 2.5 + 0.1 * d.z1;
  } else if (name == "rings") {
    // Ring k (radius k) is picked with probability k / 10: equal density along the circles.
    double c = u0 * 10;
    double r = c < 1 ? 1 : c < 3 ? 2 : c < 6 ? 3 : 4;
    double a = 2 * kPi * u1;
    *x = r * std::cos(a) + 0.05 * d.z0;
    *y = r * std::sin(a) + 0.05 * d.z1;
  }
}

}  // namespace

std::vector<std::string> toy_names() {
  return {"gaussian",     "8gaussians", "25gaussians", "moons",
          "checkerboard", "swissroll",  "spirals",     "rings"};
}

bool is_toy(std::string_view name) {
  for (const auto& n : toy_names())
    if (n == name) return true;
  return false;
}

Tensor sample_toy(std::string_view name, int64_t n, uint64_t seed, int64_t dim) {
  if (!is_toy(name))
    fail("unknown distribution '{}' (built-in: {})", name, fmt::join(toy_names(), ", "));
  FX_CHECK(n >= 0, "{}: the number of points must be >= 0, got {}", name, n);
  uint64_t stream = stream_of(name);
  if (name == "gaussian") {
    FX_CHECK(dim >= 1, "gaussian: dimension must be >= 1, got {}", dim);
    int64_t count = n * dim;
    std::vector<double> u(count + count % 2);
    philox_uniform(seed, stream, u.data(), (int64_t)u.size());
    Tensor t({n, dim}, DType::f32);
    float* p = t.data<float>();
#pragma omp parallel for schedule(static) if (count >= 2 * kParallelPoints)
    for (int64_t i = 0; i < count; i += 2) {
      double z0, z1;
      box_muller(u[i], u[i + 1], &z0, &z1);
      p[i] = (float)z0;
      if (i + 1 < count) p[i + 1] = (float)z1;
    }
    return t;
  }
  FX_CHECK(dim == 2, "distribution '{}' is 2-D; asked for dimension {}", name, dim);
  Tensor t({n, 2}, DType::f32);
  float* p = t.data<float>();
  // Points are independent (~50 ns each: a log, a sqrt and two sincos in double), so a batch
  // splits over the threads, each drawing its points' uniforms itself, with the same values
  // as one thread; a training step draws a batch every step.
#pragma omp parallel for schedule(static) if (n >= kParallelPoints)
  for (int64_t i = 0; i < n; ++i) {
    double u[kUniformsPerPoint];
    philox_uniform_range(seed, stream, i * kUniformsPerPoint, u, kUniformsPerPoint);
    Draw d{{u[0], u[1]}, 0, 0};
    box_muller(u[2], u[3], &d.z0, &d.z1);
    double x = 0, y = 0;
    point(name, d, &x, &y);
    p[2 * i] = (float)x;
    p[2 * i + 1] = (float)y;
  }
  return t;
}

}  // namespace fx::data
