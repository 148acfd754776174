#include "fluxion/amp/loss_scaler.h"

#include <fmt/format.h>

#include <cmath>

#include "fluxion/core/error.h"

namespace fx::amp {

LossScaling loss_scaling_from_string(const std::string& s) {
  LossScaling c;
  if (s == "none" || s.empty()) return c;
  if (s == "dynamic") {
    c.mode = LossScaling::Mode::dynamic;
    return c;
  }
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  FX_CHECK(used == s.size() && std::isfinite(v) && v > 0,
           "--loss-scale must be 'none', 'dynamic' or a positive number, got '{}'", s);
  c.mode = LossScaling::Mode::fixed;
  c.init_scale = v;
  return c;
}

LossScaling loss_scaling_for(const std::string& setting, Precision precision) {
  if (setting == "auto")
    return loss_scaling_from_string(precision == Precision::fp16 ? "dynamic" : "none");
  return loss_scaling_from_string(setting);
}

std::string loss_scaling_to_string(const LossScaling& s) {
  switch (s.mode) {
    case LossScaling::Mode::none:
      return "none";
    case LossScaling::Mode::dynamic:
      return "dynamic";
    case LossScaling::Mode::fixed:
      return fmt::format("{}", s.init_scale);
  }
  return "none";
}

LossScaler::LossScaler(LossScaling cfg) : cfg_(cfg), scale_(enabled() ? cfg.init_scale : 1.0) {}

void LossScaler::update(bool grads_finite) {
  if (!enabled()) return;
  if (!grads_finite) {
    ++skipped_;
    clean_streak_ = 0;
    if (cfg_.mode == LossScaling::Mode::dynamic)
      scale_ = std::max(scale_ * cfg_.backoff_factor, 1e-30);
    return;
  }
  if (cfg_.mode == LossScaling::Mode::dynamic && ++clean_streak_ >= cfg_.growth_interval) {
    // Growing past f32's range would turn every scaled loss into Inf.
    scale_ = std::min(scale_ * cfg_.growth_factor, 1e30);
    clean_streak_ = 0;
  }
}

std::map<std::string, Tensor> LossScaler::state() const {
  if (!enabled()) return {};
  return {{"amp/loss_scale", Tensor::from({scale_}, {}, DType::f64)},
          {"amp/skipped_steps", Tensor::from({(double)skipped_}, {}, DType::i64)},
          {"amp/clean_streak", Tensor::from({(double)clean_streak_}, {}, DType::i64)}};
}

void LossScaler::set_state(const std::map<std::string, Tensor>& state) {
  if (!enabled()) return;
  for (const char* k : {"amp/loss_scale", "amp/skipped_steps", "amp/clean_streak"})
    FX_CHECK(state.count(k) && state.at(k).numel() == 1, "training state has no scalar '{}'", k);
  scale_ = state.at("amp/loss_scale").item();
  skipped_ = (int64_t)state.at("amp/skipped_steps").item();
  clean_streak_ = (int64_t)state.at("amp/clean_streak").item();
}

}  // namespace fx::amp
