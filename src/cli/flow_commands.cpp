// Rectified-flow commands. Each is a thin layer over fluxion/run/flow_run.h.
#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.h"
#include "fluxion/core/error.h"
#include "fluxion/gen/rectified_flow.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/run/flow_run.h"

namespace fx::cli {

namespace fs = std::filesystem;
using run::FlowRunConfig;

namespace {

void add_train_options(CLI::App* c, FlowRunConfig& cfg) {
  c->add_option("--method", cfg.method, "generative method")->capture_default_str();
  c->add_option("--data", cfg.data, "target: built-in 2-D set or a .csv/.npy file")
      ->capture_default_str();
  c->add_option("--source", cfg.source, "x0 distribution: built-in or a file")
      ->capture_default_str();
  c->add_option("--steps", cfg.steps, "training steps")->capture_default_str();
  c->add_option("--batch", cfg.batch, "batch size")->capture_default_str();
  c->add_option("--lr", cfg.lr, "Adam learning rate")->capture_default_str();
  c->add_option("--warmup", cfg.warmup, "linear warm-up steps")->capture_default_str();
  c->add_option("--lr-decay", cfg.lr_decay, "after warm-up: cosine (to 0) or constant")
      ->capture_default_str();
  c->add_option("--precision", cfg.precision,
                "fp32, bf16 or fp16 products; f32 master weights (README: Mixed precision)")
      ->capture_default_str();
  c->add_option("--precision-measure", cfg.precision_measure,
                "true: a product stays f32 where its low-precision kernel is slower on this CPU; "
                "false: always low precision")
      ->capture_default_str();
  c->add_option("--loss-scale", cfg.loss_scale,
                "auto (dynamic for fp16), none, dynamic, or a fixed number such as 1000")
      ->capture_default_str();
  c->add_option("--seed", cfg.seed, "random seed")->capture_default_str();
  c->add_option("--hidden", cfg.model.hidden, "MLP width")->capture_default_str();
  c->add_option("--layers", cfg.model.layers, "MLP hidden layers")->capture_default_str();
  c->add_option("--activation", cfg.model.activation, "silu, relu, gelu or tanh")
      ->capture_default_str();
  c->add_flag("--compile", cfg.compile,
              "compile the training step (fused generated kernels; bit-identical results)");
}

solvers::OdeOptions ode_options(const std::string& solver, int steps) {
  solvers::OdeOptions o;
  o.method = solvers::method_from_name(solver);
  FX_CHECK(steps > 0, "--nfe/--ode-steps must be positive, got {}", steps);
  o.steps = steps;
  return o;
}

void print_quality(const run::SampleQuality& q, const std::string& label) {
  std::printf("%-10s %-6s NFE %5lld  sliced-W2 %.4f (floor %.4f)  MMD %.5f (floor %.5f)\n",
              label.c_str(), q.solver.c_str(), (long long)q.nfe, q.sw2, q.sw2_floor, q.mmd,
              q.mmd_floor);
}

void write_csv(const std::string& path, const Tensor& x) {
  std::string s;
  auto v = x.to_f32_vector();
  int64_t d = x.dim(1);
  for (int64_t i = 0; i < x.dim(0); ++i) {
    for (int64_t k = 0; k < d; ++k) s += fmt::format("{}{}", k ? "," : "", v[i * d + k]);
    s += "\n";
  }
  io::write_file_atomic(path, s);
}

struct DemoRow {
  std::string model;
  run::SampleQuality q;
  double straightness;
};

void demo(const std::string& out, int64_t steps, const std::string& data, uint64_t seed) {
  run::prepare_run_dir(out, false);
  io::write_file_atomic((fs::path(out) / "config.json").string(),
                        nlohmann::json{{"demo", true}, {"data", data}, {"steps", steps}}.dump(2));
  std::string d1 = (fs::path(out) / "rf1").string(), d2 = (fs::path(out) / "rf2").string();
  FlowRunConfig c1;
  c1.data = data;
  c1.steps = steps;
  c1.seed = seed;
  run::prepare_run_dir(d1, false);
  std::fprintf(stderr, "[1/4] training 1-rectified flow: gaussian -> %s, %lld steps\n",
               data.c_str(), (long long)steps);
  run::FlowRun rf1 = run::train_flow(c1, d1, false);
  std::fprintf(stderr, "[2/4] reflow: 20000 pairs (x0, ODE(x0)) from 1-RF with RK45\n");
  run::prepare_run_dir(d2, false);
  run::make_reflow_pairs(rf1, 20000, seed + 1, d2);
  FlowRunConfig c2 = c1;
  c2.round = 2;
  c2.parent = d1;
  c2.pairs = 20000;
  c2.warmup = 0;
  std::fprintf(stderr, "[3/4] training 2-rectified flow on the pairs\n");
  run::FlowRun rf2 = run::train_flow(c2, d2, false);
  std::fprintf(stderr, "[4/4] sampling, metrics and pictures\n");
  std::vector<DemoRow> rows;
  run::PointSource src(c1.source, rf1.cfg.model.dim);
  Tensor x0 = src.sample(2000, seed + 99);
  for (run::FlowRun* r : {&rf1, &rf2}) {
    double s = gen::straightness(*r->model, x0, 100);
    std::string name = fmt::format("{}-RF", r->cfg.round);
    rows.push_back({name, run::evaluate_flow(*r, ode_options("euler", 1), 4000, seed + 7), s});
    rows.push_back({name, run::evaluate_flow(*r, ode_options("rk45", 1), 4000, seed + 7), s});
  }
  write_flow_pictures(rf1, d1, seed);
  write_flow_pictures(rf2, d2, seed);

  std::string table =
      "| model | solver | NFE | sliced-W2 | floor | MMD² | floor | straightness |\n"
      "|---|---|---|---|---|---|---|---|\n";
  std::printf("\n%-6s %-6s %5s %10s %10s %10s %10s %12s\n", "model", "solver", "NFE", "sliced-W2",
              "floor", "MMD2", "floor", "straightness");
  for (const DemoRow& r : rows) {
    std::printf("%-6s %-6s %5lld %10.4f %10.4f %10.5f %10.5f %12.4f\n", r.model.c_str(),
                r.q.solver.c_str(), (long long)r.q.nfe, r.q.sw2, r.q.sw2_floor, r.q.mmd,
                r.q.mmd_floor, r.straightness);
    table += fmt::format("| {} | {} | {} | {:.4f} | {:.4f} | {:.5f} | {:.5f} | {:.4f} |\n", r.model,
                         r.q.solver, r.q.nfe, r.q.sw2, r.q.sw2_floor, r.q.mmd, r.q.mmd_floor,
                         r.straightness);
  }
  std::string report = fmt::format(
      "# fluxion demo: rectified flow and reflow, gaussian → {}\n\n"
      "1-rectified flow trained {} steps (MLP 3×256 SiLU, batch 1024, Adam 1e-3); 2-rectified "
      "flow trained {} steps on 20,000 pairs (x0, ODE₁(x0)) starting from the 1-RF weights. "
      "Metrics on 4,000 samples against fresh data; the floor is the same metric between two "
      "independent data samples. Straightness = E‖(x1−x0) − v(x_t,t)‖² along the model's own "
      "Euler path (100 steps): 0 means straight.\n\n{}\n"
      "## 1-rectified flow\n\nSamples (blue, RK45) over data (grey) · trajectories (Euler 50 "
      "steps) · loss\n\n![](rf1/samples.png) ![](rf1/trajectories.png)\n\n![](rf1/loss.png)\n\n"
      "## 2-rectified flow (after reflow)\n\n![](rf2/samples.png) ![](rf2/trajectories.png)\n\n"
      "![](rf2/loss.png)\n",
      data, steps, steps, table);
  io::write_file_atomic((fs::path(out) / "report.md").string(), report);
  std::printf("\nreport: %s/report.md\n", out.c_str());
}

}  // namespace

void add_flow_commands(CLI::App& app) {
  // train
  {
    auto cfg = std::make_shared<FlowRunConfig>();
    auto out = std::make_shared<std::string>("runs/rf");
    auto resume = std::make_shared<bool>(false);
    CLI::App* c = app.add_subcommand("train", "train a rectified flow (1-RF) into a run folder");
    add_train_options(c, *cfg);
    c->add_option("--out", *out, "run folder")->capture_default_str();
    c->add_flag("--resume", *resume, "continue the run in --out");
    auto stop_after = std::make_shared<int64_t>(0);
    c->add_option("--stop-after", *stop_after,
                  "checkpoint and stop after this step (finish later with --resume)");
    c->callback([=] {
      FX_CHECK(*stop_after >= 0, "--stop-after must be >= 0, got {}", *stop_after);
      run::prepare_run_dir(*out, *resume);
      run::FlowRun r = run::train_flow(*cfg, *out, *resume, false, *stop_after);
      run::write_flow_pictures(r, *out, cfg->seed);
      std::printf("trained %lld steps; checkpoint %s/model.safetensors\n", (long long)r.step,
                  out->c_str());
    });
  }
  // reflow
  {
    auto from = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto pairs = std::make_shared<int64_t>(20000);
    auto steps = std::make_shared<int64_t>(3000);
    auto distill = std::make_shared<bool>(false);
    auto resume = std::make_shared<bool>(false);
    auto compile = std::make_shared<bool>(false);
    CLI::App* c = app.add_subcommand(
        "reflow",
        "train a (k+1)-rectified flow (or a one-step distilled model) on ODE pairs of a run");
    c->add_option("--from", *from, "run folder of the k-rectified flow")->required();
    c->add_option("--out", *out, "new run folder")->required();
    c->add_option("--pairs", *pairs, "number of (x0, ODE(x0)) pairs")->capture_default_str();
    c->add_option("--steps", *steps, "training steps")->capture_default_str();
    c->add_flag("--distill", *distill, "train a one-step generator (t = 0) instead");
    c->add_flag("--resume", *resume, "continue the run in --out");
    c->add_flag("--compile", *compile, "compile the training step (bit-identical results)");
    c->callback([=] {
      run::FlowRun parent = run::load_flow(*from);
      run::prepare_run_dir(*out, *resume);
      if (!*resume) run::make_reflow_pairs(parent, *pairs, parent.cfg.seed + 1, *out);
      FlowRunConfig cfg = parent.cfg;
      cfg.round = parent.cfg.round + (*distill ? 0 : 1);
      cfg.parent = *from;
      cfg.pairs = *pairs;
      cfg.steps = *steps;
      cfg.distill = *distill;
      cfg.warmup = 0;
      cfg.compile = *compile;
      run::FlowRun r = run::train_flow(cfg, *out, *resume);
      run::write_flow_pictures(r, *out, cfg.seed);
      std::printf("trained %lld steps; checkpoint %s/model.safetensors\n", (long long)r.step,
                  out->c_str());
    });
  }
  // sample / eval
  for (bool is_eval : {false, true}) {
    auto dir = std::make_shared<std::string>();
    auto solver = std::make_shared<std::string>("rk45");
    auto nfe = std::make_shared<int>(100);
    auto n = std::make_shared<int64_t>(2000);
    auto seed = std::make_shared<uint64_t>(1);
    auto out = std::make_shared<std::string>("samples.csv");
    CLI::App* c = app.add_subcommand(is_eval ? "eval" : "sample",
                                     is_eval ? "sample and compare with the data (sliced-W2, MMD)"
                                             : "sample points from a trained run into a CSV file");
    c->add_option("--run", *dir, "run folder")->required();
    c->add_option("--solver", *solver, "euler, heun, rk4 or rk45")->capture_default_str();
    c->add_option("--ode-steps", *nfe, "steps of a fixed-step solver")->capture_default_str();
    c->add_option("-n,--num", *n, "number of samples")->capture_default_str();
    c->add_option("--seed", *seed, "random seed")->capture_default_str();
    if (!is_eval) c->add_option("--out", *out, "CSV file to write")->capture_default_str();
    auto precision = std::make_shared<std::string>("fp32");
    c->add_option("--precision", *precision, "fp32, bf16 or fp16 products")->capture_default_str();
    auto compile = std::make_shared<bool>(false);
    c->add_flag("--compile", *compile,
                "run the network compiled (bit-identical; pays off for large -n or many steps)");
    c->callback([=] {
      FX_CHECK(*n > 1, "--num must be at least 2, got {}", *n);
      run::FlowRun r = run::load_flow(*dir);
      r.sampling_precision.precision = amp::precision_from_name(*precision);
      r.sampling_compile = *compile;
      Tensor samples;
      auto q = run::evaluate_flow(r, ode_options(*solver, *nfe), *n, *seed, &samples);
      print_quality(q, fmt::format("{}-RF", r.cfg.round));
      if (!is_eval) {
        write_csv(*out, samples);
        std::printf("wrote %lld points to %s\n", (long long)samples.dim(0), out->c_str());
      }
    });
  }
  // demo: the README's main job
  {
    auto out = std::make_shared<std::string>("runs/demo");
    auto steps = std::make_shared<int64_t>(3000);
    auto data = std::make_shared<std::string>("moons");
    auto seed = std::make_shared<uint64_t>(0);
    CLI::App* c = app.add_subcommand(
        "demo", "train 1-RF, reflow to 2-RF, sample with 1 Euler step and RK45, write a report");
    c->add_option("--out", *out, "output folder")->capture_default_str();
    c->add_option("--steps", *steps, "training steps per model")->capture_default_str();
    c->add_option("--data", *data, "built-in 2-D target")->capture_default_str();
    c->add_option("--seed", *seed, "random seed")->capture_default_str();
    c->callback([=] { demo(*out, *steps, *data, *seed); });
  }
}

}  // namespace fx::cli
