// The PFGM field network for images: the DDPM U-Net (nn/unet.h) with one extra output channel
// whose spatial mean is v_z, as the reference's ncsnpp does for `training.sde == 'poisson'`
// (`F.adaptive_avg_pool2d(h[:, -1], (1, 1))`), and log z as its time input.
#pragma once
#include <memory>

#include "fluxion/gen/pfgm.h"
#include "fluxion/nn/unet.h"

namespace fx::gen {

// The U-Net's sinusoidal embedding expects timesteps in about [0, 1000]; log z of training and
// sampling spans about [-9, 4] (z from 1e-4 to z_max 40), mapped to t = 100·(log z + 8).
inline constexpr double kPfgmTimeScale = 100.0, kPfgmTimeShift = 8.0;

class PoissonUNet : public PoissonNet {
 public:
  // cfg.out_channels is set here to in_channels + 1.
  PoissonUNet(nn::UNetConfig cfg, nn::InitRng& rng);
  // x [B, C·S·S] (flattened images in [-1, 1]), z [B, 1] > 0 -> [B, C·S·S + 1].
  Var operator()(Var x, Var z) const override;
  int64_t dim() const override;
  const nn::UNetConfig& config() const { return unet_->config(); }

 private:
  std::shared_ptr<nn::UNet> unet_;
};

}  // namespace fx::gen
