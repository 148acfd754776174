// What the training loop steps: a method's trainable state behind one interface. Most methods
// use TrainerLearner (one traced optim::Trainer and a batch function); a GAN steps two
// trainers, a particle flow moves particles. The loop (train_loop.h) handles everything else.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/optim/trainer.h"

namespace fx::train {

using StepMetrics = std::vector<std::pair<std::string, double>>;  // {"loss", 0.12}, ...

class Learner {
 public:
  virtual ~Learner() = default;
  // Runs training step `step` (1-based) and returns what to log; "loss" first by convention.
  virtual StepMetrics step(int64_t step) = 0;
  // Everything besides the weights that a resume needs (optimizer moments, EMA, particles).
  virtual std::map<std::string, Tensor> state() const = 0;
  virtual void set_state(const std::map<std::string, Tensor>& s, int64_t step) = 0;
  // Extra fields for metrics.jsonl (loss scale, skipped steps), at log time.
  virtual void log_fields(nlohmann::json& line) const {}
  // True for steps whose metrics must get a line of their own (e.g. a held-out evaluation
  // between two log intervals).
  virtual bool log_now(int64_t step) const { return false; }
  // What the precision pass chose for each product ("" in fp32 or without a traced step).
  virtual std::string precision_report() const { return ""; }
  // Data-parallel: the steps split each batch over the ranks (else every rank runs the whole
  // step on the same data, which keeps them identical but gains nothing), and their
  // communication so far.
  virtual bool data_parallel() const { return false; }
  virtual optim::DataParallelStats data_parallel_stats() const { return {}; }
};

// Batches for step s (1-based), drawn deterministically from (seed, s), so resuming replays
// the same data.
using BatchFn = std::function<Feeds(int64_t step)>;

class TrainerLearner : public Learner {
 public:
  TrainerLearner(std::unique_ptr<optim::Trainer> trainer, BatchFn batches)
      : trainer_(std::move(trainer)), batches_(std::move(batches)) {}
  StepMetrics step(int64_t step) override;
  std::map<std::string, Tensor> state() const override { return trainer_->state(); }
  void set_state(const std::map<std::string, Tensor>& s, int64_t step) override;
  void log_fields(nlohmann::json& line) const override;
  std::string precision_report() const override { return trainer_->precision_report(); }
  bool data_parallel() const override { return trainer_->data_parallel(); }
  optim::DataParallelStats data_parallel_stats() const override {
    return trainer_->data_parallel_stats();
  }
  optim::Trainer& trainer() { return *trainer_; }

 private:
  std::unique_ptr<optim::Trainer> trainer_;
  BatchFn batches_;
};

}  // namespace fx::train
