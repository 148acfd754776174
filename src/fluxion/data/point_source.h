// Points from a built-in distribution (data/toy2d.h) or from a user's .csv/.npy file (rows
// drawn at random), the data of every point-cloud method. Draws depend only on (n, seed).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::data {

class PointSource {
 public:
  // dim_if_gaussian: the dimension of the built-in "gaussian" (others are 2-D, files their own).
  PointSource(const std::string& spec, int64_t dim_if_gaussian);
  Tensor sample(int64_t n, uint64_t seed) const;
  int64_t dim() const { return dim_; }
  const std::string& spec() const { return spec_; }

 private:
  std::string spec_;
  Tensor points_;  // for files
  int64_t dim_;
};

// A seed for draw `b` of step `a` of a run seeded `seed` (a well-mixed 64-bit hash).
uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b);
// `count` row indices uniform in [0, n), from seed.
std::vector<int64_t> random_rows(int64_t n, int64_t count, uint64_t seed);
// The rows idx of the [n, d] tensor x.
Tensor take_rows(const Tensor& x, const std::vector<int64_t>& idx);

}  // namespace fx::data
