// Scores of particles or samples against a Gaussian-mixture target.
// Mode coverage, the usual 2-D GAN score:
// a sample is "high quality" when its Mahalanobis distance to the nearest component is at
// most `max_distance` (3: within 3 std of a mode); a mode is covered when it holds at least
// `min_share` of its expected count w_k · N among those samples.
#pragma once
#include <cstdint>
#include <vector>

#include "fluxion/core/tensor.h"
#include "fluxion/gen/mixture_target.h"

namespace fx::gen {

struct ModeCoverage {
  int64_t covered = 0;          // modes covered
  int64_t modes = 0;            // components in the target
  double high_quality = 0;      // fraction of samples within max_distance of a mode
  std::vector<int64_t> counts;  // high-quality samples per mode
};

ModeCoverage mode_coverage(const Tensor& x, const GaussianMixture& target,
                           double max_distance = 3.0, double min_share = 0.25);

// The sliced-W2 floor for n samples: the mean distance between `pairs` pairs of independent
// n-point target samples. For a mixture one pair is a noisy floor (on 8 Gaussians with
// n = 5,000 it ranges 0.05–0.14 with the seed, from the random mode counts), hence the mean.
double sliced_w2_floor(const GaussianMixture& target, int64_t n, uint64_t seed, int pairs = 8,
                       int projections = 256);

}  // namespace fx::gen
