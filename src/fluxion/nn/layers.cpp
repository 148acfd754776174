#include "fluxion/nn/layers.h"

#include <cmath>

#include "fluxion/core/error.h"

namespace fx::nn {

Linear::Linear(int64_t in, int64_t out, InitRng& rng, bool bias) {
  double bound = 1.0 / std::sqrt((double)in);
  weight_ = &register_parameter("weight", rng.uniform({out, in}, -bound, bound));
  if (bias) bias_ = &register_parameter("bias", rng.uniform({out}, -bound, bound));
}

Var Linear::operator()(Var x) const {
  FX_CHECK(x.dim(-1) == weight_->value.dim(1), "Linear: input {} has {} features, layer expects {}",
           shape_str(x.shape()), x.dim(-1), weight_->value.dim(1));
  Var y = dot(x, weight_->var, false, true);
  return bias_ ? y + bias_->var : y;
}

Activation activation_by_name(const std::string& name) {
  if (name == "silu") return [](Var x) { return silu(x); };
  if (name == "relu") return [](Var x) { return relu(x); };
  if (name == "gelu") return [](Var x) { return gelu(x); };
  if (name == "tanh") return [](Var x) { return tanh(x); };
  fail("unknown activation '{}' (expected silu, relu, gelu or tanh)", name);
}

MLP::MLP(int64_t in, const std::vector<int64_t>& hidden, int64_t out, InitRng& rng,
         const std::string& activation)
    : act_(activation_by_name(activation)) {
  int64_t prev = in;
  std::vector<int64_t> widths = hidden;
  widths.push_back(out);
  for (size_t i = 0; i < widths.size(); ++i) {
    layers_.push_back(
        register_module(std::to_string(i), std::make_shared<Linear>(prev, widths[i], rng)));
    prev = widths[i];
  }
}

Var MLP::operator()(Var x) const {
  for (size_t i = 0; i < layers_.size(); ++i) {
    x = (*layers_[i])(x);
    if (i + 1 < layers_.size()) x = act_(x);
  }
  return x;
}

Var sinusoidal_embedding(Var t, int64_t dim, double scale, double max_period) {
  FX_CHECK(dim % 2 == 0 && dim > 0, "sinusoidal_embedding: dim {} must be even", dim);
  if (t.rank() == 1) t = reshape(t, {t.dim(0), 1});
  int64_t half = dim / 2;
  std::vector<double> f(half);
  for (int64_t k = 0; k < half; ++k) f[k] = scale * std::exp(-std::log(max_period) * k / half);
  Var freqs = t.graph->constant(Tensor::from(f, {1, half}, t.dtype()));
  Var arg = t * freqs;
  return concat({sin(arg), cos(arg)}, -1);
}

FourierFeatures::FourierFeatures(int64_t in, int64_t half_dim, double std, InitRng& rng) {
  freqs_ = &register_parameter("freqs", rng.normal({in, half_dim}, 0.0, std), false);
}

Var FourierFeatures::operator()(Var x) const {
  Var arg = dot(x, freqs_->var) * (2.0 * M_PI);
  return concat({sin(arg), cos(arg)}, -1);
}

}  // namespace fx::nn
