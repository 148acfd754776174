// A generative (or sequence) method on the shared training spine. A method is one file in
// methods/ plus one line in registry.cpp: it declares its options, builds its data and
// model, returns a Learner for training, and samples/evaluates a trained run. The spine
// (train/) does the run folder, config.json, checkpoints, resume, metrics, progress bar; the
// CLI (src/cli) makes `fluxion train|sample|eval|<verb>` from the registry.
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"
#include "fluxion/nn/module.h"
#include "fluxion/train/checkpoint.h"
#include "fluxion/train/learner.h"
#include "fluxion/train/options.h"
#include "fluxion/train/train_config.h"

namespace fx::methods {

// What every verb of a method gets.
struct RunContext {
  std::string dir;           // the run folder ("" for verbs without one)
  train::TrainConfig train;  // shared training options, as declared and parsed
  bool quiet = false;        // no progress bars
  // How `sample` and `eval` run the trained network (set by their --precision / --compile).
  std::string sample_precision = "fp32";
  bool sample_compile = false;
};

// A verb beyond train/sample/eval (e.g. rectified flow's `reflow`).
struct Verb {
  std::string name, help;
  // Declares the verb's own options (bound to variables the run function captures).
  std::function<void(train::OptionSet&)> declare;
  std::function<void()> run;
};

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;  // one line, for `fluxion train --help`

  // Defaults of the shared training options (steps, batch, lr, schedule...).
  virtual train::TrainConfig default_train_config() const { return {}; }
  // The method's own options, bound to members; stored in config.json.
  virtual void declare(train::OptionSet& o) = 0;
  // Called after options are set (command line or config.json): throws fx::Error naming the
  // option and value.
  virtual void validate(const train::TrainConfig& t) const {}

  // Builds data and model with fresh weights (from t.seed). Sampling calls it too, then
  // loads the checkpoint's weights into parameters().
  virtual void build(const RunContext& ctx) = 0;
  // Every parameter of every model, by the name it has in the checkpoint.
  virtual std::vector<std::pair<std::string, nn::Parameter*>> parameters() = 0;
  // The training step over the built model.
  virtual std::unique_ptr<train::Learner> learner(const RunContext& ctx) = 0;
  // After training (and after --stop-after): pictures and report.md in ctx.dir.
  virtual void after_training(const RunContext& ctx, train::Learner& l) {}

  // After `sample`/`eval` loaded the checkpoint's weights into parameters(): a method that
  // samples with more than the weights (DDPM's EMA, in c.state) takes it here.
  virtual void loaded(const train::Checkpoint& c) {}

  // Sampling and evaluation options (solver, steps...), declared for `sample` and `eval`.
  virtual void declare_sampling(train::OptionSet& o) {}
  virtual bool can_sample() const { return true; }
  virtual int64_t default_sample_count() const { return 2000; }  // -n of sample and eval
  // n samples from the trained model: [n, d] points or [n, C, H, W] images in [-1, 1].
  virtual Tensor sample(const RunContext& ctx, int64_t n, uint64_t seed) = 0;
  // One line about the last sample() call for the user (sampler, speed), or "".
  virtual std::string sample_note() const { return ""; }
  // Scores of the trained model, e.g. {"sliced_w2": .., "sliced_w2_floor": ..}.
  virtual nlohmann::json evaluate(const RunContext& ctx, int64_t n, uint64_t seed) = 0;

  virtual std::vector<Verb> verbs() { return {}; }
};

using MethodFactory = std::function<std::unique_ptr<Method>()>;

}  // namespace fx::methods
