// Sampling bias for learned models: draw ⌈n/λ⌉ samples and keep the n with the highest density,
// the paper's "cherry-picking" stand-in for truncation and guidance. Density is the k-nearest-
// neighbour estimate within the drawn pool (p ∝ r_k^−D, so the smallest k-th-neighbour radius
// is the densest): no bandwidth to choose, unlike a KDE, and the same on any scale.
#pragma once
#include <cstdint>

#include "fluxion/core/tensor.h"

namespace fx::loop {

inline constexpr int64_t kFilterNeighbours = 10;

// The pool size for n kept samples at bias lambda ∈ (0, 1].
int64_t filter_pool_size(int64_t n, double lambda);

// The `keep` rows of pool [M, D] with the smallest distance to their k-th nearest other row
// (ties to the lower index), in pool order; f32 [keep, D].
Tensor keep_densest(const Tensor& pool, int64_t keep, int64_t k = kFilterNeighbours);

}  // namespace fx::loop
