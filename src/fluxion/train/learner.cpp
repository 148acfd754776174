#include "fluxion/train/learner.h"

namespace fx::train {

StepMetrics TrainerLearner::step(int64_t step) {
  return {{"loss", trainer_->step(batches_(step))}};
}

void TrainerLearner::set_state(const std::map<std::string, Tensor>& s, int64_t step) {
  trainer_->set_state(s);
  trainer_->set_steps_done(step);
}

void TrainerLearner::log_fields(nlohmann::json& line) const {
  const auto& scaler = trainer_->loss_scaler();
  if (!scaler.enabled()) return;
  line["loss_scale"] = scaler.scale();
  line["skipped_steps"] = scaler.skipped_steps();
}

}  // namespace fx::train
