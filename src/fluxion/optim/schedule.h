// Learning-rate schedules, evaluated on the host and fed to the step as a scalar.
#pragma once
#include <cstdint>

namespace fx::optim {

struct Schedule {
  double base_lr = 1e-3;
  int64_t warmup_steps = 0;  // linear ramp from base_lr/warmup to base_lr
  int64_t total_steps = 0;   // > 0: cosine decay to min_lr after warm-up
  double min_lr = 0.0;
  double lr_at(int64_t step) const;  // step is 1-based
};

}  // namespace fx::optim
