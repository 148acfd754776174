// Experiments: the demo (the README's main job), compare-precision (any method, once per
// precision) and the LRU step benchmark. The work lives in fluxion/experiments; this file only
// declares their options.
#include <memory>
#include <sstream>

#include "commands.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/experiments/bench_lru.h"
#include "fluxion/experiments/compare_methods.h"
#include "fluxion/experiments/compare_precision.h"
#include "fluxion/experiments/rf_demo.h"
#include "fluxion/methods/registry.h"
#include "option_binding.h"

namespace fx::cli {

namespace {

void add_demo(CLI::App& app) {
  auto o = std::make_shared<experiments::DemoOptions>();
  auto set = std::make_shared<train::OptionSet>();
  set->add("out", o->out, "output folder");
  set->add("steps", o->steps, "training steps per model");
  set->add("data", o->data, "built-in 2-D target");
  set->add("seed", o->seed, "random seed");
  CLI::App* c = app.add_subcommand(
      "demo", "train 1-RF, reflow to 2-RF, sample with 1 Euler step and RK45, write a report");
  bind_options(c, *set);
  c->callback([o, set] { experiments::run_demo(*o); });
}

struct CompareCommand {
  std::unique_ptr<methods::Method> method;
  train::TrainConfig train;
  experiments::ComparePrecisionOptions options;
  std::string precisions = "fp32,bf16,fp16";
  train::OptionSet set, sampling;
};

void add_compare_precision(CLI::App& app) {
  CLI::App* verb = app.add_subcommand(
      "compare-precision",
      "train the same run in fp32, bf16 and fp16; overlay the loss curves, compare the scores");
  verb->require_subcommand(1);
  for (const std::string& name : methods::method_names()) {
    auto c = std::make_shared<CompareCommand>();
    c->method = methods::make_method(name);
    c->train = c->method->default_train_config();
    // Compare the arithmetic: every product really runs in low precision.
    c->train.precision_measure = false;
    c->options.out = "runs/precision-" + name;
    c->train.declare(c->set);
    c->method->declare(c->set);
    c->set.add("precisions", c->precisions,
               "runs to compare, comma-separated; the first is the "
               "reference");
    c->set.add("out", c->options.out, "output folder");
    c->set.add("eval-n", c->options.eval_n, "samples scored per precision");
    // The method's sampling options, as --eval-<name> (--eval-steps: DDIM steps of the scores).
    c->method->declare_sampling(c->sampling);
    for (train::Option o : c->sampling.options()) {
      o.name = "eval-" + o.name;
      o.help = "scoring: " + o.help;
      c->set.options().push_back(o);
    }
    CLI::App* sub = verb->add_subcommand(name, c->method->summary());
    bind_options(sub, c->set);
    sub->callback([c] {
      c->options.precisions.clear();
      std::string p;
      for (std::istringstream in(c->precisions); std::getline(in, p, ',');)
        if (!p.empty()) c->options.precisions.push_back(p);
      experiments::compare_precision(*c->method, c->train, c->options);
    });
  }
}

void add_bench_lru(CLI::App& app) {
  {
    auto o = std::make_shared<experiments::BenchOptions>();
    CLI::App* c = app.add_subcommand(
        "bench-lru", "time LRU training steps (4 layers, H 128, N 256, the synthetic adding task)");
    c->add_option("--seq-len", o->seq_lens, "comma-separated lengths")->capture_default_str();
    c->add_option("--batch", o->batch, "batch size")->capture_default_str();
    c->add_option("--layers", o->layers, "LRU blocks")->capture_default_str();
    c->add_option("--d-model", o->d_model, "model width")->capture_default_str();
    c->add_option("--d-state", o->d_state, "state size")->capture_default_str();
    c->add_option("--steps", o->steps, "timed steps (median reported)")->capture_default_str();
    c->add_option("--warmup", o->warmup, "untimed first steps")->capture_default_str();
    c->add_flag("--compile", o->compile, "time the compiled step (fused kernels)");
    c->add_flag("--recompute-scans", o->recompute_scans,
                "with --compile: recompute the scans' states in the backward pass (less memory)");
    c->add_option("--precision", o->precision, "fp32, bf16 or fp16 products; f32 master weights")
        ->capture_default_str();
    c->add_option("--precision-measure", o->precision_measure,
                  "true: a product stays f32 where its low-precision kernel is slower on this CPU")
        ->capture_default_str();
    c->callback([o] {
      amp::precision_from_name(o->precision);  // a bad name fails before any work
      FX_CHECK(!o->recompute_scans || o->compile, "--recompute-scans needs --compile");
      experiments::bench_lru(*o);
    });
  }
  {
    auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    CLI::App* c = app.add_subcommand("plot-bench", "plot step times (JSON lines) against length");
    c->add_option("--in", *in, "JSON lines with impl, seq_len, ms_per_step_median")->required();
    c->add_option("--out", *out, "PNG file")->required();
    c->callback([=] { experiments::plot_bench(*in, *out); });
  }
}

}  // namespace

void add_compare_methods(CLI::App& app) {
  auto o = std::make_shared<experiments::CompareMethodsOptions>();
  auto set = std::make_shared<train::OptionSet>();
  set->add("out", o->out, "output folder (a method's run folder there is loaded, not retrained)");
  set->add("data", o->data, "built-in 2-D set or a .csv/.npy file");
  set->add("steps", o->steps, "training steps per method");
  set->add("hidden", o->hidden, "width of every method's MLP");
  set->add("layers", o->layers, "hidden layers of every method's MLP");
  set->add("num", o->n, "samples scored per row").short_name = "n";
  set->add("nfe", o->nfe, "network-call budgets of the fixed-step samplers");
  set->add("seed", o->seed, "random seed");
  CLI::App* c = app.add_subcommand(
      "compare-methods",
      "PFGM, rectified flow and DDPM on the same points at NFE 10, 20, 50, 100 and RK45: report");
  bind_options(c, *set);
  c->callback([o, set] { experiments::run_compare_methods(*o); });
}

void add_experiment_commands(CLI::App& app) {
  add_demo(app);
  add_compare_methods(app);
  add_compare_precision(app);
  add_bench_lru(app);
}

}  // namespace fx::cli
