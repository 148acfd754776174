// Sequential Fashion-MNIST: each 28x28 image read as 784 one-pixel steps in raster order
// (x f32 [N, 784, 1], standardised with the training set's mean 0.2860 and std 0.3530), or
// in a fixed pseudo-random order of the pixels ("permuted": the same permutation for every
// image, drawn from perm_seed), which removes the locality of raster order.
#pragma once
#include <string>
#include <vector>

#include "fluxion/data/sequence_set.h"

namespace fx::data {

SequenceSet make_sequential_fashion_mnist(const std::string& dir, bool train, int64_t limit,
                                          bool permuted, uint64_t perm_seed = 0);
// The pixel order used by the permuted variant (a permutation of 0..783).
std::vector<int64_t> pixel_permutation(uint64_t seed);

}  // namespace fx::data
