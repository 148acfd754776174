#include "fluxion/run/lru_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/listops.h"
#include "fluxion/data/recall.h"
#include "fluxion/data/seq_fashion_mnist.h"
#include "fluxion/exec/interpreter.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/plot.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/nn/lru.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/util/progress.h"

namespace fx::run {

namespace fs = std::filesystem;
using json = nlohmann::json;

void validate_lru_config(const LruRunConfig& c) {
  FX_CHECK(c.method == "lru" || c.method == "rnn", "--method: unknown '{}' (expected lru or rnn)",
           c.method);
  FX_CHECK(c.task == "listops" || c.task == "recall" || c.task == "sfmnist" || c.task == "psfmnist",
           "--task: unknown '{}' (expected listops, recall, sfmnist or psfmnist)", c.task);
  FX_CHECK(c.steps > 0 && c.batch > 0, "--steps {} and --batch {} must be positive", c.steps,
           c.batch);
  FX_CHECK(c.lr > 0 && std::isfinite(c.lr), "--lr must be positive, got {}", c.lr);
  FX_CHECK(c.weight_decay >= 0 && std::isfinite(c.weight_decay),
           "--weight-decay must be >= 0, got {}", c.weight_decay);
  FX_CHECK(c.recurrent_lr_scale > 0 && std::isfinite(c.recurrent_lr_scale),
           "--recurrent-lr-scale must be positive, got {}", c.recurrent_lr_scale);
  FX_CHECK(c.test_size > 0 && c.eval_every > 0 && c.log_every > 0,
           "--test-size, --eval-every and --log-every must be positive");
  FX_CHECK(c.layers > 0 && c.d_model > 0 && c.d_state > 0 && c.rnn_hidden > 0,
           "model sizes must be positive (layers {}, d_model {}, d_state {}, rnn_hidden {})",
           c.layers, c.d_model, c.d_state, c.rnn_hidden);
  FX_CHECK(c.pooling.empty() || c.pooling == "mean" || c.pooling == "last",
           "--pooling: unknown '{}' (expected mean or last)", c.pooling);
  amp::precision_from_name(c.precision);  // throws naming the accepted values
}

std::vector<optim::ParamGroup> lru_param_groups(const LruRunConfig& c) {
  return {{{"nu_log", "theta_log", "gamma_log"}, c.recurrent_lr_scale, 0.0},
          {{"norm.weight", "bias"}, 1.0, 0.0}};
}

SequenceTask load_task(const LruRunConfig& c) {
  SequenceTask t;
  const uint64_t train_seed = c.seed * 1000003 + 1, test_seed = c.seed * 1000003 + 2;
  int64_t n_train = c.train_size > 0 ? c.train_size : 20000;
  if (c.task == "recall") {
    data::RecallOptions o;
    o.length = c.length;
    t.train = data::make_recall(n_train, train_seed, o);
    t.test = data::make_recall(c.test_size, test_seed, o);
    t.description = fmt::format("recall: {} symbols over {} steps of {} distractor tokens",
                                o.symbols, o.length, o.distractors);
  } else if (c.task == "listops") {
    data::ListOpsOptions o;
    o.max_length = c.length;
    o.min_length = c.min_length > 0 ? c.min_length : std::max<int64_t>(1, c.length / 4);
    t.train = data::make_listops(n_train, train_seed, o);
    t.test = data::make_listops(c.test_size, test_seed, o);
    t.description =
        fmt::format("ListOps (LRA generator), lengths {}..{}", o.min_length, o.max_length);
  } else {
    bool perm = c.task == "psfmnist";
    std::string dir = data::default_fashion_mnist_dir();
    t.train =
        data::make_sequential_fashion_mnist(dir, true, c.train_size > 0 ? c.train_size : -1, perm);
    t.test = data::make_sequential_fashion_mnist(dir, false, c.test_size, perm);
    t.description =
        fmt::format("{}sequential Fashion-MNIST, 784 one-pixel steps", perm ? "permuted " : "");
  }
  t.pooling = c.pooling.empty() ? (c.task == "recall" ? nn::Pooling::last : nn::Pooling::mean)
                                : nn::pooling_from_name(c.pooling);
  return t;
}

std::unique_ptr<nn::SequenceClassifier> make_model(const LruRunConfig& c, const SequenceTask& t) {
  nn::SequenceModelConfig m;
  m.vocab = t.train.vocab;
  m.d_in = t.train.d_in();
  m.n_classes = t.train.n_classes;
  m.layers = c.layers;
  m.pooling = t.pooling;
  m.lru.d_model = c.d_model;
  m.lru.d_state = c.d_state;
  m.lru.r_min = c.r_min;
  m.lru.r_max = c.r_max;
  nn::InitRng rng(c.seed);
  if (c.method == "rnn") return std::make_unique<nn::TanhRNNClassifier>(m, c.rnn_hidden, rng);
  return std::make_unique<nn::LRUClassifier>(m, rng);
}

Shape sequence_batch_shape(const data::SequenceSet& s, int64_t n) {
  Shape sh = s.x.shape();
  sh[0] = n;
  return sh;
}

SequenceEvaluator::SequenceEvaluator(nn::SequenceClassifier& model, const data::SequenceSet& set,
                                     int64_t chunk, bool compile)
    : model_(model), set_(set), chunk_(std::min(chunk, set.size())) {
  model_.bind(g_);
  Var x = g_.input("x", sequence_batch_shape(set, chunk_), set.x.dtype());
  std::vector<Var> outs{log_softmax(model_(x), -1)};
  exec_ = runtime::make_executor(g_, outs, {{}, compile, {}});
}
SequenceScore SequenceEvaluator::run() {
  Feeds feeds;
  for (auto& [name, p] : model_.named_parameters()) feeds[name] = p->value;
  SequenceScore s;
  const int64_t n = set_.size(), C = set_.n_classes;
  for (int64_t lo = 0; lo < n; lo += chunk_) {
    std::vector<int64_t> idx(chunk_);
    for (int64_t i = 0; i < chunk_; ++i) idx[i] = lo + i < n ? lo + i : 0;
    data::SequenceSet part = data::take(set_, idx);
    feeds["x"] = part.x;
    std::vector<float> lp = exec_.run(feeds)[0].to_f32_vector();
    for (int64_t i = 0; i < chunk_ && lo + i < n; ++i) {
      const float* row = lp.data() + i * C;
      int64_t best = std::max_element(row, row + C) - row, y = part.y.data<int64_t>()[i];
      s.acc += best == y;
      s.loss -= row[y];
    }
  }
  s.acc /= (double)n;
  s.loss /= (double)n;
  return s;
}

void write_pictures_and_report(const std::string& dir, const LruRunConfig& c, const SequenceTask& t,
                               const std::vector<double>& loss_x, const std::vector<double>& loss,
                               const std::vector<double>& acc_x, const std::vector<double>& acc,
                               const LruRunResult& r) {
  io::LinePanel lp{"training loss (cross-entropy)", "step", "loss", {}, false};
  lp.curves.push_back({loss, loss_x, "train loss", std::nullopt});
  io::LinePanel ap{"held-out accuracy", "step", "accuracy", {}, false};
  ap.curves.push_back(
      {acc, acc_x, fmt::format("test acc ({} examples)", c.test_size), std::nullopt});
  ap.curves.push_back(
      {std::vector<double>(acc_x.size(), 1.0 / t.train.n_classes), acc_x, "chance", std::nullopt});
  io::save_figure((fs::path(dir) / "curves.png").string(), {lp, ap}, 480, 360,
                  fmt::format("{} on {}", c.method, c.task));
  // The most frequent held-out label: the accuracy a constant prediction would get.
  std::vector<int64_t> counts(t.test.n_classes, 0);
  for (int64_t i = 0; i < t.test.size(); ++i) ++counts[t.test.y.data<int64_t>()[i]];
  double majority = (double)*std::max_element(counts.begin(), counts.end()) / t.test.size();
  std::string md = fmt::format(
      "# {} on {}\n\n"
      "- task: {}; {} training / {} held-out examples, {} classes (chance {:.3f}, majority "
      "class {:.3f})\n"
      "- model: {}, {} parameters\n"
      "- budget: {} steps of batch {} (Adam lr {}, warm-up {} + cosine, clip {}), {:.1f} s\n"
      "- final held-out accuracy: **{:.4f}** (loss {:.4f})\n\n"
      "![curves](curves.png)\n",
      c.method, c.task, t.description, t.train.size(), t.test.size(), t.train.n_classes,
      1.0 / t.train.n_classes, majority,
      c.method == "lru" ? fmt::format("LRU, {} layers, d_model {}, d_state {}, r in [{}, {}]",
                                      c.layers, c.d_model, c.d_state, c.r_min, c.r_max)
                        : fmt::format("tanh RNN, hidden {}", c.rnn_hidden),
      r.parameters, c.steps, c.batch, c.lr, c.warmup, c.max_grad_norm, r.seconds, r.test_acc,
      r.test_loss);
  io::write_file_atomic((fs::path(dir) / "report.md").string(), md);
}

}  // namespace fx::run
