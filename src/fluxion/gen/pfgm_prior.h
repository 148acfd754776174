// The PFGM prior on the plane z = z_max (methods.py: Poisson.prior_sampling): the radius has
// density ∝ r^{N−1}(r² + z_max²)^{−(N+1)/2}, drawn as R = z_max·sqrt(b/(1−b)) with
// b ~ Beta(N/2, 1/2) (the reference's Beta((N+1)/2 − 0.5, 0.5)), clipped to [1, upper_norm];
// the direction is uniform on the sphere.
#pragma once
#include <cstdint>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::gen {

// A sequential stream of Philox numbers for draws that need a variable count (rejection
// sampling): draw i of a fill uses counter (k, i, stream) for k = 0, 1, ..., so each draw is
// a function of (seed, stream, i) alone and fills can be split across threads.
class PhiloxStream {
 public:
  PhiloxStream(uint64_t seed, uint32_t stream, uint64_t index);
  double uniform();  // [0, 1), 53 bits
  double normal();   // Box–Muller

 private:
  void refill();
  uint64_t seed_, index_;
  uint32_t stream_;
  uint32_t k_ = 0;
  uint32_t words_[4] = {};
  int used_ = 4;
};

// Gamma(shape, 1) by Marsaglia & Tsang (2000), with the shape < 1 boost G(a) = G(a+1)·U^{1/a}.
double sample_gamma(PhiloxStream& r, double shape);
// Beta(a, b) = G_a / (G_a + G_b).
double sample_beta(PhiloxStream& r, double a, double b);

// n prior radii for data dimension N (before clipping when upper_norm <= 0).
std::vector<double> pfgm_prior_radius(int64_t n, int64_t N, double z_max, double upper_norm,
                                      uint64_t seed);
// n prior points, f32 [n, N]: the radii above times uniform directions.
Tensor pfgm_prior(int64_t n, int64_t N, double z_max, double upper_norm, uint64_t seed);

}  // namespace fx::gen
