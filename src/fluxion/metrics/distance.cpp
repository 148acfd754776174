#include "fluxion/metrics/distance.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::metrics {

namespace {
void check_pair(const Tensor& a, const Tensor& b, const char* what) {
  FX_CHECK(a.rank() == 2 && b.rank() == 2 && a.dim(1) == b.dim(1),
           "{}: point sets {} and {} must be [N, D] with the same D", what, shape_str(a.shape()),
           shape_str(b.shape()));
  FX_CHECK(a.dim(0) > 0 && b.dim(0) > 0, "{}: empty point set", what);
}

std::vector<double> project(const std::vector<float>& x, int64_t n, int64_t d,
                            const std::vector<double>& dir) {
  std::vector<double> p(n);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t k = 0; k < d; ++k) s += x[i * d + k] * dir[k];
    p[i] = s;
  }
  std::sort(p.begin(), p.end());
  return p;
}

double quantile(const std::vector<double>& sorted, double q) {
  double pos = q * (sorted.size() - 1);
  size_t lo = (size_t)pos;
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}
}  // namespace

double sliced_wasserstein(const Tensor& a, const Tensor& b, int projections, uint64_t seed) {
  check_pair(a, b, "sliced_wasserstein");
  FX_CHECK(projections > 0, "sliced_wasserstein: projections must be positive");
  int64_t n = a.dim(0), m = b.dim(0), d = a.dim(1);
  auto av = a.to_f32_vector(), bv = b.to_f32_vector();
  std::vector<double> dirs(projections * d);
  philox_normal(seed, 77, dirs.data(), (int64_t)dirs.size());
  double total = 0;
  for (int p = 0; p < projections; ++p) {
    std::vector<double> dir(dirs.begin() + p * d, dirs.begin() + (p + 1) * d);
    double norm = 0;
    for (double v : dir) norm += v * v;
    norm = std::sqrt(norm);
    for (double& v : dir) v /= norm;
    auto pa = project(av, n, d, dir), pb = project(bv, m, d, dir);
    double w2 = 0;
    int64_t k = std::max(n, m);
    for (int64_t i = 0; i < k; ++i) {
      double q = (i + 0.5) / k;
      double x = n == k ? pa[i] : quantile(pa, q), y = m == k ? pb[i] : quantile(pb, q);
      w2 += (x - y) * (x - y);
    }
    total += w2 / k;
  }
  return std::sqrt(total / projections);
}

double mmd_rbf(const Tensor& a_in, const Tensor& b_in) {
  check_pair(a_in, b_in, "mmd_rbf");
  int64_t d = a_in.dim(1);
  int64_t n = std::min<int64_t>(a_in.dim(0), 2000), m = std::min<int64_t>(b_in.dim(0), 2000);
  FX_CHECK(n >= 2 && m >= 2, "mmd_rbf: needs at least 2 points per set");
  auto a = a_in.to_f32_vector(), b = b_in.to_f32_vector();
  auto sq = [d](const float* x, const float* y) {
    double s = 0;
    for (int64_t k = 0; k < d; ++k) s += (double)(x[k] - y[k]) * (x[k] - y[k]);
    return s;
  };
  // Median pairwise distance over a subsample of the pooled points.
  std::vector<double> dists;
  for (int64_t i = 0; i < std::min<int64_t>(n, 300); ++i)
    for (int64_t j = 0; j < std::min<int64_t>(m, 300); ++j)
      dists.push_back(sq(&a[i * d], &b[j * d]));
  std::nth_element(dists.begin(), dists.begin() + dists.size() / 2, dists.end());
  double med2 = std::max(dists[dists.size() / 2], 1e-12);
  double total = 0;
  for (double bw : {0.25, 0.5, 1.0, 2.0}) {
    double inv = 1.0 / (2 * bw * bw * med2);
    double kxx = 0, kyy = 0, kxy = 0;
#pragma omp parallel for reduction(+ : kxx, kxy) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j)
        if (i != j) kxx += std::exp(-sq(&a[i * d], &a[j * d]) * inv);
      for (int64_t j = 0; j < m; ++j) kxy += std::exp(-sq(&a[i * d], &b[j * d]) * inv);
    }
#pragma omp parallel for reduction(+ : kyy) schedule(static)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j)
        if (i != j) kyy += std::exp(-sq(&b[i * d], &b[j * d]) * inv);
    total += kxx / (n * (n - 1.0)) + kyy / (m * (m - 1.0)) - 2 * kxy / ((double)n * m);
  }
  return total;
}

}  // namespace fx::metrics
