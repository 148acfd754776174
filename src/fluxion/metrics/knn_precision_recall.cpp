#include "fluxion/metrics/knn_precision_recall.h"

#include <algorithm>
#include <vector>

#include "fluxion/core/error.h"

namespace fx::metrics {

namespace {

struct Points {
  int64_t n, d;
  std::vector<double> x;
  const double* row(int64_t i) const { return &x[i * d]; }
};

Points points_of(const Tensor& t, const char* what) {
  FX_CHECK(t.rank() == 2 && t.dim(0) >= 1 && t.dim(1) >= 1,
           "knn_precision_recall: {} features must be [N, D], got {}", what, shape_str(t.shape()));
  return {t.dim(0), t.dim(1), t.to_vector()};
}

double squared_distance(const double* a, const double* b, int64_t d) {
  double s = 0;
  for (int64_t i = 0; i < d; ++i) {
    double t = a[i] - b[i];
    s += t * t;
  }
  return s;
}

// Squared distance from each point to its k-th nearest other point of the same set.
std::vector<double> kth_neighbour_radii(const Points& p, int64_t k) {
  std::vector<double> r(p.n);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < p.n; ++i) {
    std::vector<double> d;
    d.reserve(p.n - 1);
    for (int64_t j = 0; j < p.n; ++j)
      if (j != i) d.push_back(squared_distance(p.row(i), p.row(j), p.d));
    std::nth_element(d.begin(), d.begin() + (k - 1), d.end());
    r[i] = d[k - 1];
  }
  return r;
}

// Fraction of `queries` within the ball of at least one point of `manifold`.
double coverage(const Points& manifold, const std::vector<double>& radii, const Points& queries) {
  int64_t inside = 0;
#pragma omp parallel for reduction(+ : inside) schedule(dynamic, 16)
  for (int64_t q = 0; q < queries.n; ++q) {
    for (int64_t j = 0; j < manifold.n; ++j)
      if (squared_distance(queries.row(q), manifold.row(j), manifold.d) <= radii[j]) {
        ++inside;
        break;
      }
  }
  return double(inside) / double(queries.n);
}

}  // namespace

PrecisionRecall knn_precision_recall(const Tensor& real, const Tensor& generated, int64_t k) {
  Points r = points_of(real, "real"), g = points_of(generated, "generated");
  FX_CHECK(r.d == g.d, "knn_precision_recall: feature dimensions differ: real {} vs generated {}",
           r.d, g.d);
  FX_CHECK(k >= 1 && k < r.n && k < g.n,
           "knn_precision_recall: k = {} needs more than k points in each set (real {}, "
           "generated {})",
           k, r.n, g.n);
  PrecisionRecall out;
  out.k = k;
  out.precision = coverage(r, kth_neighbour_radii(r, k), g);
  out.recall = coverage(g, kth_neighbour_radii(g, k), r);
  return out;
}

}  // namespace fx::metrics
