#include "fluxion/optim/trainer.h"

#include <cmath>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/core/error.h"

namespace fx::optim {

Var fold_in(Var key, int64_t k) {
  return key + key.graph->constant(Tensor::from({0.0, (double)(k << 32)}, {2}, DType::i64));
}

Trainer::Trainer(nn::Module& model, std::unique_ptr<Optimizer> opt, LossFn loss_fn,
                 std::vector<BatchInput> batch, TrainerOptions options)
    : model_(model), opt_(std::move(opt)), options_(options), scaler_(options.loss_scaling) {
  model_.bind(graph_);
  all_params_ = model_.named_parameters();
  for (auto& np : all_params_)
    if (np.second->trainable) trainable_.push_back(np);
  FX_CHECK(!trainable_.empty(), "Trainer: the model has no trainable parameters");

  std::unordered_map<std::string, Var> batch_vars;
  for (const BatchInput& b : batch) batch_vars[b.name] = graph_.input(b.name, b.shape, b.dtype);
  Var rng = graph_.input("rng", {2}, DType::i64);
  StepScalars sc{graph_.input("opt.lr", {}), graph_.input("opt.bias_correction1", {}),
                 graph_.input("opt.sqrt_bias_correction2", {})};

  Var loss = loss_fn(graph_, batch_vars, rng);
  FX_CHECK(loss.numel() == 1 && loss.dtype() == DType::f32,
           "Trainer: the loss must be a single f32 value, got {}{}", dtype_name(loss.dtype()),
           shape_str(loss.shape()));
  std::vector<Var> wrt;
  for (auto& [name, p] : trainable_) wrt.push_back(p->var);
  std::vector<Var> grads;
  Var finite = graph_.scalar(1.0, DType::boolean);
  if (scaler_.enabled()) {
    Var scale = graph_.input("amp.loss_scale", {});
    grads = grad(loss * scale, wrt);
    // Count non-finite entries: !(|g| < inf) is true for both Inf and NaN.
    Var bad = graph_.scalar(0.0);
    for (Var& g : grads) {
      g = g / scale;
      bad = bad + sum(cast(logical_not(lt(abs(g), graph_.scalar(INFINITY))), DType::f32));
    }
    finite = eq(bad, graph_.scalar(0.0));
  } else {
    grads = grad(loss, wrt);
  }
  Var norm = options_.max_grad_norm > 0 ? clip_by_global_norm(grads, options_.max_grad_norm)
                                        : graph_.scalar(0.0);
  outputs_ = {reshape(loss, {}), norm, finite};
  // A skipped step keeps every parameter and state tensor as it was. Compiled, the updates
  // are written in place into the parameters' own buffers (donation), so a step whose loss
  // is not finite must keep them in the graph itself: step() then fails with the old values.
  Var keep = finite;
  if (options_.compile)
    keep = logical_and(finite, lt(abs(reshape(loss, {})), graph_.scalar(INFINITY)));
  bool guard = scaler_.enabled() || options_.compile;
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
      slots.push_back(graph_.input(slots_.back().name, p->value.shape(), p->value.dtype()));
    }
    std::vector<Var> old_slots = slots;
    StepScalars psc = sc;
    if (const ParamGroup* pg = group_of(options_.param_groups, name)) {
      if (pg->lr_scale != 1.0) psc.lr = sc.lr * pg->lr_scale;
      psc.weight_decay_scale = pg->weight_decay_scale;
    }
    Var new_p = keep_if_overflow(opt_->update(p->var, grads[i], slots, psc), p->var);
    outputs_.push_back(new_p);
    for (size_t k = 0; k < slots.size(); ++k)
      new_slots.push_back(keep_if_overflow(slots[k], old_slots[k]));
    if (options_.ema_decay > 0) {
      slots_.push_back({"ema/" + name, p->value.clone()});
      Var ema = graph_.input(slots_.back().name, p->value.shape(), p->value.dtype());
      new_slots.push_back(
          keep_if_overflow(ema * options_.ema_decay + new_p * (1.0 - options_.ema_decay), ema));
    }
  }
  outputs_.insert(outputs_.end(), new_slots.begin(), new_slots.end());
  // Compiled, every new parameter and state tensor may take its old one's buffer (step()
  // gives the old ones up by moving them into the feeds).
  runtime::ExecutorOptions eo{options_.precision, options_.compile, {}};
  size_t k = 3;
  for (auto& [name, p] : trainable_) eo.donate.push_back({(int)k++, name});
  for (const Slot& sl : slots_) eo.donate.push_back({(int)k++, sl.name});
  exec_ = runtime::make_executor(graph_, outputs_, eo);
}

size_t Trainer::peak_bytes() const { return exec_.peak_bytes(); }

double Trainer::step(const Feeds& batch) {
  Feeds feeds = batch;
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
