// A DDPM model on images: its options (U-Net, noise schedule, prediction, data), the U-Net with
// its EMA weights, and sampling with the weights uses_ema() picks. The method
// (methods/ddpm.cpp) trains it on the shared spine; ddpm_eval.h scores it.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/gen/ddpm.h"

namespace fx::run {

struct DdpmRunConfig {
  std::string data = "fashion-mnist";  // or a folder of PNG images
  std::string data_dir;                // Fashion-MNIST folder; "" = default_fashion_mnist_dir()
  int64_t limit = -1;                  // > 0: first `limit` training images only
  bool crop = false;                   // PNG folder: centre-crop non-square images
  bool flip = true;                    // random horizontal flip
  double clip = 1.0;                   // global gradient-norm clip (0: off)
  double ema = 0.999;                  // EMA decay of the sampling weights
  std::string schedule = "linear";
  int64_t timesteps = 1000;
  std::string prediction = "eps";
  nn::UNetConfig unet;
};

// Throws fx::Error naming the first invalid option.
void validate_ddpm_config(const DdpmRunConfig& c);
// The training images [N, C, S, S] in [0, 1] (Fashion-MNIST or a PNG folder).
Tensor load_training_images(const DdpmRunConfig& c);

struct DdpmRun {
  DdpmRunConfig cfg;
  std::unique_ptr<nn::UNet> model;
  std::map<std::string, Tensor> ema;  // empty when trained without EMA
  int64_t step = 0;
};

// Whether sampling uses the EMA weights: not when `raw`, when there are none, or while
// they are still mostly the initial weights (decay^step > e^-5, i.e. step < 5/(1-decay):
// 5,000 steps at 0.999; the EMA has no bias correction).
bool uses_ema(const DdpmRun& run, bool raw);
// Samples with the weights uses_ema() picks and returns [n, C, S, S] in [-1, 1]; shows a
// progress bar unless quiet.
Tensor sample_ddpm(DdpmRun& run, int64_t n, const gen::SamplerOptions& o, bool raw = false,
                   gen::SampleStats* stats = nullptr, bool quiet = false);

}  // namespace fx::run
