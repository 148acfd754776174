// DCGAN-style networks for 28×28 grey images (Radford et al. 2016, as the MonoFlow code's
// MNIST model with ngf = ndf = 32), with GroupNorm where DCGAN has BatchNorm (no batch
// statistics to carry between training and sampling):
//   generator      z [N, zdim] → Linear → [N, 4ngf, 7, 7] → GN, ReLU
//                  → ConvT 4×4/2 → [N, 2ngf, 14, 14] → GN, ReLU → ConvT 4×4/2 → [N, 1, 28, 28] →
//                  tanh
//   discriminator  [N, 1, 28, 28] → Conv 4×4/2 → [N, ndf, 14, 14] → LeakyReLU(0.2)
//                  → Conv 4×4/2 → [N, 2ndf, 7, 7] → GN, LeakyReLU(0.2) → Linear → [N, 1] (logit)
// ConvTranspose2d is conv2d_backward_data (the transpose of conv2d, with its own gradient) with
// a weight laid out as torch.nn.ConvTranspose2d's [in, out, k, k].
#pragma once
#include <memory>

#include "fluxion/nn/conv.h"
#include "fluxion/nn/layers.h"
#include "fluxion/nn/net.h"

namespace fx::nn {

class ConvTranspose2d : public Module {
 public:
  // PyTorch's default init: U(±1/sqrt(fan_in)), fan_in = out·k·k (its weight's dim 1 onwards).
  ConvTranspose2d(int64_t in, int64_t out, int64_t kernel, InitRng& rng, int64_t stride = 1,
                  int64_t padding = 0);
  // [N, in, H, W] -> [N, out, (H−1)·stride − 2·padding + kernel, (same for W)]
  Var operator()(Var x) const;

 private:
  int64_t in_, out_, kernel_;
  ConvParams p_;
  Parameter* weight_;
  Parameter* bias_;
};

Var leaky_relu(Var x, double slope = 0.2);

class DcganGenerator : public Net {
 public:
  DcganGenerator(int64_t zdim, int64_t ngf, InitRng& rng);
  Var operator()(Var z) const override;  // [N, zdim] -> [N, 1, 28, 28] in (−1, 1)

 private:
  int64_t zdim_, ngf_;
  std::shared_ptr<Linear> fc_;
  std::shared_ptr<GroupNorm> n0_, n1_;
  std::shared_ptr<ConvTranspose2d> up1_, up2_;
};

class DcganDiscriminator : public Net {
 public:
  DcganDiscriminator(int64_t ndf, InitRng& rng);
  Var operator()(Var x) const override;  // [N, 1, 28, 28] -> [N, 1]

 private:
  int64_t ndf_;
  std::shared_ptr<Conv2d> c1_, c2_;
  std::shared_ptr<GroupNorm> n2_;
  std::shared_ptr<Linear> fc_;
};

}  // namespace fx::nn
