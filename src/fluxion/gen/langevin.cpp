#include "fluxion/gen/langevin.h"

#include <cmath>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::gen {

void langevin_step(Tensor& x, const ScoreFn& score, double dt, uint64_t seed, int64_t step) {
  check_dt(dt, "langevin");
  Tensor g = score(x);
  FX_CHECK(g.shape() == x.shape() && g.dtype() == DType::f32,
           "langevin: the score returned {}{} for particles {}", dtype_name(g.dtype()),
           shape_str(g.shape()), shape_str(x.shape()));
  int64_t n = x.numel();
  std::vector<float> xi(n);
  philox_normal(seed, (uint64_t)step, xi.data(), n);
  float* p = x.data<float>();
  const float* s = g.data<float>();
  const float a = (float)dt, b = (float)std::sqrt(2 * dt);
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) p[i] += a * s[i] + b * xi[i];
}

Tensor langevin(Tensor x, const ScoreFn& score, const LangevinOptions& o,
                const std::function<void(int64_t, const Tensor&)>& on_step, int64_t first_step) {
  check_particles(x, "langevin");
  check_dt(o.dt, "langevin");
  FX_CHECK(o.steps >= 0, "langevin: steps = {} must not be negative", o.steps);
  x = x.clone();  // never write into the caller's tensor
  for (int64_t s = first_step; s <= o.steps; ++s) {
    langevin_step(x, score, o.dt, o.seed, s);
    check_step(x, "langevin", s);
    if (on_step) on_step(s, x);
  }
  return x;
}

}  // namespace fx::gen
