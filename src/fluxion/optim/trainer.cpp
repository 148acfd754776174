#include "fluxion/optim/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

#include "fluxion/api/fx.h"
#include "fluxion/api/row_shard.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/core/error.h"

namespace fx::optim {

Var fold_in(Var key, int64_t k) {
  return key + key.graph->constant(Tensor::from({0.0, (double)(k << 32)}, {2}, DType::i64));
}

namespace {

// Rows [start, start + rows) of x (contiguous, row-major): one rank's part of a global batch.
Tensor row_slice(const Tensor& x, int64_t start, int64_t rows) {
  Shape s = x.shape();
  const size_t row_bytes = x.nbytes() / (size_t)s[0];
  s[0] = rows;
  Tensor out(s, x.dtype());
  std::memcpy(out.raw(), static_cast<const char*>(x.raw()) + row_bytes * start, row_bytes * rows);
  return out;
}

}  // namespace

Trainer::Trainer(nn::Module& model, std::unique_ptr<Optimizer> opt, LossFn loss_fn,
                 std::vector<BatchInput> batch, TrainerOptions options)
    : model_(model), opt_(std::move(opt)), options_(options), scaler_(options.loss_scaling) {
  model_.bind(graph_);
  all_params_ = model_.named_parameters();
  for (auto& np : all_params_)
    if (np.second->trainable) trainable_.push_back(np);
  FX_CHECK(!trainable_.empty(), "Trainer: the model has no trainable parameters");

  // Data-parallel: every batch input is declared with its global rows; this rank traces its
  // share, and its random draws over the batch are its rows of the global draws.
  dist::Communicator* comm = options_.comm;
  const int ranks = comm ? comm->size() : 1;
  std::unordered_map<std::string, Var> batch_vars;
  int64_t global_rows = 0;
  for (BatchInput b : batch) {
    batch_names_.push_back(b.name);
    if (comm) {
      FX_CHECK(!b.shape.empty(), "data-parallel training: batch input '{}' is a scalar", b.name);
      if (b.shape[0] % ranks != 0)
        dist::fail_all(
            "data-parallel training: the batch ('{}' has {} rows) is not divisible by the {} "
            "ranks (mpirun -np {}); choose a batch that is a multiple of {}",
            b.name, b.shape[0], ranks, ranks, ranks);
      if (global_rows != 0 && b.shape[0] != global_rows)
        dist::fail_all("data-parallel training: batch inputs have {} and {} rows ('{}')",
                       global_rows, b.shape[0], b.name);
      global_rows = b.shape[0];
      b.shape[0] /= ranks;
      local_rows_ = b.shape[0];
    }
    batch_vars[b.name] = graph_.input(b.name, b.shape, b.dtype);
  }
  Var rng = graph_.input("rng", {2}, DType::i64);

  Var loss;
  {
    std::optional<ScopedRowShard> shard;
    if (comm && ranks > 1)
      shard.emplace(graph_, RowShard{local_rows_, local_rows_ * comm->rank(), global_rows});
    loss = loss_fn(graph_, batch_vars, rng);
  }
  FX_CHECK(loss.numel() == 1 && loss.dtype() == DType::f32,
           "Trainer: the loss must be a single f32 value, got {}{}", dtype_name(loss.dtype()),
           shape_str(loss.shape()));
  std::vector<Var> wrt;
  for (auto& [name, p] : trainable_) wrt.push_back(p->var);
  std::vector<Var> grads;
  Var bad = graph_.scalar(0.0);  // non-finite gradient entries (loss scaling only)
  if (scaler_.enabled()) {
    Var scale = graph_.input("amp.loss_scale", {});
    grads = grad(loss * scale, wrt);
    // Count non-finite entries: !(|g| < inf) is true for both Inf and NaN.
    for (Var& g : grads) {
      g = g / scale;
      bad = bad + sum(cast(logical_not(lt(abs(g), graph_.scalar(INFINITY))), DType::f32));
    }
  } else {
    grads = grad(loss, wrt);
  }

  if (comm) {
    // graph_ stops at the gradients; the update is a second graph fed with their average.
    std::vector<Var> grad_outputs = {reshape(loss, {}), bad};
    for (size_t i = 0; i < grads.size(); ++i) {
      FX_CHECK(grads[i].dtype() == DType::f32,
               "data-parallel training: gradient of '{}' is {}, the allreduce takes f32",
               trainable_[i].first, dtype_name(grads[i].dtype()));
      grad_outputs.push_back(grads[i]);
      dp_stats_.floats_per_step += grads[i].numel();
    }
    dp_stats_.floats_per_step += 2;  // loss and overflow count
    exec_ = runtime::make_executor(
        graph_, grad_outputs, {options_.precision, options_.compile, {}, options_.recompute_scans});
    std::vector<Var> params, avg_grads;
    for (auto& [name, p] : trainable_) {
      params.push_back(update_graph_.input(name, p->value.shape(), p->value.dtype()));
      avg_grads.push_back(update_graph_.input("grad/" + name, p->value.shape(), DType::f32));
    }
    Var keep = update_graph_.input("dp.finite", {}, DType::boolean);
    TracedUpdate u = trace_update(update_graph_, params, avg_grads, keep, scaler_.enabled());
    outputs_ = {u.norm};
    outputs_.insert(outputs_.end(), u.outputs.begin(), u.outputs.end());
    runtime::ExecutorOptions eo{options_.precision, options_.compile, {}};
    for (size_t k = 1; k < outputs_.size(); ++k)
      eo.donate.push_back({(int)k, k <= trainable_.size()
                                       ? trainable_[k - 1].first
                                       : slots_[k - 1 - trainable_.size()].name});
    update_exec_ = runtime::make_executor(update_graph_, outputs_, eo);
    return;
  }

  Var finite = eq(bad, graph_.scalar(0.0));
  // A skipped step keeps every parameter and state tensor as it was. Compiled, the updates
  // are written in place into the parameters' own buffers (donation), so a step whose loss
  // is not finite must keep them in the graph itself: step() then fails with the old values.
  Var keep = finite;
  if (options_.compile)
    keep = logical_and(finite, lt(abs(reshape(loss, {})), graph_.scalar(INFINITY)));
  TracedUpdate u = trace_update(graph_, wrt, grads, keep, scaler_.enabled() || options_.compile);
  outputs_ = {reshape(loss, {}), u.norm, finite};
  outputs_.insert(outputs_.end(), u.outputs.begin(), u.outputs.end());
  // Compiled, every new parameter and state tensor may take its old one's buffer (step()
  // gives the old ones up by moving them into the feeds).
  runtime::ExecutorOptions eo{options_.precision, options_.compile, {}, options_.recompute_scans};
  size_t k = 3;
  for (auto& [name, p] : trainable_) eo.donate.push_back({(int)k++, name});
  for (const Slot& sl : slots_) eo.donate.push_back({(int)k++, sl.name});
  exec_ = runtime::make_executor(graph_, outputs_, eo);
}

Trainer::TracedUpdate Trainer::trace_update(Graph& g, const std::vector<Var>& params,
                                            std::vector<Var> grads, Var keep, bool guard) {
  StepScalars sc{g.input("opt.lr", {}), g.input("opt.bias_correction1", {}),
                 g.input("opt.sqrt_bias_correction2", {})};
  TracedUpdate u;
  u.norm = options_.max_grad_norm > 0 ? clip_by_global_norm(grads, options_.max_grad_norm)
                                      : g.scalar(0.0);
  auto keep_if_overflow = [&](Var updated, Var old) {
    return guard ? where(keep, updated, old) : updated;
  };
  std::vector<Var> new_slots;
  std::vector<std::string> slot_names = opt_->slot_names();
  for (size_t i = 0; i < trainable_.size(); ++i) {
    auto& [name, p] = trainable_[i];
    std::vector<Var> slots;
    for (const std::string& s : slot_names) {
      slots_.push_back({s + "/" + name, Tensor::zeros(p->value.shape(), p->value.dtype())});
      slots.push_back(g.input(slots_.back().name, p->value.shape(), p->value.dtype()));
    }
    std::vector<Var> old_slots = slots;
    StepScalars psc = sc;
    if (const ParamGroup* pg = group_of(options_.param_groups, name)) {
      if (pg->lr_scale != 1.0) psc.lr = sc.lr * pg->lr_scale;
      psc.weight_decay_scale = pg->weight_decay_scale;
    }
    Var new_p = keep_if_overflow(opt_->update(params[i], grads[i], slots, psc), params[i]);
    u.outputs.push_back(new_p);
    for (size_t k = 0; k < slots.size(); ++k)
      new_slots.push_back(keep_if_overflow(slots[k], old_slots[k]));
    if (options_.ema_decay > 0) {
      slots_.push_back({"ema/" + name, p->value.clone()});
      Var ema = g.input(slots_.back().name, p->value.shape(), p->value.dtype());
      new_slots.push_back(
          keep_if_overflow(ema * options_.ema_decay + new_p * (1.0 - options_.ema_decay), ema));
    }
  }
  u.outputs.insert(u.outputs.end(), new_slots.begin(), new_slots.end());
  return u;
}

size_t Trainer::peak_bytes() const {
  return exec_.peak_bytes() + (options_.comm ? update_exec_.peak_bytes() : 0);
}

double Trainer::step(const Feeds& batch) {
  Feeds feeds = batch;
  if (options_.comm) return step_data_parallel(feeds, step_ + 1);
  // Compiled, trainable parameters and states are moved in, so the executable may update
  // them in place (donation); they come back as the step's outputs, or from the feeds if the
  // step throws before producing any.
  bool donate = exec_.compiled();
  for (auto& [name, p] : all_params_)
    feeds[name] = donate && p->trainable ? std::move(p->value) : p->value;
  for (Slot& s : slots_) feeds[s.name] = donate ? std::move(s.value) : s.value;
  auto give_back = [&](const std::vector<Tensor>* out) {
    size_t k = 3;
    for (auto& [name, p] : trainable_) p->value = out ? (*out)[k++] : feeds[name];
    for (Slot& s : slots_) s.value = out ? (*out)[k++] : feeds[s.name];
  };
  int64_t t = step_ + 1;
  feeds["rng"] = Tensor::from({(double)options_.seed, (double)t}, {2}, DType::i64);
  if (scaler_.enabled()) feeds["amp.loss_scale"] = Tensor::scalar(scaler_.scale());
  double bc1, sbc2;
  // Skipped steps never reached the optimizer: its own step count excludes them (as with
  // PyTorch's GradScaler, which skips optimizer.step()).
  opt_->scalars_for_step(t - scaler_.skipped_steps(), &bc1, &sbc2);
  feeds["opt.lr"] = Tensor::scalar(options_.schedule.lr_at(t));
  feeds["opt.bias_correction1"] = Tensor::scalar(bc1);
  feeds["opt.sqrt_bias_correction2"] = Tensor::scalar(sbc2);

  std::vector<Tensor> out;
  try {
    out = exec_.run(feeds);
  } catch (...) {
    if (donate) give_back(nullptr);
    throw;
  }
  double loss = out[0].item();
  if (donate && !std::isfinite(loss)) give_back(&out);  // the graph kept the old values
  if (!std::isfinite(loss))
    fail(
        "training loss is {} at step {}: parameters left unchanged (lower the learning rate, "
        "check the data, or use loss scaling)",
        loss, t);
  last_grad_norm_ = out[1].item();
  last_skipped_ = out[2].item() == 0.0;
  scaler_.update(!last_skipped_);
  give_back(&out);
  step_ = t;
  return loss;
}

double Trainer::step_data_parallel(Feeds& feeds, int64_t t) {
  dist::Communicator& comm = *options_.comm;
  const int ranks = comm.size();
  for (const std::string& name : batch_names_) {
    auto it = feeds.find(name);
    FX_CHECK(it != feeds.end(), "Trainer: no batch input '{}' fed", name);
    FX_CHECK(it->second.rank() >= 1 && it->second.dim(0) == local_rows_ * ranks,
             "Trainer: batch input '{}' has shape {}, expected {} rows", name,
             shape_str(it->second.shape()), local_rows_ * ranks);
    it->second = row_slice(it->second, local_rows_ * comm.rank(), local_rows_);
  }
  for (auto& [name, p] : all_params_) feeds[name] = p->value;
  feeds["rng"] = Tensor::from({(double)options_.seed, (double)t}, {2}, DType::i64);
  if (scaler_.enabled()) feeds["amp.loss_scale"] = Tensor::scalar(scaler_.scale());
  std::vector<Tensor> out = exec_.run(feeds);  // loss, overflow count, grads...

  // One allreduce of one flat buffer: the gradients, then the loss and the overflow count.
  std::vector<float> flat((size_t)dp_stats_.floats_per_step);
  size_t at = 0;
  for (size_t i = 2; i < out.size(); ++i) {
    std::memcpy(flat.data() + at, out[i].data<float>(), out[i].nbytes());
    at += out[i].numel();
  }
  flat[at] = (float)out[0].item();
  flat[at + 1] = (float)out[1].item();
  const auto t0 = std::chrono::steady_clock::now();
  comm.allreduce_sum(flat);
  if (++dp_stats_.steps > 5) {
    dp_stats_.allreduce_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++dp_stats_.timed_steps;
  }
  const double loss = flat[at] / ranks;
  const bool finite = flat[at + 1] == 0.0f;  // an overflow on any rank skips the step on all
  // Every rank has the same mean loss: all stop here together, weights unchanged.
  if (!std::isfinite(loss))
    dist::fail_all(
        "training loss is {} at step {} (mean over {} ranks): parameters left unchanged (lower "
        "the learning rate, check the data, or use loss scaling)",
        loss, t, ranks);

  Feeds u;
  const float inv = 1.0f / (float)ranks;
  at = 0;
  for (auto& [name, p] : trainable_) {
    Tensor g(p->value.shape(), DType::f32);
    float* gd = g.data<float>();
    for (int64_t j = 0; j < g.numel(); ++j) gd[j] = flat[at + j] * inv;
    at += g.numel();
    u["grad/" + name] = std::move(g);
  }
  bool donate = update_exec_.compiled();
  for (auto& [name, p] : trainable_) u[name] = donate ? std::move(p->value) : p->value;
  for (Slot& s : slots_) u[s.name] = donate ? std::move(s.value) : s.value;
  double bc1, sbc2;
  opt_->scalars_for_step(t - scaler_.skipped_steps(), &bc1, &sbc2);
  u["opt.lr"] = Tensor::scalar(options_.schedule.lr_at(t));
  u["opt.bias_correction1"] = Tensor::scalar(bc1);
  u["opt.sqrt_bias_correction2"] = Tensor::scalar(sbc2);
  u["dp.finite"] = Tensor::scalar(finite ? 1.0 : 0.0, DType::boolean);
  std::vector<Tensor> res;
  try {
    res = update_exec_.run(u);
  } catch (...) {
    for (auto& [name, p] : trainable_) p->value = u[name];
    for (Slot& s : slots_) s.value = u[s.name];
    throw;
  }
  size_t k = 1;
  for (auto& [name, p] : trainable_) p->value = res[k++];
  for (Slot& s : slots_) s.value = res[k++];
  last_grad_norm_ = res[0].item();
  last_skipped_ = !finite;
  scaler_.update(finite);
  step_ = t;
  return loss;
}

std::map<std::string, Tensor> Trainer::state() const {
  std::map<std::string, Tensor> m;
  for (const Slot& s : slots_) m[s.name] = s.value;
  m.merge(scaler_.state());
  return m;
}

void Trainer::set_state(const std::map<std::string, Tensor>& state) {
  for (Slot& s : slots_) {
    auto it = state.find(s.name);
    FX_CHECK(it != state.end(), "optimizer state has no tensor '{}'", s.name);
    FX_CHECK(it->second.shape() == s.value.shape() && it->second.dtype() == s.value.dtype(),
             "optimizer state '{}': expected {}{}, got {}{}", s.name, dtype_name(s.value.dtype()),
             shape_str(s.value.shape()), dtype_name(it->second.dtype()),
             shape_str(it->second.shape()));
    s.value = it->second;
  }
  scaler_.set_state(state);
}

std::map<std::string, Tensor> Trainer::ema_weights() const {
  std::map<std::string, Tensor> m;
  for (const Slot& s : slots_)
    if (s.name.rfind("ema/", 0) == 0) m[s.name.substr(4)] = s.value;
  return m;
}

}  // namespace fx::optim
