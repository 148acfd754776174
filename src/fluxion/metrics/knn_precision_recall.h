// Improved precision and recall (Kynkäänniemi et al. 2019, arXiv 1904.06991): each set's
// manifold is the union of balls around its points, each ball reaching the point's k-th
// nearest neighbour in the same set. Precision: the fraction of generated points inside
// the real manifold; recall: the fraction of real points inside the generated one.
#pragma once
#include <cstdint>

#include "fluxion/core/tensor.h"

namespace fx::metrics {

struct PrecisionRecall {
  double precision = 0, recall = 0;
  int64_t k = 3;
};

// real [N, D], generated [M, D] (any float dtype); k < min(N, M). The paper uses k = 3.
PrecisionRecall knn_precision_recall(const Tensor& real, const Tensor& generated, int64_t k = 3);

}  // namespace fx::metrics
