// The DDPM U-Net (Ho et al. 2020), scaled down and configurable; the default config is the
// architecture of the PyTorch reference U-Net the benchmarks compare with (711,329
// parameters at 1 channel): base 32,
// multipliers 1,2,2 (32@28, 64@14, 64@7), one ResBlock per level, GroupNorm(8), SiLU,
// sinusoidal time embedding (dim base -> MLP 4·base) injected into every ResBlock,
// single-head self-attention after the encoder blocks at the attention resolutions,
// a middle ResBlock, a decoder that mirrors the encoder with skip concatenation and
// nearest up-sampling + 3x3 conv, and GroupNorm-SiLU-conv out.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "fluxion/nn/conv.h"
#include "fluxion/nn/layers.h"

namespace fx::nn {

struct UNetConfig {
  int64_t image_size = 28;
  int64_t in_channels = 1;
  int64_t out_channels = 0;  // 0: in_channels (PFGM adds one for the field's z component)
  int64_t base_channels = 32;
  std::vector<int64_t> channel_mult = {1, 2, 2};
  int64_t res_blocks = 1;  // per level
  std::vector<int64_t> attn_resolutions = {7};
  int64_t attn_heads = 1;
  int64_t norm_groups = 8;
  double dropout = 0.0;  // inside each ResBlock (needs a key when > 0)
};

// Throws fx::Error naming the field when the resolutions or channel counts do not divide.
void validate(const UNetConfig& cfg);

class ResBlock : public Module {
 public:
  ResBlock(int64_t in, int64_t out, int64_t temb_dim, int64_t groups, double dropout, InitRng& rng);
  // x [N, in, H, W], temb [N, temb_dim]; key (i64[2]) only used when dropout > 0.
  Var operator()(Var x, Var temb, std::optional<Var> key) const;

 private:
  double dropout_;
  std::shared_ptr<GroupNorm> n1_, n2_;
  std::shared_ptr<Conv2d> c1_, c2_, skip_;
  std::shared_ptr<Linear> t_;
};

class AttentionBlock : public Module {
 public:
  AttentionBlock(int64_t channels, int64_t heads, int64_t groups, InitRng& rng);
  Var operator()(Var x) const;  // x + proj(attention(qkv(norm(x))))

 private:
  int64_t heads_;
  std::shared_ptr<GroupNorm> norm_;
  std::shared_ptr<Conv2d> qkv_, proj_;
};

class UNet : public Module {
 public:
  UNet(const UNetConfig& cfg, InitRng& rng);
  // x [N, C, S, S], t [N] (timestep as a float, 0..T-1) -> [N, C_out, S, S]. `key` feeds
  // dropout when the config has it and the caller is training; nullopt disables it.
  Var operator()(Var x, Var t, std::optional<Var> key = std::nullopt) const;
  const UNetConfig& config() const { return cfg_; }

 private:
  struct Stage {
    std::vector<std::shared_ptr<ResBlock>> blocks;
    std::vector<std::shared_ptr<AttentionBlock>> attn;  // per block; null when none
    std::shared_ptr<Conv2d> resample;                   // down (encoder) / up (decoder)
  };
  UNetConfig cfg_;
  std::shared_ptr<Linear> temb0_, temb1_;
  std::shared_ptr<Conv2d> stem_, out_;
  std::vector<Stage> down_, up_;
  std::shared_ptr<ResBlock> mid_;
  std::shared_ptr<GroupNorm> out_norm_;
};

}  // namespace fx::nn
