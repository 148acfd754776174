// Optimizers as graph functions: the update of every parameter is ordinary ops, so the
// whole step (forward, backward, update) is one graph the compiler can fuse. Values that
// change every step (learning rate, bias corrections) are scalar graph inputs, never
// baked constants, so a schedule never forces a retrace (as ggml's adamw_params).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "fluxion/api/fx.h"

namespace fx::optim {

// Per-step scalar inputs, fed by the trainer under these names.
struct StepScalars {
  Var lr;                           // already multiplied by the parameter group's lr_scale
  Var bias_correction1;             // 1 - beta1^t (Adam)
  Var sqrt_bias_correction2;        // sqrt(1 - beta2^t) (Adam)
  double weight_decay_scale = 1.0;  // the parameter group's factor on weight decay (0: none)
};

// Per-parameter hyperparameters, as torch.optim's parameter groups: the LRU paper, for one,
// trains its recurrence (nu, theta, gamma) with half the learning rate and no weight decay.
// A pattern matches a parameter name exactly, as a leading module path ("blocks.0") or as
// a trailing component path ("nu_log" matches "blocks.0.lru.nu_log").
struct ParamGroup {
  std::vector<std::string> patterns;
  double lr_scale = 1.0;
  double weight_decay_scale = 1.0;
};
bool matches(const ParamGroup& g, const std::string& param_name);
// The first group that matches, or nullptr (the optimizer's own settings).
const ParamGroup* group_of(const std::vector<ParamGroup>& groups, const std::string& param_name);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  // Names of the per-parameter state tensors, each shaped like the parameter, zero-init.
  virtual std::vector<std::string> slot_names() const = 0;
  // Appends the update of one parameter. `slots` holds the current state and receives
  // the new state; returns the new parameter value.
  virtual Var update(Var param, Var grad, std::vector<Var>& slots, const StepScalars& s) const = 0;
  // Host-side values of the step scalars for step t (1-based).
  virtual void scalars_for_step(int64_t t, double* bc1, double* sqrt_bc2) const {
    *bc1 = 1.0;
    *sqrt_bc2 = 1.0;
  }
};

struct SGDOptions {
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};
std::unique_ptr<Optimizer> sgd(SGDOptions o = {});

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;  // true: AdamW (decay applied to the weights, not the gradient)
};
std::unique_ptr<Optimizer> adam(AdamOptions o = {});
std::unique_ptr<Optimizer> adamw(AdamOptions o = {.weight_decay = 0.01, .decoupled = true});

// Scales all gradients by min(1, max_norm / (global_norm + 1e-6)), as
// torch.nn.utils.clip_grad_norm_. Returns the global norm (before clipping).
Var clip_by_global_norm(std::vector<Var>& grads, double max_norm);

}  // namespace fx::optim
