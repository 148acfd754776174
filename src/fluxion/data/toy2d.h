// Built-in seeded distributions for flow experiments: 2-D toys and a standard Gaussian of any
// dimension. The same (name, n, seed) gives the same points on every machine: uniforms come from
// Philox (core/philox.h), normals from an explicit Box-Muller in double, then everything is
// rounded to f32 (which also hides last-bit differences between libm versions).
//
// Point i uses only its own random numbers, so sample_toy(name, n, seed) is a prefix of
// sample_toy(name, m, seed) for m > n. Each name draws from its own Philox stream.
//
//   gaussian      N(0, I) in `dim` dimensions
//   8gaussians    8 modes on a circle of radius 4, std 0.5 (as the PyTorch reference)
//   25gaussians   5x5 grid of modes at {-4,-2,0,2,4}^2, std 0.2
//   moons         sklearn-style two moons, scaled x3, centred, noise std 0.1 (peer script)
//   checkerboard  uniform on the 8 black squares of a 4x4 board covering [-4,4]^2 (FFJORD)
//   swissroll     2-D swiss roll t(cos t, sin t)/3, t in [1.5pi, 4.5pi], noise std 0.1
//   spirals       two interleaved spirals (FFJORD "2spirals" / 2.5), noise std 0.1
//   rings         concentric circles of radius 1, 2, 3, 4 (points uniform along the total
//                 length, so outer rings get more), noise std 0.05
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::data {

// f32 [n, dim]. dim must be 2 except for "gaussian". An unknown name throws fx::Error
// listing the valid ones.
Tensor sample_toy(std::string_view name, int64_t n, uint64_t seed, int64_t dim = 2);

std::vector<std::string> toy_names();
bool is_toy(std::string_view name);

}  // namespace fx::data
