// Distances between point clouds [N, D] and [M, D], for judging samples against data.
// Always report them beside their floor: the same metric between two independent
// samples of the target of the same size (finite-sample noise).
#pragma once
#include <cstdint>

#include "fluxion/core/tensor.h"

namespace fx::metrics {

// Sliced Wasserstein-2: sqrt of the mean over random unit directions of the 1-D squared
// W2 between the projections (quantile matching when N != M).
double sliced_wasserstein(const Tensor& a, const Tensor& b, int projections = 256,
                          uint64_t seed = 0);

// Unbiased MMD² with a sum of RBF kernels exp(-‖x−y‖²/(2h²)), h = bandwidths × the median
// pairwise distance of the pooled sample (computed on at most 2,000 points per set).
double mmd_rbf(const Tensor& a, const Tensor& b);

}  // namespace fx::metrics
