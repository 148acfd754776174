// Stein variational gradient descent (Liu & Wang, NeurIPS 2016), a deterministic particle
// flow toward p:  x_i ← x_i + ε φ(x_i),
//   φ(x) = 1/N Σ_j [ k(x_j, x) ∇log p(x_j) + ∇_{x_j} k(x_j, x) ],  k(a, b) = exp(−‖a − b‖²/h),
// the first term pulls particles to high density, the second (kernel repulsion) keeps them
// apart. h = 0 picks the median heuristic h = med²/log(N + 1) afresh every step.
// O(N²·D) per step: meant for hundreds to a few thousand particles.
#pragma once
#include <cstdint>

#include "fluxion/gen/particles.h"

namespace fx::gen {

// The median-heuristic bandwidth of particles x (f32 [N, D]).
double median_bandwidth(const Tensor& x);

// One step in place; returns the bandwidth used.
double svgd_step(Tensor& x, const ScoreFn& score, double step_size, double bandwidth = 0.0);

}  // namespace fx::gen
