#include "fluxion/optim/optimizer.h"

#include <cmath>

#include "fluxion/core/error.h"

namespace fx::optim {

namespace {

// torch.optim.SGD: buf = momentum*buf + g (buf = g on the first step, which a zero
// initial buffer reproduces since dampening is 0); p -= lr * (nesterov ? g + m*buf : buf).
class SGD final : public Optimizer {
 public:
  explicit SGD(SGDOptions o) : o_(o) {}
  std::string name() const override { return "sgd"; }
  std::vector<std::string> slot_names() const override {
    if (o_.momentum == 0.0) return {};
    return {"momentum_buffer"};
  }
  Var update(Var p, Var g, std::vector<Var>& slots, const StepScalars& s) const override {
    const double wd = o_.weight_decay * s.weight_decay_scale;
    if (wd != 0.0) g = g + p * wd;
    Var step = g;
    if (o_.momentum != 0.0) {
      Var buf = slots[0] * o_.momentum + g;
      slots[0] = buf;
      step = o_.nesterov ? g + buf * o_.momentum : buf;
    }
    return p - step * s.lr;
  }

 private:
  SGDOptions o_;
};

// torch.optim.Adam / AdamW, same order of operations so results agree step by step:
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²
//   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
class Adam final : public Optimizer {
 public:
  explicit Adam(AdamOptions o) : o_(o) {}
  std::string name() const override { return o_.decoupled ? "adamw" : "adam"; }
  std::vector<std::string> slot_names() const override { return {"exp_avg", "exp_avg_sq"}; }
  Var update(Var p, Var g, std::vector<Var>& slots, const StepScalars& s) const override {
    const double wd = o_.weight_decay * s.weight_decay_scale;
    if (wd != 0.0) {
      if (o_.decoupled)
        p = p * (1.0 - s.lr * wd);
      else
        g = g + p * wd;
    }
    Var m = slots[0] * o_.beta1 + g * (1.0 - o_.beta1);
    Var v = slots[1] * o_.beta2 + g * g * (1.0 - o_.beta2);
    slots[0] = m;
    slots[1] = v;
    Var denom = sqrt(v) / s.sqrt_bias_correction2 + o_.eps;
    return p - (s.lr / s.bias_correction1) * (m / denom);
  }
  void scalars_for_step(int64_t t, double* bc1, double* sqrt_bc2) const override {
    *bc1 = 1.0 - std::pow(o_.beta1, (double)t);
    *sqrt_bc2 = std::sqrt(1.0 - std::pow(o_.beta2, (double)t));
  }

 private:
  AdamOptions o_;
};

}  // namespace

std::unique_ptr<Optimizer> sgd(SGDOptions o) { return std::make_unique<SGD>(o); }
std::unique_ptr<Optimizer> adam(AdamOptions o) { return std::make_unique<Adam>(o); }
std::unique_ptr<Optimizer> adamw(AdamOptions o) {
  o.decoupled = true;
  return std::make_unique<Adam>(o);
}

bool matches(const ParamGroup& g, const std::string& name) {
  for (const std::string& p : g.patterns) {
    if (p.empty()) continue;
    if (name == p) return true;
    if (name.size() > p.size() && name.compare(0, p.size(), p) == 0 && name[p.size()] == '.')
      return true;
    if (name.size() > p.size() && name.compare(name.size() - p.size(), p.size(), p) == 0 &&
        name[name.size() - p.size() - 1] == '.')
      return true;
  }
  return false;
}

const ParamGroup* group_of(const std::vector<ParamGroup>& groups, const std::string& name) {
  for (const ParamGroup& g : groups)
    if (matches(g, name)) return &g;
  return nullptr;
}

Var clip_by_global_norm(std::vector<Var>& grads, double max_norm) {
  FX_CHECK(!grads.empty(), "clip_by_global_norm: no gradients");
  FX_CHECK(max_norm > 0, "clip_by_global_norm: max_norm must be positive, got {}", max_norm);
  Var total;
  for (const Var& g : grads) {
    Var s = sum(g * g);
    total = total.valid() ? total + s : s;
  }
  Var norm = sqrt(total);
  Var coef = minimum(scalar_like(norm, max_norm) / (norm + 1e-6), scalar_like(norm, 1.0));
  for (Var& g : grads) g = g * coef;
  return norm;
}

}  // namespace fx::optim
