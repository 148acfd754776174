#include "fluxion/metrics/point_cloud.h"

#include <cmath>

#include "fluxion/core/error.h"

namespace fx::metrics {

PointCloud to_point_cloud(const Tensor& t, const char* metric, const char* arg,
                          int64_t min_points) {
  FX_CHECK(t.defined(), "{}: point set {} is undefined", metric, arg);
  FX_CHECK(t.rank() == 2, "{}: point set {} must be [N, D], got shape {}", metric, arg,
           shape_str(t.shape()));
  PointCloud c{t.dim(0), t.dim(1), t.to_vector()};
  FX_CHECK(c.n >= min_points && c.d >= 1,
           "{}: point set {} of shape {} is too small (needs at "
           "least {} point(s) of dimension >= 1)",
           metric, arg, shape_str(t.shape()), min_points);
  for (int64_t i = 0; i < c.n * c.d; ++i)
    if (!std::isfinite(c.x[i]))
      fail("{}: point set {} has a non-finite value {} at row {}, column {}", metric, arg, c.x[i],
           i / c.d, i % c.d);
  return c;
}

void check_same_dim(const PointCloud& a, const PointCloud& b, const char* metric) {
  FX_CHECK(a.d == b.d, "{}: dimension mismatch: a is [{}, {}], b is [{}, {}]", metric, a.n, a.d,
           b.n, b.d);
}

}  // namespace fx::metrics
