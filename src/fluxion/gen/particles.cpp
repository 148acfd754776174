#include "fluxion/gen/particles.h"

#include <cmath>

#include "fluxion/core/error.h"

namespace fx::gen {

void check_particles(const Tensor& x, const std::string& where) {
  FX_CHECK(x.defined() && x.rank() == 2 && x.dtype() == DType::f32 && x.dim(0) > 0 && x.dim(1) > 0,
           "{}: particles must be f32 [N, D] with N, D > 0, got {}{}", where, dtype_name(x.dtype()),
           shape_str(x.shape()));
  const float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i)
    FX_CHECK(std::isfinite(p[i]), "{}: particle {} has the non-finite coordinate {} (column {})",
             where, i / x.dim(1), p[i], i % x.dim(1));
}

void check_step(const Tensor& x, const std::string& flow, int64_t step, double limit) {
  const float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i)
    if (!(std::fabs(p[i]) <= limit))
      fail("{} diverged at step {}: particle {} reached {} (lower the step size)", flow, step,
           i / x.dim(1), p[i]);
}

void check_dt(double dt, const std::string& where) {
  FX_CHECK(std::isfinite(dt) && dt > 0, "{}: the step size dt = {} must be positive", where, dt);
}

void check_count(int64_t n, const std::string& where) {
  FX_CHECK(n > 0, "{}: the particle count {} must be positive", where, n);
}

}  // namespace fx::gen
