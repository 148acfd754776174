// Built-in seeded 2-D distributions (and a standard Gaussian of any dimension). The same
// (name, n, seed) gives the same points on every machine: the samplers use Philox and
// explicit formulas, nothing implementation-defined.
#pragma once
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::data {

// Names: gaussian, 8gaussians, 25gaussians, moons, checkerboard, swissroll, spirals, rings.
// Returns f32 [n, dim]; dim must be 2 except for "gaussian".
Tensor sample_toy(const std::string& name, int64_t n, uint64_t seed, int64_t dim = 2);
const std::vector<std::string>& toy_names();
bool is_toy(const std::string& name);

}  // namespace fx::data
