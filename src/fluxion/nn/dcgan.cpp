#include "fluxion/nn/dcgan.h"

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.h"

namespace fx::nn {

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t kernel, InitRng& rng,
                                 int64_t stride, int64_t padding)
    : in_(in), out_(out), kernel_(kernel) {
  FX_CHECK(in > 0 && out > 0 && kernel > 0 && stride > 0 && padding >= 0,
           "ConvTranspose2d: bad configuration in={} out={} kernel={} stride={} padding={}", in,
           out, kernel, stride, padding);
  p_.stride = {stride, stride};
  p_.padding = {padding, padding};
  double bound = 1.0 / std::sqrt(double(out * kernel * kernel));
  weight_ = &register_parameter("weight", rng.uniform({in, out, kernel, kernel}, -bound, bound));
  bias_ = &register_parameter("bias", rng.uniform({out}, -bound, bound));
}

Var ConvTranspose2d::operator()(Var x) const {
  FX_CHECK(x.rank() == 4 && x.dim(1) == in_, "ConvTranspose2d: input {} must be [N, {}, H, W]",
           shape_str(x.shape()), in_);
  auto size = [&](int64_t h, int i) {
    return (h - 1) * p_.stride[i] - 2 * p_.padding[i] + kernel_;
  };
  Shape out{x.dim(0), out_, size(x.dim(2), 0), size(x.dim(3), 1)};
  // conv2d's weight [O, C, k, k] maps C → O channels; its transpose maps O → C, so the
  // transposed layer's [in, out, k, k] weight is conv2d's weight for out → in.
  Var y = conv2d_backward_data(x, weight_->var, out, p_);
  return y + reshape(bias_->var, {1, out_, 1, 1});
}

Var leaky_relu(Var x, double slope) { return relu(x) - relu(-x) * slope; }

namespace {
int64_t groups_for(int64_t channels) { return std::min<int64_t>(8, channels); }
}  // namespace

DcganGenerator::DcganGenerator(int64_t zdim, int64_t ngf, InitRng& rng) : zdim_(zdim), ngf_(ngf) {
  FX_CHECK(zdim > 0 && ngf > 0 && ngf % 8 == 0,
           "DCGAN generator: z-dim {} must be positive and ngf {} a positive multiple of 8", zdim,
           ngf);
  fc_ = register_module("fc", std::make_shared<Linear>(zdim, 4 * ngf * 49, rng));
  n0_ = register_module("norm0", std::make_shared<GroupNorm>(groups_for(4 * ngf), 4 * ngf));
  up1_ = register_module("up1", std::make_shared<ConvTranspose2d>(4 * ngf, 2 * ngf, 4, rng, 2, 1));
  n1_ = register_module("norm1", std::make_shared<GroupNorm>(groups_for(2 * ngf), 2 * ngf));
  up2_ = register_module("up2", std::make_shared<ConvTranspose2d>(2 * ngf, 1, 4, rng, 2, 1));
}

Var DcganGenerator::operator()(Var z) const {
  FX_CHECK(z.rank() == 2 && z.dim(1) == zdim_, "DCGAN generator: z {} must be [N, {}]",
           shape_str(z.shape()), zdim_);
  Var h = reshape((*fc_)(z), {z.dim(0), 4 * ngf_, 7, 7});
  h = relu((*n0_)(h));
  h = relu((*n1_)((*up1_)(h)));
  return tanh((*up2_)(h));
}

DcganDiscriminator::DcganDiscriminator(int64_t ndf, InitRng& rng) : ndf_(ndf) {
  FX_CHECK(ndf > 0 && ndf % 8 == 0, "DCGAN discriminator: ndf {} must be a positive multiple of 8",
           ndf);
  c1_ = register_module("conv1", std::make_shared<Conv2d>(1, ndf, 4, rng, 2, 1));
  c2_ = register_module("conv2", std::make_shared<Conv2d>(ndf, 2 * ndf, 4, rng, 2, 1));
  n2_ = register_module("norm2", std::make_shared<GroupNorm>(groups_for(2 * ndf), 2 * ndf));
  fc_ = register_module("fc", std::make_shared<Linear>(2 * ndf * 49, 1, rng));
}

Var DcganDiscriminator::operator()(Var x) const {
  FX_CHECK(x.rank() == 4 && x.dim(1) == 1 && x.dim(2) == 28 && x.dim(3) == 28,
           "DCGAN discriminator: images {} must be [N, 1, 28, 28]", shape_str(x.shape()));
  Var h = leaky_relu((*c1_)(x));
  h = leaky_relu((*n2_)((*c2_)(h)));
  return (*fc_)(reshape(h, {x.dim(0), 2 * ndf_ * 49}));
}

}  // namespace fx::nn
