#include "fluxion/metrics/sliced_wasserstein.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/metrics/point_cloud.h"

namespace fx::metrics {

namespace {

constexpr uint64_t kDirectionStream = 0x5157'3200;  // Philox stream for the directions

std::vector<double> sorted_projection(const PointCloud& c, const double* dir) {
  std::vector<double> p(c.n);
  for (int64_t i = 0; i < c.n; ++i) {
    const double* r = c.row(i);
    double s = 0;
    for (int64_t k = 0; k < c.d; ++k) s += r[k] * dir[k];
    p[i] = s;
  }
  std::sort(p.begin(), p.end());
  return p;
}

}  // namespace

double w2_squared_sorted_1d(std::span<const double> a, std::span<const double> b) {
  FX_CHECK(!a.empty() && !b.empty(), "w2_squared_sorted_1d: empty sample");
  // Walk both quantile functions together. Quantile positions are kept as integers in units
  // of 1/(n m) so that steps ending at the same q are matched exactly.
  const int64_t n = (int64_t)a.size(), m = (int64_t)b.size();
  int64_t i = 0, j = 0, q = 0;
  double acc = 0;
  while (i < n && j < m) {
    int64_t qa = (i + 1) * m, qb = (j + 1) * n, next = std::min(qa, qb);
    double diff = a[i] - b[j];
    acc += (double)(next - q) * diff * diff;
    q = next;
    if (qa == next) ++i;
    if (qb == next) ++j;
  }
  return acc / ((double)n * (double)m);
}

double sliced_wasserstein(const Tensor& a_in, const Tensor& b_in, int projections, uint64_t seed) {
  const char* what = "sliced_wasserstein";
  PointCloud a = to_point_cloud(a_in, what, "a"), b = to_point_cloud(b_in, what, "b");
  check_same_dim(a, b, what);
  FX_CHECK(projections >= 1, "{}: projections must be >= 1, got {}", what, projections);
  const int64_t d = a.d;

  std::vector<double> dirs((size_t)projections * d);
  philox_normal(seed, kDirectionStream, dirs.data(), (int64_t)dirs.size());
  for (int p = 0; p < projections; ++p) {
    double* v = &dirs[(size_t)p * d];
    double norm = 0;
    for (int64_t k = 0; k < d; ++k) norm += v[k] * v[k];
    norm = std::sqrt(norm);
    if (norm == 0) {  // probability ~0; any fixed unit vector keeps it deterministic
      v[0] = 1, norm = 1;
    }
    for (int64_t k = 0; k < d; ++k) v[k] /= norm;
  }

  // Per-direction results, summed serially afterwards: the same bits for any thread count.
  std::vector<double> w2(projections);
#pragma omp parallel for schedule(dynamic, 4)
  for (int p = 0; p < projections; ++p) {
    auto pa = sorted_projection(a, &dirs[(size_t)p * d]);
    auto pb = sorted_projection(b, &dirs[(size_t)p * d]);
    w2[p] = w2_squared_sorted_1d(pa, pb);
  }
  double total = 0;
  for (double v : w2) total += v;
  return std::sqrt(total / projections);
}

}  // namespace fx::metrics
