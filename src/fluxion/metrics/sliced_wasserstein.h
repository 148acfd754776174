// Sliced Wasserstein-2 distance between point clouds a [N, D] and b [M, D]:
//   SW2(a, b) = sqrt( mean over P random unit directions θ of W2²(a·θ, b·θ) ),
// where W2² between the 1-D empirical distributions is computed exactly by quantile matching
// (the integral over q in (0,1) of (F_a⁻¹(q) − F_b⁻¹(q))², which handles N ≠ M).
// Directions are uniform on the sphere (normalised Gaussian vectors, Philox-seeded), so the
// result is deterministic for a given seed, any thread count, and any order of the points.
// Example: b = a shifted by δ in 2-D gives SW2 = |δ|/sqrt(2) (up to Monte-Carlo error in θ).
#pragma once
#include <cstdint>
#include <span>

#include "fluxion/core/tensor.h"

namespace fx::metrics {

// Throws fx::Error on a rank ≠ 2, empty set, dimension mismatch, non-finite value or
// projections < 1. The default of 256 directions gives about ±2% Monte-Carlo error in 2-D.
double sliced_wasserstein(const Tensor& a, const Tensor& b, int projections = 256,
                          uint64_t seed = 0);

// Exact W2² between two 1-D empirical distributions given as sorted, non-empty samples.
double w2_squared_sorted_1d(std::span<const double> a, std::span<const double> b);

}  // namespace fx::metrics
