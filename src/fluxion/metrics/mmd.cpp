#include "fluxion/metrics/mmd.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "fluxion/core/error.h"
#include "fluxion/metrics/point_cloud.h"

namespace fx::metrics {

namespace {

double sq_dist(const double* x, const double* y, int64_t d) {
  double s = 0;
  for (int64_t k = 0; k < d; ++k) s += (x[k] - y[k]) * (x[k] - y[k]);
  return s;
}

// At most `limit` rows, chosen evenly from the rows in lexicographic order: the choice depends
// only on the set of points, not on their order.
PointCloud subsample(const PointCloud& c, int64_t limit) {
  std::vector<int64_t> idx(c.n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int64_t i, int64_t j) {
    return std::lexicographical_compare(c.row(i), c.row(i) + c.d, c.row(j), c.row(j) + c.d);
  });
  int64_t k = std::min(c.n, limit);
  PointCloud out{k, c.d, std::vector<double>(k * c.d)};
  for (int64_t r = 0; r < k; ++r) {
    int64_t src = idx[(r * c.n) / k];
    std::copy(c.row(src), c.row(src) + c.d, out.x.begin() + r * c.d);
  }
  return out;
}

PointCloud pooled(const PointCloud& a, const PointCloud& b) {
  PointCloud p{a.n + b.n, a.d, a.x};
  p.x.insert(p.x.end(), b.x.begin(), b.x.end());
  return p;
}

double median_distance(const PointCloud& all, int64_t max_points) {
  PointCloud s = subsample(all, std::max<int64_t>(2, max_points));
  std::vector<double> d2;
  d2.reserve(s.n * (s.n - 1) / 2);
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t j = i + 1; j < s.n; ++j) d2.push_back(sq_dist(s.row(i), s.row(j), s.d));
  if (d2.empty()) return 1.0;
  auto mid = d2.begin() + d2.size() / 2;
  std::nth_element(d2.begin(), mid, d2.end());
  return *mid > 0 ? std::sqrt(*mid) : 1.0;
}

// Σ over pairs (i in x, j in y; i < j when same) of Σ_h exp(−γ_h ‖x_i − y_j‖²), per bandwidth.
// Row sums are kept apart and added in a fixed order, so threads do not change the bits.
std::vector<double> kernel_sums(const PointCloud& x, const PointCloud& y, bool same,
                                const std::vector<double>& gammas) {
  const size_t nb = gammas.size();
  std::vector<double> rows(x.n * nb, 0.0);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < x.n; ++i) {
    double* acc = &rows[i * nb];
    for (int64_t j = same ? i + 1 : 0; j < y.n; ++j) {
      double d2 = sq_dist(x.row(i), y.row(j), x.d);
      for (size_t h = 0; h < nb; ++h) acc[h] += std::exp(-gammas[h] * d2);
    }
  }
  std::vector<double> total(nb, 0.0);
  for (int64_t i = 0; i < x.n; ++i)
    for (size_t h = 0; h < nb; ++h) total[h] += rows[i * nb + h];
  return total;
}

}  // namespace

double median_pairwise_distance(const Tensor& a_in, const Tensor& b_in, int64_t max_points) {
  const char* what = "median_pairwise_distance";
  PointCloud a = to_point_cloud(a_in, what, "a"), b = to_point_cloud(b_in, what, "b");
  check_same_dim(a, b, what);
  return median_distance(pooled(a, b), max_points);
}

double mmd_rbf(const Tensor& a_in, const Tensor& b_in, const MmdOptions& opt) {
  const char* what = "mmd_rbf";
  PointCloud a = to_point_cloud(a_in, what, "a", 2), b = to_point_cloud(b_in, what, "b", 2);
  check_same_dim(a, b, what);
  FX_CHECK(opt.max_points >= 2, "{}: max_points must be >= 2, got {}", what, opt.max_points);
  if (a.n > opt.max_points) a = subsample(a, opt.max_points);
  if (b.n > opt.max_points) b = subsample(b, opt.max_points);

  std::vector<double> hs = opt.bandwidths;
  if (hs.empty()) {
    FX_CHECK(!opt.bandwidth_scales.empty(), "{}: no bandwidths and no bandwidth scales", what);
    double med = median_distance(pooled(a, b), 1000);
    for (double s : opt.bandwidth_scales) hs.push_back(s * med);
  }
  std::vector<double> gammas;
  for (double h : hs) {
    FX_CHECK(h > 0 && std::isfinite(h), "{}: bandwidths must be positive and finite, got {}", what,
             h);
    gammas.push_back(1.0 / (2 * h * h));
  }

  auto kxx = kernel_sums(a, a, true, gammas), kyy = kernel_sums(b, b, true, gammas);
  auto kxy = kernel_sums(a, b, false, gammas);
  double n = (double)a.n, m = (double)b.n, total = 0;
  for (size_t h = 0; h < gammas.size(); ++h)  // off-diagonal sums were over i < j: double them
    total += 2 * kxx[h] / (n * (n - 1)) + 2 * kyy[h] / (m * (m - 1)) - 2 * kxy[h] / (n * m);
  return total;
}

}  // namespace fx::metrics
