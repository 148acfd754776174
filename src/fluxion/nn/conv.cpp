#include "fluxion/nn/conv.h"

#include <cmath>

#include "fluxion/core/error.h"

namespace fx::nn {

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, InitRng& rng, int64_t stride,
               int64_t padding, int64_t groups, bool bias)
    : in_(in), out_(out) {
  FX_CHECK(in > 0 && out > 0 && kernel > 0 && groups > 0 && in % groups == 0 && out % groups == 0,
           "Conv2d: bad configuration in={} out={} kernel={} groups={}", in, out, kernel, groups);
  p_.stride = {stride, stride};
  p_.padding = {padding, padding};
  p_.groups = groups;
  double bound = 1.0 / std::sqrt(double(in / groups * kernel * kernel));
  weight_ =
      &register_parameter("weight", rng.uniform({out, in / groups, kernel, kernel}, -bound, bound));
  if (bias) bias_ = &register_parameter("bias", rng.uniform({out}, -bound, bound));
}

Var Conv2d::operator()(Var x) const {
  FX_CHECK(x.rank() == 4 && x.dim(1) == in_, "Conv2d: input {} must be [N, {}, H, W]",
           shape_str(x.shape()), in_);
  Var y = conv2d(x, weight_->var, p_);
  return bias_ ? y + reshape(bias_->var, {1, out_, 1, 1}) : y;
}

GroupNorm::GroupNorm(int64_t groups, int64_t channels, double eps)
    : groups_(groups), channels_(channels), eps_(eps) {
  FX_CHECK(groups > 0 && channels % groups == 0,
           "GroupNorm: {} channels do not divide into {} groups", channels, groups);
  weight_ = &register_parameter("weight", Tensor::full({channels}, 1.0));
  bias_ = &register_parameter("bias", Tensor::zeros({channels}));
}

Var GroupNorm::operator()(Var x) const {
  return group_norm(x, groups_, weight_->var, bias_->var, eps_);
}

}  // namespace fx::nn
