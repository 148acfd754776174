#include "fluxion/gen/pfgm_unet.h"

#include "fluxion/core/error.h"

namespace fx::gen {

PoissonUNet::PoissonUNet(nn::UNetConfig cfg, nn::InitRng& rng) {
  cfg.out_channels = cfg.in_channels + 1;
  unet_ = register_module("unet", std::make_shared<nn::UNet>(cfg, rng));
}

int64_t PoissonUNet::dim() const {
  const nn::UNetConfig& c = unet_->config();
  return c.in_channels * c.image_size * c.image_size;
}

Var PoissonUNet::operator()(Var x, Var z) const {
  const nn::UNetConfig& c = unet_->config();
  const int64_t B = x.dim(0), C = c.in_channels, S = c.image_size;
  FX_CHECK(x.rank() == 2 && x.dim(1) == dim() && z.rank() == 2 && z.dim(0) == B && z.dim(1) == 1,
           "pfgm U-Net: inputs must be x [B, {}] and z [B, 1], got {} and {}", dim(),
           shape_str(x.shape()), shape_str(z.shape()));
  Var t = reshape((log(z) + kPfgmTimeShift) * kPfgmTimeScale, {B});
  Var h = (*unet_)(reshape(x, {B, C, S, S}), t);  // [B, C + 1, S, S]
  Var vx = reshape(slice_axis(h, 1, 0, C), {B, C * S * S});
  Var vz = reshape(mean(slice_axis(h, 1, C, C + 1), {2, 3}), {B, 1});
  return concat({vx, vz}, 1);
}

}  // namespace fx::gen
