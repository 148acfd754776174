#include "fluxion/train/train_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/train/checkpoint.h"
#include "fluxion/train/metrics_log.h"
#include "fluxion/train/run_folder.h"
#include "fluxion/util/progress.h"

namespace fx::train {

using json = nlohmann::json;

namespace {

OptionSet declared_options(methods::Method& m, TrainConfig& t) {
  OptionSet o;
  t.declare(o);
  m.declare(o);
  return o;
}

std::map<std::string, Tensor*> parameter_targets(methods::Method& m) {
  std::map<std::string, Tensor*> to;
  for (auto& [name, p] : m.parameters()) to[name] = &p->value;
  return to;
}

// The resume rule, the same for every method: every option as in config.json except
// `steps` (a run may be extended); how-options (--compile) are not in the config at all.
void check_resume_config(const json& saved, const json& now, const std::string& file) {
  std::vector<std::string> diffs;
  for (auto& [k, v] : now.items()) {
    if (k == "steps" || k == "fluxion_version") continue;
    auto it = saved.find(k);
    if (it == saved.end())
      diffs.push_back(fmt::format("{} (not in the run, now {})", k, v.dump()));
    else if (*it != v)
      diffs.push_back(fmt::format("{} (run {}, now {})", k, it->dump(), v.dump()));
  }
  FX_CHECK(diffs.empty(), "--resume: the options differ from {} (only --steps may change): {}",
           file, fmt::join(diffs, ", "));
}

// The first steps pay for tracing, compiling and oneDNN's primitive setup: left out.
void report_step_times(std::vector<double> ms) {
  if (ms.size() <= 5) return;
  ms.erase(ms.begin(), ms.begin() + 5);
  std::sort(ms.begin(), ms.end());
  std::fprintf(stderr, "train step median %.2f ms (p10 %.2f, p90 %.2f) over %zu steps\n",
               ms[ms.size() / 2], ms[ms.size() / 10], ms[ms.size() * 9 / 10], ms.size());
}

void load_initial_weights(methods::Method& m, const std::string& run_dir) {
  FX_CHECK(has_checkpoint(run_dir), "--init-from: {} holds no checkpoint ({})", run_dir,
           kCheckpointFile);
  Checkpoint c = load_checkpoint(run_dir);
  std::string file = run_dir + "/" + kCheckpointFile;
  FX_CHECK(c.method.empty() || c.method == m.name(),
           "--init-from: {} is a checkpoint of method '{}', not '{}'", file, c.method, m.name());
  restore_tensors(parameter_targets(m), c.weights, file);
}

}  // namespace

json run_config(methods::Method& m, TrainConfig& t) {
  json j = declared_options(m, t).to_json();
  j["method"] = m.name();
  j["fluxion_version"] = FLUXION_VERSION;
  return j;
}

TrainRunResult train_run(methods::Method& m, const methods::RunContext& ctx_in,
                         const TrainRunOptions& opts) {
  methods::RunContext ctx = ctx_in;
  ctx.train.validate();
  m.validate(ctx.train);
  FX_CHECK(opts.stop_after >= 0, "--stop-after must not be negative, got {}", opts.stop_after);
  RunFolder folder(ctx.dir, opts.resume);
  json config = run_config(m, ctx.train);
  if (!opts.init_from.empty()) config[kInitFromKey] = opts.init_from;
  if (opts.resume) {
    json saved = read_run_config(ctx.dir);
    check_resume_config(saved, config, folder.path("config.json"));
    int64_t saved_steps = saved.value("steps", ctx.train.steps);
    if (saved_steps != ctx.train.steps && ctx.train.lr_decay == "cosine" && !ctx.quiet)
      std::fprintf(stderr,
                   "note: --steps changed from %lld to %lld; the cosine learning-rate schedule "
                   "now decays over the new length\n",
                   (long long)saved_steps, (long long)ctx.train.steps);
  }

  m.build(ctx);
  // Before the learner exists, so that what it derives from the weights (an EMA) starts from
  // the warm weights too.
  if (!opts.init_from.empty()) load_initial_weights(m, opts.init_from);
  std::unique_ptr<Learner> learner = m.learner(ctx);
  int64_t step = 0;
  // A run killed before its first checkpoint has a config but no weights: it starts afresh.
  if (opts.resume && has_checkpoint(ctx.dir)) {
    Checkpoint c = load_checkpoint(ctx.dir);
    std::string file = folder.path(kCheckpointFile);
    FX_CHECK(c.method.empty() || c.method == m.name(), "{}: a checkpoint of method '{}', not '{}'",
             file, c.method, m.name());
    restore_tensors(parameter_targets(m), c.weights, file);
    learner->set_state(c.state, c.step);
    step = c.step;
  }
  write_run_config(ctx.dir, config);

  MetricsLog log(ctx.dir, step);
  util::Progress bar("train " + m.name(), ctx.train.steps);
  const optim::Schedule schedule = ctx.train.schedule();
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const int64_t last =
      opts.stop_after > 0 ? std::min(opts.stop_after, ctx.train.steps) : ctx.train.steps;
  // Mean of each metric over the steps since the last log line (per key: some metrics, such
  // as held-out accuracy, come only on some steps).
  std::vector<std::pair<std::string, std::pair<double, int64_t>>> sums;
  TrainRunResult result;
  std::vector<double> step_ms;
  json last_line;
  while (step < last) {
    const int64_t s = step + 1;
    const auto step_start = std::chrono::steady_clock::now();
    StepMetrics metrics = learner->step(s);
    step_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - step_start)
            .count());
    step = s;
    for (auto& [k, v] : metrics) {
      auto it = std::find_if(sums.begin(), sums.end(), [&](auto& e) { return e.first == k; });
      if (it == sums.end())
        sums.push_back({k, {v, 1}});
      else
        it->second.first += v, ++it->second.second;
    }
    if (!metrics.empty() && metrics.front().first == "loss")
      result.last_loss = metrics.front().second;
    if (s % ctx.train.log_every == 0 || s == last || learner->log_now(s)) {
      json line{{"step", s}};
      for (auto& [k, sum] : sums) line[k] = sum.first / (double)sum.second;
      line["lr"] = schedule.lr_at(s);
      line["elapsed_s"] = elapsed();
      learner->log_fields(line);
      log.write(line);
      last_line = line;
      sums.clear();
    }
    if (!ctx.quiet) bar.update(s, util::ProgressFields(metrics.begin(), metrics.end()));
    if (s % ctx.train.checkpoint_every == 0 || s == last) {
      Checkpoint c;
      c.step = s;
      c.method = m.name();
      for (auto& [name, p] : m.parameters()) c.weights[name] = p->value;
      c.state = learner->state();
      c.metadata["config"] = config.dump();
      save_checkpoint(ctx.dir, c);
      folder.commit();
    }
  }
  if (!ctx.quiet) {
    bar.finish();
    report_step_times(step_ms);
    if (last_line.contains("loss_scale"))
      std::fprintf(stderr, "loss scale %g, %lld steps skipped for Inf/NaN gradients\n",
                   last_line["loss_scale"].get<double>(),
                   (long long)last_line.value("skipped_steps", (int64_t)0));
  }
  folder.commit();
  result.step = step;
  result.seconds = elapsed();
  result.precision_report = learner->precision_report();
  if (!result.precision_report.empty())
    io::write_file_atomic(folder.path("precision.txt"), result.precision_report);
  m.after_training(ctx, *learner);
  return result;
}

int64_t load_run(methods::Method& m, methods::RunContext& ctx) {
  json j = read_run_config(ctx.dir);
  std::string file = ctx.dir + "/config.json";
  FX_CHECK(j.value("method", "") == m.name(), "{}: a run of method '{}', not '{}'", file,
           j.value("method", std::string("?")), m.name());
  j.erase("method");
  j.erase("fluxion_version");
  j.erase(kInitFromKey);             // how the weights started, not an option of the model
  bool compile = ctx.train.compile;  // how to run, not part of the run
  OptionSet o = declared_options(m, ctx.train);
  o.from_json(j, file);
  ctx.train.compile = compile;
  ctx.train.validate();
  m.validate(ctx.train);
  m.build(ctx);
  Checkpoint c = load_checkpoint(ctx.dir);
  restore_tensors(parameter_targets(m), c.weights, ctx.dir + "/" + kCheckpointFile);
  m.loaded(c);
  return c.step;
}

}  // namespace fx::train
