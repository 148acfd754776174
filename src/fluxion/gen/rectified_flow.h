// Rectified flow (Liu, Gong & Liu, "Flow Straight and Fast", ICLR 2023):
//   x_t = t·x1 + (1−t)·x0,  loss E‖(x1 − x0) − v(x_t, t)‖²,  sample by dx/dt = v(x, t).
// Reflow trains a new flow on pairs (x0, ODE(x0)) of the previous one, which straightens
// the paths so that few (even one) Euler steps sample well; distillation trains a
// one-step map on the same pairs with t fixed at 0.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "fluxion/amp/precision_policy.h"
#include "fluxion/exec/interpreter.h"
#include "fluxion/nn/layers.h"
#include "fluxion/runtime/executor.h"
#include "fluxion/solvers/ode.h"

namespace fx::gen {

struct VelocityConfig {
  int64_t dim = 2;
  int64_t hidden = 256;
  int64_t layers = 3;  // hidden layers
  std::string activation = "silu";
};

// v(x, t) = MLP([x, t]) — the architecture of the PyTorch rectified-flow reference the benchmarks
// compare with.
class VelocityMLP : public nn::Module {
 public:
  VelocityMLP(const VelocityConfig& cfg, nn::InitRng& rng);
  Var operator()(Var x, Var t) const;  // x [N, D], t [N, 1]
  const VelocityConfig& config() const { return cfg_; }

 private:
  VelocityConfig cfg_;
  std::shared_ptr<nn::MLP> net_;
};

// Loss for one batch of pairs; t ~ U(0,1) drawn in the graph from `key`, or t = 0 for
// one-step distillation.
Var rectified_flow_loss(const VelocityMLP& v, Var x0, Var x1, Var key, bool distill = false);

// Evaluates the current weights of a model on batches of a fixed size (the graph is
// traced once; weights are fed at each call so training can continue in between).
class VelocityEvaluator {
 public:
  VelocityEvaluator(VelocityMLP& model, int64_t batch, const amp::PrecisionPolicy& precision = {},
                    bool compile = false);
  Tensor operator()(const Tensor& x, double t);
  solvers::VelocityFn fn();

 private:
  VelocityMLP& model_;
  int64_t batch_;
  Graph graph_;
  runtime::Executor exec_;  // graph_, after the precision pass
};

// Integrates x0 from t = 0 to 1 in chunks of the evaluator's batch size; `compile` runs the
// network compiled (bit-identical; a one-off compile, then the disk cache).
solvers::OdeResult sample_flow(VelocityMLP& model, const Tensor& x0,
                               const solvers::OdeOptions& opts, int64_t chunk = 4096,
                               const amp::PrecisionPolicy& precision = {}, bool compile = false);

// Straightness S = E_k E‖(x_1 − x_0) − v(x_{t_k}, t_k)‖² along the model's own Euler
// trajectory with `steps` steps (0 for perfectly straight paths).
double straightness(VelocityMLP& model, const Tensor& x0, int steps = 100);

}  // namespace fx::gen
