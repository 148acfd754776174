#include "fluxion/metrics/frechet.h"

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/metrics/symmetric_eigen.h"

namespace fx::metrics {

GaussianFit fit_gaussian(const Tensor& f) {
  FX_CHECK(f.rank() == 2 && f.dim(0) >= 2 && f.dim(1) >= 1,
           "fit_gaussian: features must be [N >= 2, D >= 1], got {}", shape_str(f.shape()));
  const int64_t N = f.dim(0), D = f.dim(1);
  std::vector<double> x = f.to_vector();
  GaussianFit g;
  g.dim = D;
  g.count = N;
  g.mean.assign(D, 0.0);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t d = 0; d < D; ++d) {
      double v = x[i * D + d];
      FX_CHECK(std::isfinite(v), "fit_gaussian: feature {} of row {} is {}", d, i, v);
      g.mean[d] += v;
    }
  for (double& m : g.mean) m /= double(N);
  g.cov.assign(D * D, 0.0);
  for (int64_t i = 0; i < N; ++i) {
    const double* r = &x[i * D];
    for (int64_t a = 0; a < D; ++a) {
      double ca = r[a] - g.mean[a];
      for (int64_t b = a; b < D; ++b) g.cov[a * D + b] += ca * (r[b] - g.mean[b]);
    }
  }
  for (int64_t a = 0; a < D; ++a)
    for (int64_t b = a; b < D; ++b) {
      g.cov[a * D + b] /= double(N - 1);
      g.cov[b * D + a] = g.cov[a * D + b];
    }
  return g;
}

double frechet_distance(const GaussianFit& p, const GaussianFit& q) {
  FX_CHECK(p.dim == q.dim, "frechet_distance: feature dimensions differ: {} vs {}", p.dim, q.dim);
  const int64_t D = p.dim;
  double mean_term = 0, trace = 0;
  for (int64_t d = 0; d < D; ++d) {
    double diff = p.mean[d] - q.mean[d];
    mean_term += diff * diff;
    trace += p.cov[d * D + d] + q.cov[d * D + d];
  }
  // tr((Σ₁ Σ₂)^½) = tr((S Σ₂ S)^½) with S = Σ₁^½: the product S Σ₂ S is symmetric PSD, so
  // its square-root trace is the sum of the square roots of its eigenvalues.
  std::vector<double> s = symmetric_sqrt(p.cov, D), tmp(D * D, 0.0), m(D * D, 0.0);
  for (int64_t i = 0; i < D; ++i)
    for (int64_t k = 0; k < D; ++k) {
      double sik = s[i * D + k];
      for (int64_t j = 0; j < D; ++j) tmp[i * D + j] += sik * q.cov[k * D + j];
    }
  for (int64_t i = 0; i < D; ++i)
    for (int64_t k = 0; k < D; ++k) {
      double t = tmp[i * D + k];
      for (int64_t j = 0; j < D; ++j) m[i * D + j] += t * s[k * D + j];
    }
  for (int64_t i = 0; i < D; ++i)  // symmetrise the round-off
    for (int64_t j = i + 1; j < D; ++j)
      m[i * D + j] = m[j * D + i] = 0.5 * (m[i * D + j] + m[j * D + i]);
  double cross = 0;
  for (double l : symmetric_eigen(m, D).values) cross += std::sqrt(std::max(0.0, l));
  return std::max(0.0, mean_term + trace - 2.0 * cross);
}

double frechet_distance(const Tensor& a, const Tensor& b) {
  return frechet_distance(fit_gaussian(a), fit_gaussian(b));
}

}  // namespace fx::metrics
