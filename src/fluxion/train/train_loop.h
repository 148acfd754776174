// The one training loop every method runs: run folder, config.json, resume, the step loop
// with metrics.jsonl and a progress bar, and one-file checkpoints every checkpoint_every steps
// and at the end.
//   methods::RunContext ctx{dir, train_config};
//   train::train_run(method, ctx, {.resume = false});
#pragma once
#include <cstdint>
#include <string>

#include "fluxion/methods/method.h"

namespace fx::train {

struct TrainRunOptions {
  bool resume = false;
  int64_t stop_after = 0;  // > 0: stop (with a checkpoint) after this step, as a kill would
  // A run folder whose checkpoint weights start this run instead of fresh ones from the seed
  // (a warm start: its optimizer state and step are not taken). Recorded in config.json as
  // `init_from`, so a resume must name the same folder.
  std::string init_from;
  // Data-parallel: compare a hash of weights and optimizer state across ranks every this many
  // steps and at the end (0: never).
  int64_t replica_check_every = 100;
};

inline constexpr const char* kInitFromKey = "init_from";  // config.json: the warm start

struct TrainRunResult {
  int64_t step = 0;
  double seconds = 0;
  double last_loss = 0;
  std::string precision_report;  // also written to precision.txt when not empty
};

// Trains method in ctx.dir. ctx.train and the method's options must be set; on resume they
// must match config.json except `steps`.
TrainRunResult train_run(methods::Method& method, const methods::RunContext& ctx,
                         const TrainRunOptions& opts);

// The method's config.json: {"method": name, <shared options>, <method options>}.
nlohmann::json run_config(methods::Method& m, train::TrainConfig& t);
// Loads a run folder for sampling/eval: sets the method's and t's options from config.json,
// builds the model and loads the checkpoint's weights. Returns the checkpoint's step.
int64_t load_run(methods::Method& m, methods::RunContext& ctx);

}  // namespace fx::train
