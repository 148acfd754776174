#include "fluxion/experiments/compare_precision.h"

#include <filesystem>
#include <sstream>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/plot.h"
#include "fluxion/methods/registry.h"
#include "fluxion/train/metrics_log.h"
#include "fluxion/train/train_loop.h"

namespace fx::experiments {

namespace fs = std::filesystem;
using json = nlohmann::json;

double tail_mean(const std::vector<double>& v) {
  FX_CHECK(!v.empty(), "no losses were logged");
  size_t from = v.size() - std::max<size_t>(1, v.size() / 4);
  double s = 0;
  for (size_t i = from; i < v.size(); ++i) s += v[i];
  return s / double(v.size() - from);
}

namespace {
struct Row {
  std::string precision;
  double final_loss = 0, seconds = 0;
  int64_t skipped = 0;
  json scores;
  std::string decisions;
};
}  // namespace

void compare_precision(methods::Method& base, const train::TrainConfig& train_cfg,
                       const ComparePrecisionOptions& o) {
  FX_CHECK(!o.precisions.empty(), "--precisions is empty");
  for (const std::string& p : o.precisions) amp::precision_from_name(p);
  FX_CHECK(o.eval_n >= 2, "--eval-n must be at least 2, got {}", o.eval_n);
  FX_CHECK(!fs::exists(fs::path(o.out) / "report.md"),
           "output folder '{}' already holds a comparison; choose another --out", o.out);
  train::OptionSet base_options, base_sampling;
  base.declare(base_options);
  base.declare_sampling(base_sampling);
  const json method_options = base_options.to_json(), sampling = base_sampling.to_json();

  std::vector<Row> rows;
  io::LinePanel curves{"training loss by precision", "step", "loss", {}, true};
  for (const std::string& p : o.precisions) {
    auto m = methods::make_method(base.name());
    train::OptionSet set, sampling_set;
    m->declare(set);
    set.from_json(method_options, "compare-precision");
    m->declare_sampling(sampling_set);
    sampling_set.from_json(sampling, "compare-precision");
    methods::RunContext ctx{(fs::path(o.out) / p).string(), train_cfg};
    ctx.train.precision = p;
    ctx.sample_precision = p;
    std::fprintf(stderr, "[%s] training %lld steps\n", p.c_str(), (long long)ctx.train.steps);
    auto result = train::train_run(*m, ctx, {});
    Row row{p};
    row.seconds = result.seconds;
    row.decisions = result.precision_report;
    row.scores = m->evaluate(ctx, o.eval_n, ctx.train.seed + 7);
    auto lines = train::read_metrics(ctx.dir);
    std::vector<double> steps, losses;
    train::metric_column(lines, "loss", steps, losses);
    row.final_loss = tail_mean(losses);
    for (const json& l : lines) row.skipped = l.value("skipped_steps", row.skipped);
    curves.curves.push_back({losses, steps, p});
    rows.push_back(row);
  }
  io::save_figure((fs::path(o.out) / "loss_curves.png").string(), {curves}, 720, 400);

  // Columns: the scores the method reports that are numbers (floors included).
  std::vector<std::string> keys;
  for (auto& [k, v] : rows.front().scores.items())
    if (v.is_number_float()) keys.push_back(k);
  const Row& ref = rows.front();
  std::ostringstream table;
  table << "| precision | final loss | vs " << ref.precision << " |";
  for (auto& k : keys) table << " " << k << " |";
  table << " skipped steps | train s |\n|---|---|---|";
  for (size_t i = 0; i < keys.size(); ++i) table << "---|";
  table << "---|---|\n";
  for (const Row& r : rows) {
    table << fmt::format("| {} | {:.4f} | {:+.1f}% |", r.precision, r.final_loss,
                         100 * (r.final_loss / ref.final_loss - 1));
    for (auto& k : keys) table << fmt::format(" {:.5g} |", r.scores.value(k, 0.0));
    table << fmt::format(" {} | {:.1f} |\n", r.skipped, r.seconds);
  }
  std::string decisions;
  for (const Row& r : rows)
    if (!r.decisions.empty())
      decisions += fmt::format("### {}\n\n```\n{}```\n\n", r.precision, r.decisions);
  std::printf("\n%s", table.str().c_str());
  const std::string report = fmt::format(
      "# Mixed precision: {}, {} steps, same seed\n\n{}\n"
      "\"final loss\" is the mean of the last quarter of the logged losses; the scores use {} "
      "samples drawn in the run's own precision.\n\n![](loss_curves.png)\n\n"
      "## What the precision pass chose\n\nEach matrix product of the step (forward and "
      "backward), with its measured time in f32 and in low precision on this CPU; a product "
      "stays f32 where that is faster (unless --precision-measure false).\n\n{}",
      base.name(), train_cfg.steps, table.str(), o.eval_n, decisions);
  io::write_file_atomic((fs::path(o.out) / "report.md").string(), report);
  std::printf("report: %s/report.md\n", o.out.c_str());
}

}  // namespace fx::experiments
