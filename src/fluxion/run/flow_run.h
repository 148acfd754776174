// A rectified-flow run folder: config.json, model.safetensors (weights + metadata),
// train_state.safetensors (optimizer state, for --resume), metrics.jsonl and pictures.
// This is what `fluxion train / reflow / sample / eval / demo` are made of.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fluxion/amp/loss_scaler.h"
#include "fluxion/gen/rectified_flow.h"

namespace fx::run {

struct FlowRunConfig {
  std::string method = "rectified-flow";
  std::string data = "moons";       // built-in name or a .csv/.npy file
  std::string source = "gaussian";  // built-in name or a file: x0 ~ source
  int64_t steps = 3000;
  int64_t batch = 1024;
  double lr = 1e-3;
  int64_t warmup = 100;
  std::string lr_decay = "cosine";  // after warm-up: "cosine" to 0 at `steps`, or "constant"
  std::string precision = "fp32";   // fp32, bf16 or fp16 products (f32 master weights)
  std::string loss_scale = "auto";  // auto (dynamic for fp16), none, dynamic, or a number
  bool precision_measure = true;    // keep f32 where the low-precision kernel is slower here
  uint64_t seed = 0;
  gen::VelocityConfig model;
  int round = 1;         // k of k-rectified flow
  std::string parent;    // run folder of the (k−1)-flow that made the pairs
  int64_t pairs = 0;     // number of (x0, x̂1) pairs for reflow / distillation
  bool distill = false;  // one-step distillation (t = 0) instead of reflow
  int64_t log_every = 50;
  int64_t checkpoint_every = 1000;
  // Run the training step compiled (fluxion/compiler). How, not what: results are
  // bit-identical, so it is not written to config.json and a run may resume either way.
  bool compile = false;

  nlohmann::json to_json() const;
  static FlowRunConfig from_json(const nlohmann::json& j, const std::string& file);
  void validate() const;  // throws naming the field and value
};

// Points from a built-in distribution or from a user's file (rows drawn at random).
class PointSource {
 public:
  PointSource(const std::string& spec, int64_t dim_if_gaussian);
  Tensor sample(int64_t n, uint64_t seed) const;
  int64_t dim() const { return dim_; }

 private:
  std::string spec_;
  Tensor points_;  // for files
  int64_t dim_;
};

struct FlowRun {
  FlowRunConfig cfg;
  std::unique_ptr<gen::VelocityMLP> model;
  int64_t step = 0;
  amp::PrecisionPolicy sampling_precision;  // used by evaluate_flow and the pictures
  bool sampling_compile = false;            // evaluate_flow runs the network compiled
  std::string precision_report;             // the precision pass's decisions (training)
  double train_seconds = 0;                 // wall time of the last train_flow call
};

// The training options' precision policy and loss scaling for a config.
amp::PrecisionPolicy precision_policy(const FlowRunConfig& cfg);
amp::LossScaling loss_scaling(const FlowRunConfig& cfg);

// Trains (or resumes) the run described by cfg in dir. Reflow runs read their pairs from
// dir/pairs.safetensors (made by make_reflow_pairs). Returns the trained run.
// stop_after > 0 ends (with a checkpoint) after that step, as an interruption would; a later
// resume finishes the run exactly as if it had not stopped, schedule included.
FlowRun train_flow(const FlowRunConfig& cfg, const std::string& dir, bool resume,
                   bool quiet = false, int64_t stop_after = 0);

// Loads a run folder's config and weights; errors name the file and the tensor.
FlowRun load_flow(const std::string& dir);

// Draws x0 from the parent's source and integrates the parent flow (RK45) to x̂1; writes
// dir/pairs.safetensors.
void make_reflow_pairs(FlowRun& parent, int64_t n, uint64_t seed, const std::string& dir);

struct SampleQuality {
  std::string solver;
  int64_t nfe = 0;
  double sw2 = 0, sw2_floor = 0, mmd = 0, mmd_floor = 0;
};

// Samples n points with the given solver and compares them with fresh data points.
SampleQuality evaluate_flow(FlowRun& run, const solvers::OdeOptions& ode, int64_t n, uint64_t seed,
                            Tensor* samples_out = nullptr);

// The loss column of dir/metrics.jsonl (one point per log interval).
struct LossCurve {
  std::vector<double> steps, losses;
};
LossCurve read_loss_curve(const std::string& dir);

// samples.png, trajectories.png and loss.png in dir.
void write_flow_pictures(FlowRun& run, const std::string& dir, uint64_t seed);

// Refuses to write into a folder that already holds another run.
void prepare_run_dir(const std::string& dir, bool resume);

}  // namespace fx::run
