// `fluxion compare-precision`: the same rectified-flow run in fp32, bf16 and fp16 (same seed,
// data and steps), with loss curves overlaid in one picture and a table of final loss and
// sample quality beside fp32's — the evidence that mixed precision tracks full precision.
// `--method ddpm` does the same for the Fashion-MNIST DDPM (precision_ddpm.cpp).
#include <filesystem>
#include <memory>
#include <sstream>

#include "commands.h"
#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/plot.h"
#include "fluxion/run/flow_run.h"
#include "precision_compare.h"

namespace fx::cli {
namespace {

namespace fs = std::filesystem;

struct PrecisionRow {
  std::string precision;
  double final_loss = 0;  // mean of the last quarter of the logged losses
  run::SampleQuality quality;
  int64_t skipped = 0;
  double seconds = 0;
  std::string decisions;
};

void compare_precision(const run::FlowRunConfig& base, const std::string& out,
                       const std::vector<std::string>& precisions) {
  run::prepare_run_dir(out, false);
  io::write_file_atomic(
      (fs::path(out) / "config.json").string(),
      nlohmann::json{{"compare_precision", precisions}, {"base", base.to_json()}}.dump(2));
  std::vector<PrecisionRow> rows;
  io::LinePanel curves{"training loss by precision", "step", "loss", {}, true};
  for (const std::string& p : precisions) {
    run::FlowRunConfig cfg = base;
    cfg.precision = p;
    const std::string dir = (fs::path(out) / p).string();
    std::fprintf(stderr, "[%s] training %lld steps\n", p.c_str(), (long long)cfg.steps);
    run::prepare_run_dir(dir, false);
    run::FlowRun r = run::train_flow(cfg, dir, false);
    run::write_flow_pictures(r, dir, cfg.seed);
    r.sampling_precision = run::precision_policy(cfg);
    solvers::OdeOptions rk;
    rk.method = solvers::Method::rk45;
    PrecisionRow row{p};
    row.quality = run::evaluate_flow(r, rk, 4000, cfg.seed + 7);
    run::LossCurve c = run::read_loss_curve(dir);
    row.final_loss = tail_mean(c.losses);
    row.seconds = r.train_seconds;
    row.decisions = r.precision_report;
    std::ifstream m((fs::path(dir) / "metrics.jsonl").string());
    for (std::string line; std::getline(m, line);)
      if (auto j = nlohmann::json::parse(line, nullptr, false); j.contains("skipped_steps"))
        row.skipped = j["skipped_steps"].get<int64_t>();
    curves.curves.push_back({c.losses, c.steps, p});
    rows.push_back(row);
  }
  io::save_figure((fs::path(out) / "loss_curves.png").string(), {curves}, 720, 400);

  const PrecisionRow& ref = rows.front();
  std::ostringstream table;
  table << "| precision | final loss | vs " << ref.precision << " | sliced-W2 (RK45) | floor | vs "
        << ref.precision << " | skipped steps | train s |\n|---|---|---|---|---|---|---|---|\n";
  for (const PrecisionRow& r : rows)
    table << fmt::format("| {} | {:.4f} | {:+.1f}% | {:.4f} | {:.4f} | {:+.1f}% | {} | {:.1f} |\n",
                         r.precision, r.final_loss, 100 * (r.final_loss / ref.final_loss - 1),
                         r.quality.sw2, r.quality.sw2_floor,
                         100 * (r.quality.sw2 / ref.quality.sw2 - 1), r.skipped, r.seconds);
  std::string decisions;
  for (const PrecisionRow& r : rows)
    if (!r.decisions.empty())
      decisions += fmt::format("### {}\n\n```\n{}```\n\n", r.precision, r.decisions);
  std::printf("\n%s", table.str().c_str());
  const std::string report = fmt::format(
      "# Mixed precision: rectified flow, {} → {}, {} steps, same seed\n\n{}\n"
      "\"final loss\" is the mean of the last quarter of the logged losses; sliced-W2 uses 4,000 "
      "RK45 samples drawn in the run's own precision.\n\n![](loss_curves.png)\n\n"
      "## What the precision pass chose\n\nEach matrix product of the step (forward and "
      "backward), with its measured time in f32 and in low precision on this CPU; a product "
      "stays f32 where that is faster.\n\n{}",
      base.source, base.data, base.steps, table.str(), decisions);
  io::write_file_atomic((fs::path(out) / "report.md").string(), report);
  std::printf("report: %s/report.md\n", out.c_str());
}

}  // namespace

void add_precision_commands(CLI::App& app) {
  auto cfg = std::make_shared<run::FlowRunConfig>();
  auto out = std::make_shared<std::string>("runs/precision");
  auto precisions =
      std::make_shared<std::vector<std::string>>(std::vector<std::string>{"fp32", "bf16", "fp16"});
  CLI::App* c = app.add_subcommand(
      "compare-precision",
      "train the same rectified flow in fp32, bf16 and fp16; overlay the loss curves");
  c->add_option("--data", cfg->data, "target: built-in 2-D set or a .csv/.npy file")
      ->capture_default_str();
  c->add_option("--source", cfg->source, "x0 distribution")->capture_default_str();
  c->add_option("--steps", cfg->steps, "training steps per run (ddpm: default 800)")
      ->capture_default_str();
  c->add_option("--batch", cfg->batch, "batch size (ddpm: default 64)")->capture_default_str();
  c->add_option("--seed", cfg->seed, "random seed (the same for every run)")->capture_default_str();
  c->add_option("--precisions", *precisions, "runs to compare; the first is the reference")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--out", *out, "output folder")->capture_default_str();
  cfg->precision_measure = false;
  c->add_option("--precision-measure", cfg->precision_measure,
                "false (default here): every product really runs in low precision, to compare "
                "the arithmetic; true: keep f32 where it is faster on this CPU")
      ->capture_default_str();
  // --method ddpm: the U-Net of `train --method ddpm` with the schedule of
  // scripts/ddpm_fmnist.sh, scored with DDIM after training.
  auto method = std::make_shared<std::string>("rectified-flow");
  auto ddpm = std::make_shared<run::DdpmRunConfig>();
  ddpm->lr = 5e-4;
  ddpm->warmup = 100;
  ddpm->lr_decay = "cosine";
  ddpm->ema = 0.99;
  ddpm->checkpoint_every = 1000000;  // the comparison does not resume
  auto ddpm_opts = std::make_shared<DdpmPrecisionOptions>();
  c->add_option("--method", *method, "rectified-flow, or ddpm (Fashion-MNIST U-Net)")
      ->check(CLI::IsMember({"rectified-flow", "ddpm"}))
      ->capture_default_str();
  c->add_option("--lr", ddpm->lr, "ddpm: Adam learning rate")->capture_default_str();
  c->add_option("--warmup", ddpm->warmup, "ddpm: linear warm-up steps")->capture_default_str();
  c->add_option("--ema", ddpm->ema, "ddpm: EMA decay of the sampling weights")
      ->capture_default_str();
  c->add_flag("--compile", ddpm->compile, "ddpm: run the training step compiled");
  c->add_option("--data-dir", ddpm->data_dir, "ddpm: Fashion-MNIST folder");
  c->add_option("--eval-n", ddpm_opts->eval_n, "ddpm: images sampled and scored per precision")
      ->capture_default_str();
  c->add_option("--eval-steps", ddpm_opts->eval_steps, "ddpm: DDIM steps of the scored samples")
      ->capture_default_str();
  c->callback([=] {
    FX_CHECK(!precisions->empty(), "--precisions is empty");
    for (const std::string& p : *precisions) amp::precision_from_name(p);
    if (*method == "rectified-flow") return compare_precision(*cfg, *out, *precisions);
    FX_CHECK(ddpm_opts->eval_n >= 2, "--eval-n must be at least 2, got {}", ddpm_opts->eval_n);
    run::DdpmRunConfig d = *ddpm;
    d.steps = c->count("--steps") ? cfg->steps : 800;
    d.batch = c->count("--batch") ? cfg->batch : 64;
    d.seed = cfg->seed;
    d.precision_measure = cfg->precision_measure;
    compare_precision_ddpm(d, *out, *precisions, *ddpm_opts);
  });
}

}  // namespace fx::cli
