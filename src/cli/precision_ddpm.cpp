// `fluxion compare-precision --method ddpm`: the Fashion-MNIST DDPM trained in fp32, bf16 and
// fp16 from the same seed and batches, loss curves overlaid, each run scored with DDIM
// (FD-FMNIST, k-NN precision/recall) beside fp32's — issue #6's "within 5% of fp32" check.
#include <chrono>
#include <filesystem>
#include <sstream>

#include "fluxion/io/atomic_file.h"
#include "fluxion/io/plot.h"
#include "fluxion/run/ddpm_eval.h"
#include "fluxion/run/flow_run.h"
#include "precision_compare.h"

namespace fx::cli {

namespace fs = std::filesystem;

namespace {

struct DdpmPrecisionRow {
  std::string precision;
  double final_loss = 0;
  run::DdpmEvalResult eval;
  int64_t skipped = 0;
  double seconds = 0;
  std::string weights;  // "EMA" or "raw": what the samples were drawn with
};

std::string pct(double v, double ref) { return fmt::format("{:+.1f}%", 100 * (v / ref - 1)); }

}  // namespace

void compare_precision_ddpm(const run::DdpmRunConfig& base, const std::string& out,
                            const std::vector<std::string>& precisions,
                            const DdpmPrecisionOptions& o) {
  run::prepare_run_dir(out, false);
  io::write_file_atomic((fs::path(out) / "config.json").string(),
                        nlohmann::json{{"compare_precision", precisions},
                                       {"eval_n", o.eval_n},
                                       {"eval_ddim_steps", o.eval_steps},
                                       {"base", base.to_json()}}
                            .dump(2));
  std::vector<DdpmPrecisionRow> rows;
  io::LinePanel curves{
      "DDPM training loss by precision", "step", "loss (mean over 50 steps)", {}, true};
  std::string decisions;
  for (const std::string& p : precisions) {
    run::DdpmRunConfig cfg = base;
    cfg.precision = p;
    const std::string dir = (fs::path(out) / p).string();
    std::fprintf(stderr, "[%s] training %lld steps\n", p.c_str(), (long long)cfg.steps);
    run::prepare_run_dir(dir, false);
    auto t0 = std::chrono::steady_clock::now();
    run::DdpmRun r = run::train_ddpm(cfg, dir, false);
    DdpmPrecisionRow row{p};
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<double> steps, losses;
    for (const run::DdpmLossRow& l : run::read_ddpm_loss(dir)) {
      steps.push_back(double(l.step));
      losses.push_back(l.loss);
      row.skipped = l.skipped_steps;  // cumulative: the last row's count is the run's
    }
    row.final_loss = tail_mean(losses);
    curves.curves.push_back({losses, steps, p});
    run::DdpmEvalOptions eo;
    eo.n = o.eval_n;
    eo.sampler.method = "ddim";
    eo.sampler.steps = o.eval_steps;
    eo.sampler.batch = std::min<int64_t>(250, o.eval_n);
    eo.data_dir = cfg.data_dir;
    eo.sampler.precision.precision = amp::precision_from_name(p);  // sampled as trained
    eo.sampler.precision.measure = cfg.precision_measure;
    std::fprintf(stderr, "[%s] scoring %lld DDIM-%lld samples\n", p.c_str(), (long long)o.eval_n,
                 (long long)o.eval_steps);
    row.eval = run::evaluate_ddpm(r, dir, eo);
    row.weights = run::uses_ema(r, false) ? "EMA" : "raw";
    if (!r.precision_report.empty())
      decisions += fmt::format("### {}\n\n```\n{}```\n\n", p, r.precision_report);
    rows.push_back(row);
  }
  io::save_figure((fs::path(out) / "loss_curves.png").string(), {curves}, 720, 400);

  const DdpmPrecisionRow& ref = rows.front();
  std::ostringstream t;
  t << "| precision | final loss | vs " << ref.precision << " | FD-FMNIST (floor) | vs "
    << ref.precision << " | precision | recall | skipped steps | "
    << "train + eval s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const DdpmPrecisionRow& r : rows) {
    const run::ImageScores& s = r.eval.scores;
    t << fmt::format(
        "| {} | {:.4f} | {} | {:.2f} ({:.2f}) | {} | {:.3f} | {:.3f} | {} | {:.0f} |\n",
        r.precision, r.final_loss, pct(r.final_loss, ref.final_loss), s.fd, r.eval.floor.fd,
        pct(s.fd, ref.eval.scores.fd), s.precision, s.recall, r.skipped,
        r.seconds + r.eval.seconds);
  }
  std::printf("\n%s", t.str().c_str());
  const std::string report = fmt::format(
      "# Mixed precision: DDPM on Fashion-MNIST, {} steps of batch {}, same seed\n\n{}\n"
      "\"final loss\" is the mean of the last quarter of the logged losses (each a mean over 50 "
      "steps). Scores: {} DDIM-{} samples (eta 0, {} weights, drawn in the run's own precision) "
      "against {} test images; the floor is "
      "{} training images scored the same way. Products {} in low precision.\n\n"
      "![](loss_curves.png)\n\n## What the precision pass chose\n\n{}",
      base.steps, base.batch, t.str(), o.eval_n, o.eval_steps, ref.weights, o.eval_n, o.eval_n,
      base.precision_measure ? "run where measured faster on this CPU" : "all run",
      decisions.empty() ? std::string("(fp32 only)\n") : decisions);
  io::write_file_atomic((fs::path(out) / "report.md").string(), report);
  std::printf("report: %s/report.md\n", out.c_str());
}

}  // namespace fx::cli
