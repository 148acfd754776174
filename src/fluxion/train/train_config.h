// The training options every method shares (steps, batch, learning rate and its schedule,
// seed, precision, compilation, log and checkpoint intervals). A method sets its defaults in
// Method::default_train_config(); the spine declares them, so each appears once.
#pragma once
#include <cstdint>
#include <string>

#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/optim/schedule.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/train/options.h"

namespace fx::train {

struct TrainConfig {
  int64_t steps = 1000;
  int64_t batch = 256;
  double lr = 1e-3;
  int64_t warmup = 0;
  std::string lr_decay = "constant";  // "cosine" to 0 at `steps`, or "constant"
  uint64_t seed = 0;
  std::string precision = "fp32";   // fp32 | bf16 | fp16 products, f32 master weights
  std::string loss_scale = "auto";  // auto (dynamic for fp16) | none | dynamic | a number
  bool precision_measure = true;    // keep f32 where the low-precision kernel is slower here
  bool compile = false;             // run steps compiled: how, not what (not in config.json)
  bool recompute_scans = false;     // compiled: checkpoint linear scans (not in config.json)
  int64_t log_every = 50;
  int64_t checkpoint_every = 1000;

  void declare(OptionSet& o);
  void validate() const;  // throws naming the option and value
  optim::Schedule schedule() const;
  amp::PrecisionPolicy precision_policy() const;
  amp::LossScaling loss_scaling() const;
  // The optim::Trainer options these settings give (schedule, seed, precision, loss scaling,
  // compile); a method adds its own (clipping, EMA, parameter groups).
  optim::TrainerOptions trainer_options() const;
};

}  // namespace fx::train
