#include "fluxion/gen/flow_metrics.h"

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/metrics/sliced_wasserstein.h"

namespace fx::gen {

ModeCoverage mode_coverage(const Tensor& x, const GaussianMixture& target, double max_distance,
                           double min_share) {
  FX_CHECK(x.rank() == 2 && x.dim(1) == target.dim() && x.dim(0) > 0,
           "mode coverage: samples {} do not match the target's dimension {}", shape_str(x.shape()),
           target.dim());
  int64_t n = x.dim(0), d = x.dim(1), K = target.size();
  std::vector<double> v = x.to_vector();
  ModeCoverage r;
  r.modes = K;
  r.counts.assign(K, 0);
  int64_t good = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = -1;
    double bd = INFINITY;
    for (int64_t k = 0; k < K; ++k) {
      double m = target.mahalanobis(v.data() + i * d, k);
      if (m < bd) bd = m, best = k;
    }
    if (bd <= max_distance) ++r.counts[best], ++good;
  }
  r.high_quality = (double)good / n;
  for (int64_t k = 0; k < K; ++k)
    if (r.counts[k] >= min_share * target.component(k).weight * n) ++r.covered;
  return r;
}

double sliced_w2_floor(const GaussianMixture& target, int64_t n, uint64_t seed, int pairs,
                       int projections) {
  FX_CHECK(pairs > 0, "sliced-W2 floor: pairs = {} must be positive", pairs);
  double s = 0;
  for (int k = 0; k < pairs; ++k)
    s += metrics::sliced_wasserstein(target.sample(n, seed + 2 * k + 1000),
                                     target.sample(n, seed + 2 * k + 1001), projections, seed);
  return s / pairs;
}

}  // namespace fx::gen
