// Sequence classifiers on long-sequence tasks (run/lru_run.h): the LRU ("lru") and its tanh-RNN
// baseline ("rnn"), trained with a held-out evaluation every --eval-every steps. Not
// generative: `eval` scores held-out accuracy, and there is no `sample`.
#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/data/recall.h"
#include "fluxion/methods/method.h"
#include "fluxion/run/lru_run.h"
#include "fluxion/train/metrics_log.h"

namespace fx::methods {

namespace {

// Steps the trainer on batches drawn from one sequential stream (as the runs recorded in
// the README were), evaluating on the held-out set every eval_every steps.
class SequenceLearner : public train::TrainerLearner {
 public:
  SequenceLearner(std::unique_ptr<optim::Trainer> trainer, run::SequenceTask& task,
                  nn::SequenceClassifier& model, const run::LruRunConfig& c)
      : TrainerLearner(std::move(trainer),
                       [this](int64_t) -> Feeds {
                         std::vector<int64_t> idx(c_.batch);
                         for (auto& i : idx) i = rng_.below(task_.train.size());
                         data::SequenceSet b = data::take(task_.train, idx);
                         return {{"x", b.x}, {"y", b.y}};
                       }),
        task_(task),
        c_(c),
        rng_(c.seed * 7919 + 17),
        eval_(model, task.test, std::max<int64_t>(c.batch, 100), c.compile) {}

  train::StepMetrics step(int64_t s) override {
    train::StepMetrics m = TrainerLearner::step(s);
    if (s % c_.eval_every == 0 || s == c_.steps) {
      run::SequenceScore sc = eval_.run();
      m.push_back({"test_acc", sc.acc});
      m.push_back({"test_loss", sc.loss});
    }
    return m;
  }
  void set_state(const std::map<std::string, Tensor>& s, int64_t step) override {
    TrainerLearner::set_state(s, step);
    // Replays the batch stream up to `step`: a resumed run sees the same batches.
    for (int64_t i = 0; i < step * c_.batch; ++i) rng_.below(task_.train.size());
  }
  bool log_now(int64_t s) const override { return s % c_.eval_every == 0; }

 private:
  run::SequenceTask& task_;
  run::LruRunConfig c_;
  data::SeqRng rng_;
  run::SequenceEvaluator eval_;
};

class SequenceClassifierMethod : public Method {
 public:
  explicit SequenceClassifierMethod(std::string arch) { c_.method = std::move(arch); }
  std::string name() const override { return c_.method; }
  std::string summary() const override {
    return c_.method == "lru"
               ? "linear recurrent unit classifier on long sequences (recall, ListOps, sMNIST)"
               : "tanh RNN classifier: the LRU's baseline on the same tasks";
  }
  bool can_sample() const override { return false; }
  train::TrainConfig default_train_config() const override {
    train::TrainConfig t;
    t.steps = 1000;
    t.batch = 32;
    t.lr = 1e-3;
    t.warmup = 100;
    t.lr_decay = "cosine";
    t.log_every = 10;
    return t;
  }
  void declare(train::OptionSet& o) override {
    o.add("task", c_.task, "listops, recall, sfmnist or psfmnist");
    o.add("clip", c_.max_grad_norm, "global gradient-norm clip (0: off)");
    o.add("weight-decay", c_.weight_decay,
          "AdamW decoupled weight decay (0: Adam); never on nu, theta, gamma, norms, biases");
    o.add("recurrent-lr-scale", c_.recurrent_lr_scale,
          "learning-rate factor for the LRU recurrence nu, theta, gamma (paper: 0.5)");
    o.add("layers", c_.layers, "LRU blocks");
    o.add("d-model", c_.d_model, "LRU model width H");
    o.add("d-state", c_.d_state, "LRU state size N (complex)");
    o.add("r-min", c_.r_min, "ring initialisation: smallest |lambda|");
    o.add("r-max", c_.r_max, "ring initialisation: largest |lambda|");
    o.add("rnn-hidden", c_.rnn_hidden, "tanh RNN width");
    o.add("pooling", c_.pooling, "mean or last (\"\": last for recall, else mean)");
    o.add("length", c_.length, "recall: sequence length; listops: maximum length");
    o.add("min-length", c_.min_length, "listops: minimum length (0: length/4)");
    o.add("train-size", c_.train_size, "training examples (0: task default)");
    o.add("test-size", c_.test_size, "held-out examples scored at each evaluation");
    o.add("eval-every", c_.eval_every, "steps between held-out evaluations");
  }
  void validate(const train::TrainConfig& t) const override {
    run::LruRunConfig c = with_train(t);
    run::validate_lru_config(c);
  }
  void build(const RunContext& ctx) override {
    c_ = with_train(ctx.train);
    task_ = std::make_unique<run::SequenceTask>(run::load_task(c_));
    model_ = run::make_model(c_, *task_);
  }
  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override {
    return model_->named_parameters();
  }
  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override {
    optim::TrainerOptions opts = ctx.train.trainer_options();
    opts.max_grad_norm = c_.max_grad_norm;
    opts.param_groups = run::lru_param_groups(c_);
    nn::SequenceClassifier& m = *model_;
    auto trainer = std::make_unique<optim::Trainer>(
        m, c_.weight_decay > 0 ? optim::adamw({.weight_decay = c_.weight_decay}) : optim::adam(),
        [&m](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
          return cross_entropy(m(b.at("x")), b.at("y"));
        },
        std::vector<optim::BatchInput>{
            {"x", run::sequence_batch_shape(task_->train, c_.batch), task_->train.x.dtype()},
            {"y", {c_.batch}, DType::i64}},
        opts);
    return std::make_unique<SequenceLearner>(std::move(trainer), *task_, m, c_);
  }
  void after_training(const RunContext& ctx, train::Learner&) override {
    auto lines = train::read_metrics(ctx.dir);
    std::vector<double> loss_x, loss, acc_x, acc;
    train::metric_column(lines, "loss", loss_x, loss);
    train::metric_column(lines, "test_acc", acc_x, acc);
    run::LruRunResult r;
    r.steps = c_.steps;
    r.parameters = model_->parameter_count();
    if (!lines.empty()) r.seconds = lines.back().value("elapsed_s", 0.0);
    if (!acc.empty()) r.test_acc = acc.back();
    std::vector<double> tl_x, tl;
    train::metric_column(lines, "test_loss", tl_x, tl);
    if (!tl.empty()) r.test_loss = tl.back();
    run::write_pictures_and_report(ctx.dir, c_, *task_, loss_x, loss, acc_x, acc, r);
    if (!ctx.quiet)
      std::printf("held-out accuracy %.4f (%lld examples); %s/report.md\n", r.test_acc,
                  (long long)c_.test_size, ctx.dir.c_str());
  }
  Tensor sample(const RunContext&, int64_t, uint64_t) override {
    fail("method '{}' classifies sequences and cannot sample", name());
  }
  nlohmann::json evaluate(const RunContext& ctx, int64_t, uint64_t) override {
    run::SequenceEvaluator e(*model_, task_->test, std::max<int64_t>(c_.batch, 100),
                             ctx.sample_compile);
    run::SequenceScore s = e.run();
    return {{"test_acc", s.acc}, {"test_loss", s.loss}, {"test_size", task_->test.size()}};
  }

 private:
  // The library's config carries the shared training options too.
  run::LruRunConfig with_train(const train::TrainConfig& t) const {
    run::LruRunConfig c = c_;
    c.steps = t.steps;
    c.batch = t.batch;
    c.lr = t.lr;
    c.warmup = t.warmup;
    c.seed = t.seed;
    c.log_every = t.log_every;
    c.compile = t.compile;
    c.precision = t.precision;
    return c;
  }

  run::LruRunConfig c_;
  std::unique_ptr<run::SequenceTask> task_;
  std::unique_ptr<nn::SequenceClassifier> model_;
};

}  // namespace

std::unique_ptr<Method> make_lru() { return std::make_unique<SequenceClassifierMethod>("lru"); }
std::unique_ptr<Method> make_rnn() { return std::make_unique<SequenceClassifierMethod>("rnn"); }

}  // namespace fx::methods
