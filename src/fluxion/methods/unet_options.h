// The U-Net's shape options, declared once for every image method (ddpm, pfgm) so they keep
// the same names, meanings and help.
#pragma once
#include <string>

#include "fluxion/nn/unet.h"
#include "fluxion/train/options.h"

namespace fx::methods {

// `prefix` starts each help line (e.g. "images: " where the method also takes points).
inline void declare_unet_shape(train::OptionSet& o, nn::UNetConfig& u, const std::string& prefix) {
  o.add("image-size", u.image_size, prefix + "image side (PNG folders are resized)");
  o.add("channels", u.in_channels, prefix + "image channels: 1 (grey) or 3 (RGB)");
  o.add("base", u.base_channels, prefix + "U-Net base channels");
  o.add("mult", u.channel_mult, prefix + "channel multiplier per level, e.g. 1,2,2");
  o.add("res-blocks", u.res_blocks, prefix + "ResBlocks per level");
  o.add("attn", u.attn_resolutions, prefix + "attention resolutions, e.g. 7");
}

}  // namespace fx::methods
