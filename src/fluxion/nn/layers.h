// Basic layers. Linear stores its weight as [out, in] like torch.nn.Linear, so
// checkpoints load into PyTorch unchanged; the product uses dot's transpose flag.
#pragma once
#include <functional>

#include "fluxion/api/fx.h"
#include "fluxion/nn/module.h"
#include "fluxion/nn/net.h"

namespace fx::nn {

class Linear : public Module {
 public:
  // PyTorch's default init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
  Linear(int64_t in, int64_t out, InitRng& rng, bool bias = true);
  Var operator()(Var x) const;
  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }

 private:
  Parameter* weight_;
  Parameter* bias_ = nullptr;
};

using Activation = std::function<Var(Var)>;
Activation activation_by_name(const std::string& name);  // silu, relu, gelu, tanh

// Linear layers with an activation between them (none after the last).
class MLP : public Net {
 public:
  MLP(int64_t in, const std::vector<int64_t>& hidden, int64_t out, InitRng& rng,
      const std::string& activation = "silu");
  Var operator()(Var x) const override;

 private:
  std::vector<std::shared_ptr<Linear>> layers_;
  Activation act_;
};

// Transformer-style sinusoidal embedding of a scalar per row: t [N] or [N,1] -> [N, dim],
// [sin(t·f_k), cos(t·f_k)], f_k = max_period^(-k/(dim/2)). `scale` multiplies t first
// (e.g. 1000 for t in [0,1], as DDPM/RF codes do).
Var sinusoidal_embedding(Var t, int64_t dim, double scale = 1.0, double max_period = 10000.0);

// Random Fourier features [sin(2π t B), cos(2π t B)] with fixed Gaussian B (a buffer).
class FourierFeatures : public Module {
 public:
  FourierFeatures(int64_t in, int64_t half_dim, double std, InitRng& rng);
  Var operator()(Var x) const;

 private:
  Parameter* freqs_;
};

}  // namespace fx::nn
