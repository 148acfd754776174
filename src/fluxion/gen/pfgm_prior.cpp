#include "fluxion/gen/pfgm_prior.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::gen {

PhiloxStream::PhiloxStream(uint64_t seed, uint32_t stream, uint64_t index)
    : seed_(seed), index_(index), stream_(stream) {}

void PhiloxStream::refill() {
  auto w = Philox::block({k_++, uint32_t(index_), uint32_t(index_ >> 32), stream_},
                         {uint32_t(seed_), uint32_t(seed_ >> 32)});
  std::copy(w.begin(), w.end(), words_);
  used_ = 0;
}

double PhiloxStream::uniform() {
  if (used_ > 2) refill();
  uint64_t bits = (uint64_t(words_[used_ + 1]) << 32) | words_[used_];
  used_ += 2;
  return double(bits >> 11) * 0x1p-53;
}

double PhiloxStream::normal() {
  double u1 = uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log1p(-u1)) * std::cos(2 * std::numbers::pi * u2);
}

double sample_gamma(PhiloxStream& r, double shape) {
  FX_CHECK(std::isfinite(shape) && shape > 0, "gamma sampler: shape must be positive, got {}",
           shape);
  if (shape < 1) {
    // 1 − U lies in (0, 1], so the power is finite.
    double u = 1.0 - r.uniform();
    return sample_gamma(r, shape + 1) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = r.normal(), v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = 1.0 - r.uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
  }
}

double sample_beta(PhiloxStream& r, double a, double b) {
  double x = sample_gamma(r, a), y = sample_gamma(r, b);
  return x / (x + y);
}

std::vector<double> pfgm_prior_radius(int64_t n, int64_t N, double z_max, double upper_norm,
                                      uint64_t seed) {
  FX_CHECK(n >= 0 && N > 0, "pfgm prior: bad count {} or dimension {}", n, N);
  FX_CHECK(std::isfinite(z_max) && z_max > 0, "pfgm: --z-max must be positive, got {}", z_max);
  std::vector<double> r(n);
  // Beta((N+1)/2 − 0.5, 0.5) as the reference writes it, with N+1 its augmented dimension.
  const double a = 0.5 * double(N), b = 0.5;
#pragma omp parallel for schedule(static) if (n > 4096)
  for (int64_t i = 0; i < n; ++i) {
    PhiloxStream s(seed, 7, uint64_t(i));
    double beta = sample_beta(s, a, b);
    // Gamma ratios keep b < 1 in double unless G_b underflows; cap the odds at a huge value.
    double odds = beta < 1 ? beta / (1 - beta) : 1e300;
    double R = z_max * std::sqrt(odds);
    r[i] = upper_norm > 0 ? std::clamp(R, 1.0, upper_norm) : R;
  }
  return r;
}

Tensor pfgm_prior(int64_t n, int64_t N, double z_max, double upper_norm, uint64_t seed) {
  FX_CHECK(std::isfinite(upper_norm) && upper_norm >= 1, "pfgm: --upper-norm must be >= 1, got {}",
           upper_norm);
  std::vector<double> r = pfgm_prior_radius(n, N, z_max, upper_norm, seed);
  std::vector<double> g(n * N);
  philox_normal(seed, 8, g.data(), n * N);
  Tensor out({n, N}, DType::f32);
  float* op = out.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    double nn = 0;
    for (int64_t k = 0; k < N; ++k) nn += g[i * N + k] * g[i * N + k];
    double s = r[i] / std::sqrt(std::max(nn, 1e-300));
    for (int64_t k = 0; k < N; ++k) op[i * N + k] = float(g[i * N + k] * s);
  }
  return out;
}

}  // namespace fx::gen
