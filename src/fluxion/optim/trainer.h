// A training step traced once into one graph (forward, grad, optional clipping, the
// optimizer update and EMA), then run for every batch without retracing. The loop
// around it stays readable:
//   Trainer tr(model, optim::adam(), loss_fn, {{"x", {B, 2}}}, opts);
//   for (...) tr.step({{"x", batch}});
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/dist/communicator.h"
#include "fluxion/exec/interpreter.h"
#include "fluxion/nn/module.h"
#include "fluxion/optim/optimizer.h"
#include "fluxion/optim/schedule.h"
#include "fluxion/runtime/executor.h"

namespace fx::compiler {
class Executable;
}

namespace fx::optim {

struct BatchInput {
  std::string name;
  Shape shape;
  DType dtype = DType::f32;
};

// Builds the scalar loss from the batch inputs. The model's parameters are already bound;
// `rng` is an i64[2] key that changes every step (split it with fold_in for several draws).
using LossFn =
    std::function<Var(Graph& g, const std::unordered_map<std::string, Var>& batch, Var rng)>;

// key + (0, k << 32): an independent Philox stream for the k-th random draw of a step.
Var fold_in(Var key, int64_t k);

struct TrainerOptions {
  Schedule schedule;
  double max_grad_norm = 0.0;      // > 0: clip by global norm
  double ema_decay = 0.0;          // > 0: keep an EMA of the weights
  uint64_t seed = 0;               // for the per-step rng key
  amp::PrecisionPolicy precision;  // bf16/f16 products, f32 master weights (amp/)
  amp::LossScaling loss_scaling;   // scale the loss, skip steps whose gradients overflow
  bool compile = false;            // run the step compiled (fused kernels) instead of interpreted
  bool recompute_scans = false;    // compiled: checkpoint linear scans (CompileOptions)
  std::vector<ParamGroup> param_groups;  // per-parameter lr / weight-decay factors
  // Data-parallel over comm's ranks when set (train::TrainConfig sets dist::world() when it
  // has several ranks): each rank runs its rows of every global batch (batch inputs are
  // declared and fed with the global row count), the gradients are averaged with one
  // allreduce of a flat buffer, then every rank applies the same update.
  dist::Communicator* comm = nullptr;
};

// Where a data-parallel step's time goes, summed over steps.
struct DataParallelStats {
  int64_t steps = 0;
  int64_t floats_per_step = 0;  // the allreduced buffer: gradients, loss, overflow count
  // Time in the allreduce over the steps after the first few (which set up connections).
  double allreduce_seconds = 0;
  int64_t timed_steps = 0;
};

class Trainer {
 public:
  Trainer(nn::Module& model, std::unique_ptr<Optimizer> opt, LossFn loss,
          std::vector<BatchInput> batch, TrainerOptions options);

  // Runs one step; returns the loss. A NaN/Inf loss throws fx::Error naming the step and
  // leaves the parameters and state as they were.
  double step(const Feeds& batch);

  int64_t steps_done() const { return step_; }
  void set_steps_done(int64_t s) { step_ = s; }
  const Graph& graph() const { return graph_; }
  // The step's outputs in graph(): loss, grad norm, finiteness, new parameters and slots.
  const std::vector<Var>& step_outputs() const { return outputs_; }
  size_t peak_bytes() const;
  // The compiled step (null unless options.compile), for its statistics.
  const compiler::Executable* executable() const { return exec_.executable(); }
  // Optimizer state and EMA weights, keyed "<slot>/<param name>" and "ema/<param name>",
  // ready for a checkpoint; set_state() restores them (shape-checked).
  std::map<std::string, Tensor> state() const;
  void set_state(const std::map<std::string, Tensor>& state);
  // EMA weights by parameter name (empty when ema_decay == 0).
  std::map<std::string, Tensor> ema_weights() const;
  double last_grad_norm() const { return last_grad_norm_; }
  // Loss scaling: the current scale, steps skipped for Inf/NaN gradients, and whether the last
  // step was one of them.
  const amp::LossScaler& loss_scaler() const { return scaler_; }
  bool last_step_skipped() const { return last_skipped_; }
  // What the precision pass decided for each product ("" in fp32).
  const std::string& precision_report() const { return exec_.precision_report(); }
  bool data_parallel() const { return options_.comm != nullptr; }
  const DataParallelStats& data_parallel_stats() const { return dp_stats_; }

 private:
  struct Slot {
    std::string name;  // "<slot>/<param>"
    Tensor value;
  };
  struct TracedUpdate {
    Var norm;
    std::vector<Var> outputs;  // new params..., new slots... (slots_ in order)
  };
  // The optimizer update (clipping, per-group scalars, EMA, the overflow guard) traced into
  // g, which is graph_ for a fused step or update_graph_ for a data-parallel one.
  TracedUpdate trace_update(Graph& g, const std::vector<Var>& params, std::vector<Var> grads,
                            Var keep, bool guard);
  double step_data_parallel(Feeds& feeds, int64_t t);
  nn::Module& model_;
  std::unique_ptr<Optimizer> opt_;
  TrainerOptions options_;
  Graph graph_;
  std::vector<std::pair<std::string, nn::Parameter*>> trainable_;
  std::vector<std::pair<std::string, nn::Parameter*>> all_params_;
  std::vector<Slot> slots_;
  std::vector<Var> outputs_;  // loss, grad_norm, grads_finite, new params..., new slots...
  runtime::Executor exec_;    // graph_, after the precision pass, interpreted or compiled
  // Data-parallel: graph_ ends at the gradients (outputs loss, overflow count, grads...) and
  // update_graph_ applies the averaged ones.
  Graph update_graph_;
  runtime::Executor update_exec_;
  int64_t local_rows_ = 0;  // this rank's rows of each batch input
  std::vector<std::string> batch_names_;
  DataParallelStats dp_stats_;
  amp::LossScaler scaler_;
  int64_t step_ = 0;
  double last_grad_norm_ = 0.0;
  bool last_skipped_ = false;
};

}  // namespace fx::optim
