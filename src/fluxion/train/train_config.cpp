#include "fluxion/train/train_config.h"

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/dist/communicator.h"

namespace fx::train {

void TrainConfig::declare(OptionSet& o) {
  o.add("steps", steps, "training steps");
  o.add("batch", batch, "batch size");
  o.add("lr", lr, "learning rate (Adam)");
  o.add("warmup", warmup, "linear learning-rate warm-up steps");
  o.add("lr-decay", lr_decay, "after warm-up: cosine (to 0 at --steps) or constant");
  o.add("seed", seed, "random seed: same seed, same weights");
  o.add("precision", precision, "fp32, bf16 or fp16 products (f32 master weights)");
  o.add("loss-scale", loss_scale, "auto (dynamic for fp16), none, dynamic, or a number");
  o.add("precision-measure", precision_measure,
        "keep f32 where this CPU runs the low-precision product slower");
  o.add("compile", compile, "run the step compiled (fused kernels; same results)").in_config =
      false;
  o.add("recompute-scans", recompute_scans,
        "with --compile: recompute linear scans' states in the backward pass (less memory)")
      .in_config = false;
  o.add("log-every", log_every, "steps between metrics.jsonl lines");
  o.add("checkpoint-every", checkpoint_every, "steps between checkpoints");
}

void TrainConfig::validate() const {
  FX_CHECK(steps > 0, "--steps must be positive, got {}", steps);
  FX_CHECK(batch > 0, "--batch must be positive, got {}", batch);
  FX_CHECK(lr > 0 && std::isfinite(lr), "--lr must be positive, got {}", lr);
  FX_CHECK(warmup >= 0, "--warmup must not be negative, got {}", warmup);
  FX_CHECK(lr_decay == "cosine" || lr_decay == "constant",
           "unknown --lr-decay '{}' (available: cosine, constant)", lr_decay);
  amp::precision_from_name(precision);
  if (loss_scale != "auto") amp::loss_scaling_from_string(loss_scale);
  FX_CHECK(!recompute_scans || compile, "--recompute-scans needs --compile");
  FX_CHECK(log_every > 0, "--log-every must be positive, got {}", log_every);
  FX_CHECK(checkpoint_every > 0, "--checkpoint-every must be positive, got {}", checkpoint_every);
}

optim::Schedule TrainConfig::schedule() const {
  return {lr, warmup, lr_decay == "cosine" ? steps : 0, 0.0};
}

amp::PrecisionPolicy TrainConfig::precision_policy() const {
  amp::PrecisionPolicy p;
  p.precision = amp::precision_from_name(precision);
  p.measure = precision_measure;
  return p;
}

optim::TrainerOptions TrainConfig::trainer_options() const {
  optim::TrainerOptions o;
  o.schedule = schedule();
  o.seed = seed;
  o.precision = precision_policy();
  o.loss_scaling = loss_scaling();
  o.compile = compile;
  o.recompute_scans = recompute_scans;
  // Under mpirun every rank trains its share of each batch (optim::Trainer, data-parallel).
  if (dist::world().size() > 1) o.comm = &dist::world();
  return o;
}

amp::LossScaling TrainConfig::loss_scaling() const {
  return amp::loss_scaling_for(loss_scale, amp::precision_from_name(precision));
}

}  // namespace fx::train
