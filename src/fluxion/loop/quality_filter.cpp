#include "fluxion/loop/quality_filter.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "fluxion/core/error.h"

namespace fx::loop {

int64_t filter_pool_size(int64_t n, double lambda) {
  FX_CHECK(lambda > 0 && lambda <= 1, "sampling bias lambda must be in (0, 1], got {}", lambda);
  // The small slack keeps 1/0.7·0.7 from rounding up one sample too many.
  return std::max<int64_t>(n, (int64_t)std::ceil(double(n) / lambda - 1e-9));
}

Tensor keep_densest(const Tensor& pool, int64_t keep, int64_t k) {
  FX_CHECK(pool.rank() == 2, "keep_densest: points must be [M, D], got {}",
           shape_str(pool.shape()));
  const int64_t m = pool.dim(0), d = pool.dim(1);
  FX_CHECK(keep >= 0 && keep <= m, "keep_densest: keep {} of {} points", keep, m);
  std::vector<double> x = pool.to_vector();
  if (keep == m) return pool.dtype() == DType::f32 ? pool : pool.to(DType::f32);
  const int64_t kk = std::min<int64_t>(k, m - 1);
  std::vector<double> radius(m, 0.0);
  if (kk >= 1) {
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < m; ++i) {
      std::vector<double> dist;
      dist.reserve(m - 1);
      for (int64_t j = 0; j < m; ++j) {
        if (j == i) continue;
        double s = 0;
        for (int64_t c = 0; c < d; ++c)
          s += (x[i * d + c] - x[j * d + c]) * (x[i * d + c] - x[j * d + c]);
        dist.push_back(s);
      }
      std::nth_element(dist.begin(), dist.begin() + (kk - 1), dist.end());
      radius[i] = dist[kk - 1];
    }
  }
  std::vector<int64_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return radius[a] < radius[b]; });
  order.resize(keep);
  std::sort(order.begin(), order.end());
  Tensor out({keep, d}, DType::f32);
  float* o = out.data<float>();
  for (int64_t r = 0; r < keep; ++r)
    for (int64_t c = 0; c < d; ++c) o[r * d + c] = float(x[order[r] * d + c]);
  return out;
}

}  // namespace fx::loop
