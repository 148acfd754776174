// Shared pieces of the particle flows: particles are f32 [N, D] host tensors moved in place;
// a flow checks its inputs and stops with the step number as soon as a particle is no longer
// finite (a diverging flow), instead of carrying NaNs to the end.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "fluxion/core/tensor.h"

namespace fx::gen {

// ∇log p at each particle: f32 [N, D] -> f32 [N, D].
using ScoreFn = std::function<Tensor(const Tensor& x)>;

// Rank 2, f32, N > 0, all finite; errors name `where` and the first bad value.
void check_particles(const Tensor& x, const std::string& where);
// After step `step` of flow `flow`: fails with "<flow> diverged at step <step>" when any
// coordinate is not finite (or beyond `limit` in magnitude).
void check_step(const Tensor& x, const std::string& flow, int64_t step, double limit = 1e15);
void check_dt(double dt, const std::string& where);
void check_count(int64_t n, const std::string& where);

}  // namespace fx::gen
