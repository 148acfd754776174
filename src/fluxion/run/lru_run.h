// Sequence classifiers (the LRU, or the tanh RNN baseline) on the built-in long-sequence
// tasks: options, task data, model, held-out evaluation and report. methods/sequence.cpp
// trains them on the shared spine; a run folder holds:
//   config.json     the options
//   metrics.jsonl   one JSON line per log interval (step, loss, lr, elapsed_s; with fp16
//                   also loss_scale and skipped_steps) and, at
//                   evaluation steps, held-out accuracy (test_acc) and loss (test_loss)
//   model.safetensors
//   curves.png      training loss and held-out accuracy against steps
//   report.md       task, model, budget and final held-out accuracy
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fluxion/data/sequence_set.h"
#include "fluxion/nn/lru.h"
#include "fluxion/optim/optimizer.h"
#include "fluxion/runtime/executor.h"

namespace fx::run {

struct LruRunConfig {
  std::string method = "lru";   // lru | rnn (tanh RNN baseline)
  std::string task = "recall";  // listops | recall | sfmnist | psfmnist
  int64_t steps = 1000;
  int64_t batch = 32;
  double lr = 1e-3;
  int64_t warmup = 100;
  double max_grad_norm = 1.0;
  // AdamW's decoupled weight decay (0: plain Adam). Never applied to the recurrence
  // (nu, theta, gamma), norms or biases, as in the LRU paper.
  double weight_decay = 0.0;
  double recurrent_lr_scale = 1.0;  // learning-rate factor of nu, theta, gamma (paper: 0.5)
  uint64_t seed = 0;
  // model
  int64_t layers = 4;
  int64_t d_model = 128;
  int64_t d_state = 256;
  double r_min = 0.9, r_max = 0.999;
  int64_t rnn_hidden = 128;
  std::string pooling;  // "" = task default: last for recall, mean otherwise
  // task
  int64_t length = 256;      // recall: sequence length; listops: max length
  int64_t min_length = 0;    // listops: min length (0 = length / 4)
  int64_t train_size = 0;    // 0 = task default (generated: 20,000; Fashion-MNIST: 60,000)
  int64_t test_size = 1000;  // held-out examples scored at each evaluation
  int64_t eval_every = 100;
  int64_t log_every = 10;
  // execution
  bool compile = false;            // run the training step and evaluation compiled
  std::string precision = "fp32";  // fp32 | bf16 | fp16 products, f32 master weights
};

// The optimizer's parameter groups for `c` (optim::ParamGroup): the recurrence with
// recurrent_lr_scale and no decay, then norms and biases with no decay.
std::vector<optim::ParamGroup> lru_param_groups(const LruRunConfig& c);

struct LruRunResult {
  int64_t steps = 0;
  double test_acc = 0.0;  // last evaluation, on test_size held-out examples
  double test_loss = 0.0;
  double seconds = 0.0;
  int64_t parameters = 0;
};

// Throws fx::Error naming the first invalid option.
void validate_lru_config(const LruRunConfig& cfg);

struct SequenceTask {
  data::SequenceSet train, test;
  nn::Pooling pooling;
  std::string description;
};
// The task's training and held-out sets (generated from the seed, or Fashion-MNIST).
SequenceTask load_task(const LruRunConfig& c);
std::unique_ptr<nn::SequenceClassifier> make_model(const LruRunConfig& c, const SequenceTask& t);
Shape sequence_batch_shape(const data::SequenceSet& s, int64_t n);

// Accuracy and mean cross-entropy of the model on a whole set, in fixed-size chunks (the
// last one padded with row 0 and the padding ignored).
struct SequenceScore {
  double acc = 0, loss = 0;
};
class SequenceEvaluator {
 public:
  SequenceEvaluator(nn::SequenceClassifier& model, const data::SequenceSet& set, int64_t chunk,
                    bool compile);
  SequenceScore run();

 private:
  nn::SequenceClassifier& model_;
  const data::SequenceSet& set_;
  int64_t chunk_;
  Graph g_;
  runtime::Executor exec_;
};

// curves.png (loss and held-out accuracy) and report.md.
void write_pictures_and_report(const std::string& dir, const LruRunConfig& c, const SequenceTask& t,
                               const std::vector<double>& loss_x, const std::vector<double>& loss,
                               const std::vector<double>& acc_x, const std::vector<double>& acc,
                               const LruRunResult& r);

}  // namespace fx::run
