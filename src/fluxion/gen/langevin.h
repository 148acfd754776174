// Unadjusted Langevin dynamics, the particle form of the Fokker–Planck equation (the
// Wasserstein gradient flow of KL(q‖p)):  x ← x + dt·∇log p(x) + sqrt(2 dt)·ξ,  ξ ~ N(0, I).
// The noise of step s is the Philox stream (seed, s), so a run resumed at step s continues
// bit-identically, and any particle count or thread count gives the same path per seed.
#pragma once
#include <cstdint>
#include <functional>

#include "fluxion/gen/particles.h"

namespace fx::gen {

struct LangevinOptions {
  double dt = 1e-2;
  int64_t steps = 1000;
  uint64_t seed = 0;
};

// One step (1-based `step`) in place; x is f32 [N, D].
void langevin_step(Tensor& x, const ScoreFn& score, double dt, uint64_t seed, int64_t step);

// Runs steps first_step..o.steps from x (checked first); `on_step(step, x)`, if given, sees
// the particles after each step. Fails naming the step if the particles diverge.
Tensor langevin(Tensor x, const ScoreFn& score, const LangevinOptions& o,
                const std::function<void(int64_t, const Tensor&)>& on_step = {},
                int64_t first_step = 1);

}  // namespace fx::gen
