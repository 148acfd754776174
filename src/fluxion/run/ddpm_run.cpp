#include "fluxion/run/ddpm_run.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/image_folder.h"
#include "fluxion/data/npy_images.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/plot.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/nn/module_io.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/util/progress.h"

namespace fx::run {

namespace fs = std::filesystem;
using json = nlohmann::json;

void validate_ddpm_config(const DdpmRunConfig& c) {
  FX_CHECK(c.ema >= 0 && c.ema < 1, "--ema must be in [0, 1), got {}", c.ema);
  gen::prediction_from_name(c.prediction);
  gen::make_schedule(c.schedule, c.timesteps);
  nn::validate(c.unet);
}

Tensor load_training_images(const DdpmRunConfig& c) {
  if (c.data == "fashion-mnist") {
    FX_CHECK(c.unet.image_size == 28 && c.unet.in_channels == 1,
             "Fashion-MNIST images are 1x28x28; the U-Net is configured for {}x{}x{}",
             c.unet.in_channels, c.unet.image_size, c.unet.image_size);
    std::string dir = c.data_dir.empty() ? data::default_fashion_mnist_dir() : c.data_dir;
    return data::load_fashion_mnist(dir, true, c.limit).images;
  }
  std::error_code ec;
  const bool npy = data::npy_holds_images(c.data);
  FX_CHECK(npy || fs::is_directory(c.data, ec),
           "--data '{}' is neither 'fashion-mnist', a folder of PNG images, an .npy file of "
           "images [N, C, H, W], nor points (a built-in 2-D set or a .csv/.npy [N, D] file)",
           c.data);
  Tensor t = npy ? data::load_npy_images(c.data)
                 : data::load_png_folder(c.data, c.unet.image_size, c.unet.in_channels, c.crop);
  if (npy)
    FX_CHECK(t.dim(1) == c.unet.in_channels && t.dim(2) == c.unet.image_size &&
                 t.dim(3) == c.unet.image_size,
             "--data {}: images are {}, the U-Net is configured for {}x{}x{}", c.data,
             shape_str(t.shape()), c.unet.in_channels, c.unet.image_size, c.unet.image_size);
  if (c.limit > 0 && c.limit < t.dim(0)) {
    Tensor s({c.limit, t.dim(1), t.dim(2), t.dim(3)}, DType::f32);
    std::memcpy(s.raw(), t.raw(), s.nbytes());
    t = s;
  }
  return t;
}

bool uses_ema(const DdpmRun& r, bool raw) {
  return !raw && !r.ema.empty() && double(r.step) * (1.0 - r.cfg.ema) >= 5.0;
}

Tensor sample_ddpm(DdpmRun& r, int64_t n, const gen::SamplerOptions& o, bool raw,
                   gen::SampleStats* stats, bool quiet) {
  gen::DdpmSchedule sched = gen::make_schedule(r.cfg.schedule, r.cfg.timesteps);
  std::map<std::string, Tensor> w = uses_ema(r, raw) ? r.ema : nn::parameter_tensors(*r.model);
  std::unique_ptr<util::Progress> bar;
  return gen::ddpm_sample(
      *r.model, w, sched, gen::prediction_from_name(r.cfg.prediction), n, o,
      [&](int64_t done, int64_t total) {
        if (quiet) return;
        if (!bar) bar = std::make_unique<util::Progress>("sample", total);
        bar->update(done);
        if (done == total) bar->finish();
      },
      stats);
}

}  // namespace fx::run
