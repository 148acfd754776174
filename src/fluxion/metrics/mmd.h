// Squared maximum mean discrepancy between point clouds a [N, D] and b [M, D], with the
// unbiased estimator (Gretton et al. 2012, eq. 3) and a sum of RBF kernels:
//   k(x, y) = Σ_h exp(−‖x − y‖² / (2 h²))
//   MMD²_u  = 1/(N(N−1)) Σ_{i≠j} k(a_i, a_j) + 1/(M(M−1)) Σ_{i≠j} k(b_i, b_j)
//             − 2/(N M) Σ_{i,j} k(a_i, b_j)
// Bandwidths h: by default the median heuristic, h = median pairwise distance of the pooled
// points × {0.5, 1, 2}; or a fixed list. Summing several bandwidths keeps the metric sensitive
// at both fine and coarse scales. Being unbiased, it can be slightly negative (|·| ≲ 1/N)
// when a and b come from the same distribution.
// The result does not depend on the order of the points, nor on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::metrics {

struct MmdOptions {
  std::vector<double> bandwidth_scales = {0.5, 1.0, 2.0};  // × the median pairwise distance
  std::vector<double> bandwidths;  // fixed h values; when non-empty, used instead of the above
  // Sets larger than this are subsampled (evenly over their rows in lexicographic order), since
  // the cost is O((N + M)² D).
  int64_t max_points = 4096;
};

// Throws fx::Error on a rank ≠ 2, fewer than 2 points in a set, dimension mismatch,
// non-finite values or non-positive bandwidths.
double mmd_rbf(const Tensor& a, const Tensor& b, const MmdOptions& options = {});

// Median Euclidean distance between distinct points of the pooled set (a ∪ b), over at most
// max_points points chosen as above; 1 if all points coincide.
double median_pairwise_distance(const Tensor& a, const Tensor& b, int64_t max_points = 1000);

}  // namespace fx::metrics
