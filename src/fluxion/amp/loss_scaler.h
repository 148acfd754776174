// Loss scaling for low-precision training (Micikevicius et al. 2018; PyTorch's GradScaler).
// The step multiplies the loss by `scale` before grad() and divides the gradients by it
// afterwards, so small gradients survive f16's narrow range; the step also checks the
// gradients for Inf/NaN and, if any, keeps the old weights and optimizer state (a skipped
// step). This class is the host-side bookkeeping between steps:
//   dynamic: halve the scale after an overflow, double it after `growth_interval` clean steps;
//   fixed:   a constant scale (`--loss-scale 1000`), overflowing steps are still skipped.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "fluxion/amp/precision_policy.h"
#include "fluxion/core/tensor.h"

namespace fx::amp {

struct LossScaling {
  enum class Mode { none, fixed, dynamic };
  Mode mode = Mode::none;
  double init_scale = 65536.0;  // 2^16, PyTorch's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

// "none", "dynamic", or a positive number for a fixed scale. Errors name the value.
LossScaling loss_scaling_from_string(const std::string& s);
// The --loss-scale setting of a run: "auto" is dynamic for fp16 and none otherwise (bf16 has
// f32's range); anything else as loss_scaling_from_string.
LossScaling loss_scaling_for(const std::string& setting, Precision precision);
std::string loss_scaling_to_string(const LossScaling& s);

class LossScaler {
 public:
  explicit LossScaler(LossScaling cfg = {});
  bool enabled() const { return cfg_.mode != LossScaling::Mode::none; }
  double scale() const { return scale_; }
  int64_t skipped_steps() const { return skipped_; }
  // After each step: were all gradients finite?
  void update(bool grads_finite);
  // Scale, skipped count and clean streak as tensors (for checkpoints) and back.
  std::map<std::string, Tensor> state() const;
  void set_state(const std::map<std::string, Tensor>& state);

 private:
  LossScaling cfg_;
  double scale_ = 1.0;
  int64_t skipped_ = 0;
  int64_t clean_streak_ = 0;
};

}  // namespace fx::amp
