// Fréchet distance between Gaussians fitted to two sets of feature vectors, the formula
// of FID (Heusel et al. 2017):
//   FD = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½).
// Covariances are unbiased (divide by N − 1), as numpy.cov and pytorch-fid use.
#pragma once
#include <cstdint>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::metrics {

struct GaussianFit {
  int64_t dim = 0, count = 0;
  std::vector<double> mean;  // dim
  std::vector<double> cov;   // dim×dim row-major
};

// features: [N, D] (any float dtype), N ≥ 2; non-finite values throw.
GaussianFit fit_gaussian(const Tensor& features);
double frechet_distance(const GaussianFit& a, const GaussianFit& b);
double frechet_distance(const Tensor& features_a, const Tensor& features_b);

}  // namespace fx::metrics
