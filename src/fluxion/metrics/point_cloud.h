// Shared input handling for the point-cloud metrics: [N, D] tensors of any real dtype, read as
// doubles, with errors that name the metric and the argument.
#pragma once
#include <cstdint>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::metrics {

struct PointCloud {
  int64_t n = 0, d = 0;
  std::vector<double> x;  // row-major [n, d]
  const double* row(int64_t i) const { return x.data() + i * d; }
};

// Checks rank 2, n >= min_points, finite values; `arg` is "a" or "b" in messages.
PointCloud to_point_cloud(const Tensor& t, const char* metric, const char* arg,
                          int64_t min_points = 1);
// Both clouds, and that their dimensions agree.
void check_same_dim(const PointCloud& a, const PointCloud& b, const char* metric);

}  // namespace fx::metrics
