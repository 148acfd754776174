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
#include "fluxion/compiler/compiler.h"
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

json LruRunConfig::to_json() const {
  return {{"method", method},
          {"task", task},
          {"steps", steps},
          {"batch", batch},
          {"lr", lr},
          {"warmup", warmup},
          {"max_grad_norm", max_grad_norm},
          {"weight_decay", weight_decay},
          {"recurrent_lr_scale", recurrent_lr_scale},
          {"seed", seed},
          {"layers", layers},
          {"d_model", d_model},
          {"d_state", d_state},
          {"r_min", r_min},
          {"r_max", r_max},
          {"rnn_hidden", rnn_hidden},
          {"pooling", pooling},
          {"length", length},
          {"min_length", min_length},
          {"train_size", train_size},
          {"test_size", test_size},
          {"eval_every", eval_every},
          {"log_every", log_every},
          {"compile", compile},
          {"precision", precision}};
}

LruRunConfig LruRunConfig::from_json(const json& j, const std::string& where) {
  LruRunConfig c;
  try {
    j.at("method").get_to(c.method);
    j.at("task").get_to(c.task);
    j.at("steps").get_to(c.steps);
    j.at("batch").get_to(c.batch);
    j.at("lr").get_to(c.lr);
    j.at("warmup").get_to(c.warmup);
    j.at("max_grad_norm").get_to(c.max_grad_norm);
    j.at("seed").get_to(c.seed);
    j.at("layers").get_to(c.layers);
    j.at("d_model").get_to(c.d_model);
    j.at("d_state").get_to(c.d_state);
    j.at("r_min").get_to(c.r_min);
    j.at("r_max").get_to(c.r_max);
    j.at("rnn_hidden").get_to(c.rnn_hidden);
    j.at("pooling").get_to(c.pooling);
    j.at("length").get_to(c.length);
    j.at("min_length").get_to(c.min_length);
    j.at("train_size").get_to(c.train_size);
    j.at("test_size").get_to(c.test_size);
    j.at("eval_every").get_to(c.eval_every);
    j.at("log_every").get_to(c.log_every);
    c.compile = j.value("compile", false);  // absent in configs written before these options
    c.precision = j.value("precision", "fp32");
    c.weight_decay = j.value("weight_decay", 0.0);
    c.recurrent_lr_scale = j.value("recurrent_lr_scale", 1.0);
  } catch (const json::exception& e) {
    fail("{}: bad LRU run config: {}", where, e.what());
  }
  return c;
}

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

namespace {

struct Task {
  data::SequenceSet train, test;
  nn::Pooling pooling;
  std::string description;
};

Task load_task(const LruRunConfig& c) {
  Task t;
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

std::unique_ptr<nn::SequenceClassifier> make_model(const LruRunConfig& c, const Task& t) {
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

Shape batch_shape(const data::SequenceSet& s, int64_t n) {
  Shape sh = s.x.shape();
  sh[0] = n;
  return sh;
}

// Accuracy and mean cross-entropy of the model on a whole set, in fixed-size chunks (the
// last one padded with row 0 and the padding ignored).
struct Score {
  double acc = 0, loss = 0;
};
class Evaluator {
 public:
  Evaluator(nn::SequenceClassifier& model, const data::SequenceSet& set, int64_t chunk,
            bool compile)
      : model_(model), set_(set), chunk_(std::min(chunk, set.size())) {
    model_.bind(g_);
    Var x = g_.input("x", batch_shape(set, chunk_), set.x.dtype());
    std::vector<Var> outs{log_softmax(model_(x), -1)};
    if (compile)
      compiled_ = compiler::global_cache().get(g_, outs);
    else
      exec_ = std::make_unique<Interpreter>(g_, outs);
  }
  Score run() {
    Feeds feeds;
    for (auto& [name, p] : model_.named_parameters()) feeds[name] = p->value;
    Score s;
    const int64_t n = set_.size(), C = set_.n_classes;
    for (int64_t lo = 0; lo < n; lo += chunk_) {
      std::vector<int64_t> idx(chunk_);
      for (int64_t i = 0; i < chunk_; ++i) idx[i] = lo + i < n ? lo + i : 0;
      data::SequenceSet part = data::take(set_, idx);
      feeds["x"] = part.x;
      std::vector<float> lp =
          (compiled_ ? compiled_->run(feeds) : exec_->run(feeds))[0].to_f32_vector();
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

 private:
  nn::SequenceClassifier& model_;
  const data::SequenceSet& set_;
  int64_t chunk_;
  Graph g_;
  std::unique_ptr<Interpreter> exec_;
  std::shared_ptr<compiler::Executable> compiled_;
};

void write_pictures_and_report(const std::string& dir, const LruRunConfig& c, const Task& t,
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

}  // namespace

LruRunResult train_sequence_model(const LruRunConfig& c, const std::string& dir, bool quiet) {
  validate_lru_config(c);
  Task task = load_task(c);
  std::unique_ptr<nn::SequenceClassifier> model = make_model(c, task);
  io::write_file_atomic((fs::path(dir) / "config.json").string(), c.to_json().dump(2) + "\n");

  optim::TrainerOptions opts;
  opts.schedule = {c.lr, c.warmup, c.steps, 0.0};
  opts.max_grad_norm = c.max_grad_norm;
  opts.seed = c.seed;
  opts.compile = c.compile;
  opts.precision.precision = amp::precision_from_name(c.precision);
  opts.loss_scaling = amp::loss_scaling_for("auto", opts.precision.precision);
  opts.param_groups = lru_param_groups(c);
  nn::SequenceClassifier& m = *model;
  optim::LossFn loss_fn = [&m](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
    return cross_entropy(m(b.at("x")), b.at("y"));
  };
  optim::Trainer trainer(
      m, c.weight_decay > 0 ? optim::adamw({.weight_decay = c.weight_decay}) : optim::adam(),
      loss_fn,
      {{"x", batch_shape(task.train, c.batch), task.train.x.dtype()}, {"y", {c.batch}, DType::i64}},
      opts);
  Evaluator eval(m, task.test, std::max<int64_t>(c.batch, 100), c.compile);

  LruRunResult r;
  r.parameters = m.parameter_count();
  std::ofstream metrics((fs::path(dir) / "metrics.jsonl").string(), std::ios::trunc);
  std::vector<double> loss_x, loss_y, acc_x, acc_y;
  util::Progress bar(fmt::format("train {} {}", c.method, c.task), c.steps);
  auto t0 = std::chrono::steady_clock::now();
  data::SeqRng rng(c.seed * 7919 + 17);
  double loss_sum = 0;
  int64_t since = 0;
  for (int64_t s = 1; s <= c.steps; ++s) {
    std::vector<int64_t> idx(c.batch);
    for (auto& i : idx) i = rng.below(task.train.size());
    data::SequenceSet b = data::take(task.train, idx);
    double loss = trainer.step({{"x", b.x}, {"y", b.y}});
    loss_sum += loss;
    ++since;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bool log = s % c.log_every == 0 || s == c.steps;
    bool ev = s % c.eval_every == 0 || s == c.steps;
    json line;
    if (log) {
      line = {{"step", s},
              {"loss", loss_sum / since},
              {"lr", opts.schedule.lr_at(s)},
              {"elapsed_s", secs}};
      if (trainer.loss_scaler().enabled()) {  // fp16: the scale and the steps it skipped
        line["loss_scale"] = trainer.loss_scaler().scale();
        line["skipped_steps"] = trainer.loss_scaler().skipped_steps();
      }
      loss_x.push_back((double)s);
      loss_y.push_back(loss_sum / since);
      loss_sum = 0;
      since = 0;
    }
    if (ev) {
      Score sc = eval.run();
      if (line.is_null()) line = {{"step", s}, {"elapsed_s", secs}};
      line["test_acc"] = sc.acc;
      line["test_loss"] = sc.loss;
      acc_x.push_back((double)s);
      acc_y.push_back(sc.acc);
      r.test_acc = sc.acc;
      r.test_loss = sc.loss;
    }
    if (!line.is_null()) {
      metrics << line.dump() << "\n";
      metrics.flush();
    }
    if (!quiet) bar.update(s, {{"loss", loss}, {"acc", r.test_acc}});
  }
  if (!quiet) bar.finish();
  r.steps = c.steps;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::map<std::string, Tensor> weights;
  for (auto& [name, p] : m.named_parameters()) weights[name] = p->value;
  io::save_safetensors((fs::path(dir) / "model.safetensors").string(), weights,
                       {{"config", c.to_json().dump()}});
  write_pictures_and_report(dir, c, task, loss_x, loss_y, acc_x, acc_y, r);
  return r;
}

}  // namespace fx::run
