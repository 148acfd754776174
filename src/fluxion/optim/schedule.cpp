#include "fluxion/optim/schedule.h"

#include <algorithm>
#include <cmath>

namespace fx::optim {

double Schedule::lr_at(int64_t step) const {
  if (warmup_steps > 0 && step <= warmup_steps) return base_lr * (double)step / warmup_steps;
  if (total_steps <= warmup_steps) return base_lr;
  double progress = (double)(step - warmup_steps) / (double)(total_steps - warmup_steps);
  progress = std::clamp(progress, 0.0, 1.0);
  return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + std::cos(M_PI * progress));
}

}  // namespace fx::optim
