// Image layers: Conv2d (weight [out, in/groups, k, k] as torch.nn.Conv2d) and GroupNorm.
#pragma once
#include "fluxion/api/fx.h"
#include "fluxion/nn/module.h"

namespace fx::nn {

class Conv2d : public Module {
 public:
  // PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in/groups·k·k.
  Conv2d(int64_t in, int64_t out, int64_t kernel, InitRng& rng, int64_t stride = 1,
         int64_t padding = 0, int64_t groups = 1, bool bias = true);
  Var operator()(Var x) const;  // [N, in, H, W] -> [N, out, H', W']
  int64_t in_channels() const { return in_; }
  int64_t out_channels() const { return out_; }

 private:
  int64_t in_, out_;
  ConvParams p_;
  Parameter* weight_;
  Parameter* bias_ = nullptr;
};

class GroupNorm : public Module {
 public:
  GroupNorm(int64_t groups, int64_t channels, double eps = 1e-5);  // weight 1, bias 0
  Var operator()(Var x) const;

 private:
  int64_t groups_, channels_;
  double eps_;
  Parameter* weight_;
  Parameter* bias_;
};

}  // namespace fx::nn
