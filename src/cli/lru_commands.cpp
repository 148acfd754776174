// Sequence-model commands:
//   fluxion train --method lru|rnn --task listops|recall|sfmnist|psfmnist [...]
//   fluxion bench-lru --seq-len 256,1024,...   (training step time, peer configuration)
//   fluxion plot-bench --in times.jsonl --out times.png
// `train` belongs to the flow commands; main() sends it here when --method names a
// sequence model (is_sequence_train), so each family keeps its own options.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/api/fx.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/core/error.h"
#include "fluxion/data/sequence_set.h"
#include "fluxion/io/plot.h"
#include "fluxion/nn/lru.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/run/flow_run.h"
#include "fluxion/run/lru_run.h"

namespace fx::cli {

namespace {

void add_sequence_train_options(CLI::App* c, run::LruRunConfig& cfg) {
  c->add_option("--method", cfg.method, "lru, or rnn (tanh RNN baseline)")->capture_default_str();
  c->add_option("--task", cfg.task, "listops, recall, sfmnist or psfmnist")->capture_default_str();
  c->add_option("--steps", cfg.steps, "training steps")->capture_default_str();
  c->add_option("--batch", cfg.batch, "batch size")->capture_default_str();
  c->add_option("--lr", cfg.lr, "Adam learning rate (warm-up, then cosine)")->capture_default_str();
  c->add_option("--warmup", cfg.warmup, "linear warm-up steps")->capture_default_str();
  c->add_option("--clip", cfg.max_grad_norm, "global gradient-norm clip (0: off)")
      ->capture_default_str();
  c->add_option("--weight-decay", cfg.weight_decay,
                "AdamW decoupled weight decay (0: Adam); never on nu, theta, gamma, norms, biases")
      ->capture_default_str();
  c->add_option("--recurrent-lr-scale", cfg.recurrent_lr_scale,
                "learning-rate factor for the LRU recurrence nu, theta, gamma (paper: 0.5)")
      ->capture_default_str();
  c->add_option("--seed", cfg.seed, "seed for data, initialisation and batches")
      ->capture_default_str();
  c->add_option("--layers", cfg.layers, "LRU blocks")->capture_default_str();
  c->add_option("--d-model", cfg.d_model, "LRU model width H")->capture_default_str();
  c->add_option("--d-state", cfg.d_state, "LRU state size N (complex)")->capture_default_str();
  c->add_option("--r-min", cfg.r_min, "ring initialisation: smallest |lambda|")
      ->capture_default_str();
  c->add_option("--r-max", cfg.r_max, "ring initialisation: largest |lambda|")
      ->capture_default_str();
  c->add_option("--rnn-hidden", cfg.rnn_hidden, "tanh RNN width")->capture_default_str();
  c->add_option("--pooling", cfg.pooling, "mean or last (default: last for recall, else mean)");
  c->add_option("--length", cfg.length, "recall: sequence length; listops: maximum length")
      ->capture_default_str();
  c->add_option("--min-length", cfg.min_length, "listops: minimum length (0: length/4)")
      ->capture_default_str();
  c->add_option("--train-size", cfg.train_size,
                "training examples (0: 20000 generated, or all 60000 images)")
      ->capture_default_str();
  c->add_option("--test-size", cfg.test_size, "held-out examples per evaluation")
      ->capture_default_str();
  c->add_option("--eval-every", cfg.eval_every, "steps between evaluations")->capture_default_str();
  c->add_option("--log-every", cfg.log_every, "steps between metrics lines")->capture_default_str();
  c->add_flag("--compile", cfg.compile, "run the step and evaluation compiled (fused kernels)");
  c->add_option("--precision", cfg.precision, "fp32, bf16 or fp16 products; f32 master weights")
      ->capture_default_str();
}

std::vector<int64_t> parse_int_list(const std::string& s, const char* what) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      v.push_back(std::stoll(item, &used));
      FX_CHECK(used == item.size() && v.back() > 0, "");
    } catch (...) {
      fail("{}: '{}' is not a comma-separated list of positive integers", what, s);
    }
  }
  FX_CHECK(!v.empty(), "{}: empty list", what);
  return v;
}

struct BenchOptions {
  std::string seq_lens = "256,1024,4096";
  int64_t batch = 32, layers = 4, d_model = 128, d_state = 256, steps = 5, warmup = 1;
  uint64_t seed = 0;
  bool compile = false;            // time the compiled step instead of the interpreted one
  std::string precision = "fp32";  // fp32 | bf16 | fp16 products (amp policy)
  bool precision_measure = true;   // keep f32 where this CPU's low-precision product is slower
};

// "fluxion", "fluxion compiled", "fluxion bf16", "fluxion compiled bf16": the row label.
std::string bench_impl_name(const BenchOptions& o) {
  std::string s = "fluxion";
  if (o.compile) s += " compiled";
  if (o.precision != "fp32") s += " " + o.precision;
  return s;
}

// The peer's synthetic task (lru_seq.py --task synth): d_in 2, 2 classes, Adam step.
void bench_lru(const BenchOptions& o) {
  for (int64_t L : parse_int_list(o.seq_lens, "--seq-len")) {
    nn::SequenceModelConfig m;
    m.d_in = 2;
    m.n_classes = 2;
    m.layers = o.layers;
    m.lru.d_model = o.d_model;
    m.lru.d_state = o.d_state;
    nn::InitRng rng(o.seed);
    nn::LRUClassifier model(m, rng);
    nn::LRUClassifier& mr = model;
    optim::LossFn loss_fn = [&mr](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
      return cross_entropy(mr(b.at("x")), b.at("y"));
    };
    optim::TrainerOptions topts;
    topts.compile = o.compile;
    topts.precision.precision = amp::precision_from_name(o.precision);
    topts.precision.measure = o.precision_measure;
    topts.loss_scaling = amp::loss_scaling_for("auto", topts.precision.precision);
    optim::Trainer tr(model, optim::adam(), loss_fn,
                      {{"x", {o.batch, L, 2}}, {"y", {o.batch}, DType::i64}}, topts);
    if (tr.executable()) std::fprintf(stderr, "  %s\n", tr.executable()->stats().summary().c_str());
    if (!tr.precision_report().empty()) std::fprintf(stderr, "%s\n", tr.precision_report().c_str());
    data::SeqRng r(o.seed + 1);
    std::vector<double> times;
    for (int64_t s = 0; s < o.warmup + o.steps; ++s) {
      // adding-problem batch, as the peer: values U(0,1), one mark in each half
      Tensor x({o.batch, L, 2}, DType::f32), y({o.batch}, DType::i64);
      float* xp = x.data<float>();
      for (int64_t b = 0; b < o.batch; ++b) {
        int64_t i1 = r.below(L / 2), i2 = L / 2 + r.below(L - L / 2);
        for (int64_t t = 0; t < L; ++t) {
          xp[(b * L + t) * 2] = (float)r.uniform();
          xp[(b * L + t) * 2 + 1] = (t == i1 || t == i2) ? 1.f : 0.f;
        }
        y.data<int64_t>()[b] = xp[(b * L + i1) * 2] + xp[(b * L + i2) * 2] > 1.f;
      }
      auto t0 = std::chrono::steady_clock::now();
      double loss = tr.step({{"x", x}, {"y", y}});
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (s >= o.warmup) times.push_back(ms);
      std::fprintf(stderr, "  L=%lld step %lld: %.1f ms loss %.4f\n", (long long)L, (long long)s,
                   ms, loss);
    }
    std::sort(times.begin(), times.end());
    double med = times[times.size() / 2];
    if (times.size() % 2 == 0) med = 0.5 * (times[times.size() / 2 - 1] + med);
    nlohmann::json j = {{"impl", bench_impl_name(o)},
                        {"compile", o.compile},
                        {"precision", o.precision},
                        {"seq_len", L},
                        {"batch", o.batch},
                        {"layers", o.layers},
                        {"d_model", o.d_model},
                        {"d_state", o.d_state},
                        {"steps", o.steps},
                        {"ms_per_step_median", med},
                        {"ms_min", times.front()},
                        {"ms_max", times.back()},
                        {"peak_bytes", tr.peak_bytes()}};
    std::printf("RESULT_JSON %s\n", j.dump().c_str());
    std::fflush(stdout);
  }
}

// Lines {"impl": ..., "seq_len": ..., "ms_per_step_median": ...} -> log-log step time plot.
void plot_bench(const std::string& in, const std::string& out) {
  std::ifstream f(in);
  FX_CHECK(f.good(), "plot-bench: cannot open '{}'", in);
  std::map<std::string, io::Curve> curves;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
      io::Curve& c = curves[j.at("impl").get<std::string>()];
      c.label = j.at("impl").get<std::string>();
      c.x.push_back(std::log2(j.at("seq_len").get<double>()));
      c.y.push_back(j.at("ms_per_step_median").get<double>() / 1000.0);
    } catch (const nlohmann::json::exception& e) {
      fail("plot-bench: {} line {}: {}", in, lineno, e.what());
    }
  }
  io::LinePanel p{"LRU training step (batch 32, 4 layers, H 128, N 256)",
                  "log2(sequence length)",
                  "seconds per step (log)",
                  {},
                  true};
  for (auto& [name, c] : curves) p.curves.push_back(c);
  io::save_figure(out, {p}, 640, 480);
}

}  // namespace

bool is_sequence_train(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "train") != 0) return false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    std::string v = a.rfind("--method=", 0) == 0        ? a.substr(9)
                    : (a == "--method" && i + 1 < argc) ? std::string(argv[i + 1])
                                                        : std::string();
    if (v == "lru" || v == "rnn") return true;
  }
  return false;
}

void add_sequence_train_command(CLI::App& app) {
  auto cfg = std::make_shared<run::LruRunConfig>();
  auto out = std::make_shared<std::string>("runs/lru");
  CLI::App* c = app.add_subcommand("train", "train a sequence classifier (LRU or tanh RNN)");
  add_sequence_train_options(c, *cfg);
  c->add_option("--out", *out, "run folder")->capture_default_str();
  c->callback([=] {
    run::validate_lru_config(*cfg);
    run::prepare_run_dir(*out, false);
    run::LruRunResult r = run::train_sequence_model(*cfg, *out);
    std::printf(
        "trained %lld steps in %.1f s; held-out accuracy %.4f (%lld examples); %s/report.md\n",
        (long long)r.steps, r.seconds, r.test_acc, (long long)cfg->test_size, out->c_str());
  });
}

void add_lru_commands(CLI::App& app) {
  {
    auto o = std::make_shared<BenchOptions>();
    CLI::App* c = app.add_subcommand(
        "bench-lru", "time LRU training steps (the configuration of shared/peer/lru_seq.py)");
    c->add_option("--seq-len", o->seq_lens, "comma-separated lengths")->capture_default_str();
    c->add_option("--batch", o->batch, "batch size")->capture_default_str();
    c->add_option("--layers", o->layers, "LRU blocks")->capture_default_str();
    c->add_option("--d-model", o->d_model, "model width")->capture_default_str();
    c->add_option("--d-state", o->d_state, "state size")->capture_default_str();
    c->add_option("--steps", o->steps, "timed steps (median reported)")->capture_default_str();
    c->add_option("--warmup", o->warmup, "untimed first steps")->capture_default_str();
    c->add_flag("--compile", o->compile, "time the compiled step (fused kernels)");
    c->add_option("--precision", o->precision, "fp32, bf16 or fp16 products; f32 master weights")
        ->capture_default_str();
    c->add_option("--precision-measure", o->precision_measure,
                  "true: a product stays f32 where its low-precision kernel is slower on this CPU")
        ->capture_default_str();
    c->callback([o] {
      amp::precision_from_name(o->precision);  // a bad name fails before any work
      bench_lru(*o);
    });
  }
  {
    auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    CLI::App* c = app.add_subcommand("plot-bench", "plot step times (JSON lines) against length");
    c->add_option("--in", *in, "JSON lines with impl, seq_len, ms_per_step_median")->required();
    c->add_option("--out", *out, "PNG file")->required();
    c->callback([=] { plot_bench(*in, *out); });
  }
}

}  // namespace fx::cli
