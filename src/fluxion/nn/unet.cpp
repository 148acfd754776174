#include "fluxion/nn/unet.h"

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.h"

namespace fx::nn {

void validate(const UNetConfig& c) {
  FX_CHECK(c.image_size > 0 && c.in_channels > 0 && c.base_channels > 0,
           "U-Net: image_size {}, in_channels {} and base_channels {} must be positive",
           c.image_size, c.in_channels, c.base_channels);
  FX_CHECK(!c.channel_mult.empty(), "U-Net: channel_mult is empty");
  FX_CHECK(c.res_blocks >= 1, "U-Net: res_blocks {} must be >= 1", c.res_blocks);
  FX_CHECK(c.dropout >= 0 && c.dropout < 1, "U-Net: dropout {} must be in [0, 1)", c.dropout);
  int64_t levels = (int64_t)c.channel_mult.size(), div = int64_t(1) << (levels - 1);
  FX_CHECK(c.image_size % div == 0,
           "U-Net: image size {} is not divisible by 2^{} = {}: {} levels (channel_mult) halve "
           "the resolution {} times",
           c.image_size, levels - 1, div, levels, levels - 1);
  for (int64_t m : c.channel_mult) {
    int64_t ch = m * c.base_channels;
    FX_CHECK(m > 0 && ch % c.norm_groups == 0,
             "U-Net: channel_mult {} gives {} channels, not divisible into {} norm groups", m, ch,
             c.norm_groups);
    FX_CHECK(ch % c.attn_heads == 0, "U-Net: {} channels do not split into {} attention heads", ch,
             c.attn_heads);
  }
  for (int64_t r : c.attn_resolutions) {
    bool found = false;
    for (int64_t l = 0; l < levels; ++l) found |= (c.image_size >> l) == r;
    FX_CHECK(found,
             "U-Net: attention resolution {} is not one of the level resolutions of a "
             "{}x{} image with {} levels",
             r, c.image_size, c.image_size, levels);
  }
}

ResBlock::ResBlock(int64_t in, int64_t out, int64_t temb_dim, int64_t groups, double dropout,
                   InitRng& rng)
    : dropout_(dropout) {
  n1_ = register_module("n1", std::make_shared<GroupNorm>(groups, in));
  c1_ = register_module("c1", std::make_shared<Conv2d>(in, out, 3, rng, 1, 1));
  t_ = register_module("t", std::make_shared<Linear>(temb_dim, out, rng));
  n2_ = register_module("n2", std::make_shared<GroupNorm>(groups, out));
  c2_ = register_module("c2", std::make_shared<Conv2d>(out, out, 3, rng, 1, 1));
  if (in != out) skip_ = register_module("skip", std::make_shared<Conv2d>(in, out, 1, rng));
}

Var ResBlock::operator()(Var x, Var temb, std::optional<Var> key) const {
  Var h = (*c1_)(silu((*n1_)(x)));
  Var t = (*t_)(temb);
  h = h + reshape(t, {t.dim(0), t.dim(1), 1, 1});
  h = silu((*n2_)(h));
  if (dropout_ > 0 && key) h = dropout(h, dropout_, *key);
  h = (*c2_)(h);
  return (skip_ ? (*skip_)(x) : x) + h;
}

AttentionBlock::AttentionBlock(int64_t c, int64_t heads, int64_t groups, InitRng& rng)
    : heads_(heads) {
  norm_ = register_module("n", std::make_shared<GroupNorm>(groups, c));
  qkv_ = register_module("qkv", std::make_shared<Conv2d>(c, 3 * c, 1, rng));
  proj_ = register_module("proj", std::make_shared<Conv2d>(c, c, 1, rng));
}

Var AttentionBlock::operator()(Var x) const {
  int64_t B = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Var qkv = reshape((*qkv_)((*norm_)(x)), {B, 3 * C, H * W});
  Var h = spatial_attention(slice_axis(qkv, 1, 0, C), slice_axis(qkv, 1, C, 2 * C),
                            slice_axis(qkv, 1, 2 * C, 3 * C), heads_);
  return x + (*proj_)(reshape(h, {B, C, H, W}));
}

UNet::UNet(const UNetConfig& cfg, InitRng& rng) : cfg_(cfg) {
  validate(cfg);
  int64_t ch = cfg.base_channels, td = 4 * ch, G = cfg.norm_groups;
  temb0_ = register_module("temb.0", std::make_shared<Linear>(ch, td, rng));
  temb1_ = register_module("temb.2", std::make_shared<Linear>(td, td, rng));
  stem_ = register_module("stem", std::make_shared<Conv2d>(cfg.in_channels, ch, 3, rng, 1, 1));
  int64_t levels = (int64_t)cfg.channel_mult.size(), cur = ch;
  std::vector<int64_t> skip_ch;
  for (int64_t l = 0; l < levels; ++l) {
    Stage s;
    int64_t out = cfg.channel_mult[l] * ch, res = cfg.image_size >> l;
    bool attn = std::count(cfg.attn_resolutions.begin(), cfg.attn_resolutions.end(), res) > 0;
    for (int64_t b = 0; b < cfg.res_blocks; ++b) {
      std::string name = fmt::format("down.{}.block.{}", l, b);
      s.blocks.push_back(
          register_module(name, std::make_shared<ResBlock>(cur, out, td, G, cfg.dropout, rng)));
      s.attn.push_back(
          attn ? register_module(fmt::format("down.{}.attn.{}", l, b),
                                 std::make_shared<AttentionBlock>(out, cfg.attn_heads, G, rng))
               : nullptr);
      cur = out;
      skip_ch.push_back(cur);
    }
    if (l + 1 < levels)
      s.resample = register_module(fmt::format("down.{}.down", l),
                                   std::make_shared<Conv2d>(cur, cur, 3, rng, 2, 1));
    down_.push_back(std::move(s));
  }
  mid_ = register_module("mid", std::make_shared<ResBlock>(cur, cur, td, G, cfg.dropout, rng));
  for (int64_t l = levels - 1; l >= 0; --l) {
    Stage s;
    int64_t out = cfg.channel_mult[l] * ch;
    for (int64_t b = 0; b < cfg.res_blocks; ++b) {
      int64_t skip = skip_ch.back();
      skip_ch.pop_back();
      s.blocks.push_back(
          register_module(fmt::format("up.{}.block.{}", l, b),
                          std::make_shared<ResBlock>(cur + skip, out, td, G, cfg.dropout, rng)));
      s.attn.push_back(nullptr);
      cur = out;
    }
    if (l > 0)
      s.resample = register_module(fmt::format("up.{}.up", l),
                                   std::make_shared<Conv2d>(cur, cur, 3, rng, 1, 1));
    up_.push_back(std::move(s));
  }
  out_norm_ = register_module("out_norm", std::make_shared<GroupNorm>(G, cur));
  const int64_t out_channels = cfg.out_channels > 0 ? cfg.out_channels : cfg.in_channels;
  out_ = register_module("out", std::make_shared<Conv2d>(cur, out_channels, 3, rng, 1, 1));
}

Var UNet::operator()(Var x, Var t, std::optional<Var> key) const {
  const UNetConfig& c = cfg_;
  FX_CHECK(x.rank() == 4 && x.dim(1) == c.in_channels && x.dim(2) == c.image_size &&
               x.dim(3) == c.image_size,
           "U-Net: images {} do not match the model's [N, {}, {}, {}]", shape_str(x.shape()),
           c.in_channels, c.image_size, c.image_size);
  FX_CHECK(t.rank() == 1 && t.dim(0) == x.dim(0), "U-Net: timesteps {} must be [{}]",
           shape_str(t.shape()), x.dim(0));
  Var temb = (*temb1_)(silu((*temb0_)(sinusoidal_embedding(t, c.base_channels))));
  int64_t block_id = 0;
  // Each ResBlock draws its dropout mask from its own Philox stream.
  auto block_key = [&]() -> std::optional<Var> {
    if (!key || c.dropout <= 0) return std::nullopt;
    int64_t k = ++block_id;
    return *key +
           key->graph->constant(Tensor::from({0.0, std::ldexp((double)k, 48)}, {2}, DType::i64));
  };
  Var h = (*stem_)(x);
  std::vector<Var> skips;
  for (const Stage& s : down_) {
    for (size_t b = 0; b < s.blocks.size(); ++b) {
      h = (*s.blocks[b])(h, temb, block_key());
      if (s.attn[b]) h = (*s.attn[b])(h);
      skips.push_back(h);
    }
    if (s.resample) h = (*s.resample)(h);
  }
  h = (*mid_)(h, temb, block_key());
  for (const Stage& s : up_) {
    for (size_t b = 0; b < s.blocks.size(); ++b) {
      h = (*s.blocks[b])(concat({h, skips.back()}, 1), temb, block_key());
      skips.pop_back();
    }
    if (s.resample) h = (*s.resample)(upsample_nearest(h, 2));
  }
  return (*out_)(silu((*out_norm_)(h)));
}

}  // namespace fx::nn
