// A DDPM run folder: config.json, model.safetensors (weights), ema.safetensors (EMA weights,
// used for sampling), train_state.safetensors (optimizer state, for --resume), loss.csv
// (mean loss per 50 steps, loss scale, skipped steps), loss.png, samples.png and, for
// --precision bf16|fp16, precision.txt (the precision pass's decision for each product). What
// `fluxion train/sample --method ddpm` are made of.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fluxion/gen/ddpm.h"

namespace fx::run {

struct DdpmRunConfig {
  std::string method = "ddpm";
  std::string data = "fashion-mnist";  // or a folder of PNG images
  std::string data_dir;                // Fashion-MNIST folder; "" = default_fashion_mnist_dir()
  int64_t limit = -1;                  // > 0: first `limit` training images only
  bool crop = false;                   // PNG folder: centre-crop non-square images
  bool flip = true;                    // random horizontal flip
  int64_t steps = 2000;
  int64_t batch = 64;
  double lr = 2e-4;
  int64_t warmup = 0;
  std::string lr_decay = "constant";  // or "cosine" (to 0 at the last step)
  double clip = 1.0;                  // global gradient-norm clip (0: off)
  double ema = 0.999;                 // EMA decay of the sampling weights
  uint64_t seed = 0;
  std::string schedule = "linear";
  int64_t timesteps = 1000;
  std::string prediction = "eps";
  nn::UNetConfig unet;
  int64_t checkpoint_every = 1000;
  bool compile = false;             // run the step compiled (bit-identical, faster)
  std::string precision = "fp32";   // fp32 | bf16 | fp16 products, f32 master weights
  bool precision_measure = true;    // keep f32 where the low-precision kernel is slower here
  std::string loss_scale = "auto";  // auto (dynamic for fp16) | none | dynamic | a number

  nlohmann::json to_json() const;
  static DdpmRunConfig from_json(const nlohmann::json& j, const std::string& file);
};

struct DdpmRun {
  DdpmRunConfig cfg;
  std::unique_ptr<nn::UNet> model;
  std::map<std::string, Tensor> ema;  // empty when trained without EMA
  int64_t step = 0;
  // Set by train_ddpm: what the precision pass chose for each product ("" in fp32).
  std::string precision_report;
};

// One row of loss.csv, every 50 steps: the mean loss since the last row, and the loss
// scale and steps skipped so far (fp16 loss scaling; 1 and 0 otherwise).
struct DdpmLossRow {
  int64_t step = 0;
  double loss = 0, loss_scale = 1;
  int64_t skipped_steps = 0;
};
// Reads dir/loss.csv (runs from before the scale columns have two); errors name the line.
std::vector<DdpmLossRow> read_ddpm_loss(const std::string& dir);

// Trains (or resumes) the run in dir; writes checkpoints, loss.csv/png and a sample grid.
DdpmRun train_ddpm(const DdpmRunConfig& cfg, const std::string& dir, bool resume);
// Loads config and weights; errors name the file and the tensor.
DdpmRun load_ddpm(const std::string& dir);
// Whether sampling uses the EMA weights: not when `raw`, when there are none, or while
// they are still mostly the initial weights (decay^step > e^-5, i.e. step < 5/(1-decay):
// 5,000 steps at 0.999; the EMA has no bias correction).
bool uses_ema(const DdpmRun& run, bool raw);
// Samples with the weights uses_ema() picks and returns [n, C, S, S] in [-1, 1]; shows a
// progress bar.
Tensor sample_ddpm(DdpmRun& run, int64_t n, const gen::SamplerOptions& o, bool raw = false,
                   gen::SampleStats* stats = nullptr);
// True when dir/config.json names the ddpm method (for the CLI's dispatch).
bool is_ddpm_run(const std::string& dir);

}  // namespace fx::run
