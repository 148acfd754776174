#include "fluxion/nn/module.h"

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::nn {

std::vector<std::pair<std::string, Parameter*>> Module::named_parameters(
    const std::string& prefix) {
  std::vector<std::pair<std::string, Parameter*>> out;
  std::string p = prefix.empty() ? "" : prefix + ".";
  for (auto& [name, param] : params_) out.emplace_back(p + name, param.get());
  for (auto& [name, child] : children_) {
    auto sub = child->named_parameters(p + name);
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

void Module::bind(Graph& g) {
  for (auto& [name, p] : named_parameters())
    p->var = g.input(name, p->value.shape(), p->value.dtype());
}

int64_t Module::parameter_count() {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters())
    if (p->trainable) n += p->value.numel();
  return n;
}

Parameter& Module::register_parameter(const std::string& name, Tensor init, bool trainable) {
  for (auto& [n, p] : params_) FX_CHECK(n != name, "parameter '{}' registered twice", name);
  params_.emplace_back(name,
                       std::make_unique<Parameter>(Parameter{std::move(init), Var{}, trainable}));
  return *params_.back().second;
}

Tensor InitRng::uniform(Shape shape, double lo, double hi) {
  Tensor t(std::move(shape), DType::f32);
  philox_uniform(seed_, (stream_++) << 40, t.data<float>(), t.numel());
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = (float)(lo + (hi - lo) * p[i]);
  return t;
}

Tensor InitRng::normal(Shape shape, double mean, double std) {
  Tensor t(std::move(shape), DType::f32);
  philox_normal(seed_, (stream_++) << 40, t.data<float>(), t.numel());
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = (float)(mean + std * p[i]);
  return t;
}

}  // namespace fx::nn
