#include "fluxion/train/train_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>

#include "fluxion/core/error.h"
#include "fluxion/dist/consistency.h"
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

void report_data_parallel(const Learner& l, int ranks) {
  optim::DataParallelStats st = l.data_parallel_stats();
  if (st.timed_steps == 0) return;
  std::fprintf(stderr,
               "data-parallel: %d ranks, one allreduce of %lld floats (%.3f MB) per step, "
               "%.3f ms per step on rank 0\n",
               ranks, (long long)st.floats_per_step, st.floats_per_step * 4e-6,
               1e3 * st.allreduce_seconds / (double)st.timed_steps);
}

// Weights and learner state, in a fixed order (parameters as listed, state by name).
std::vector<Tensor*> replicated_tensors(methods::Method& m, std::map<std::string, Tensor>& st) {
  std::vector<Tensor*> ts;
  for (auto& [name, p] : m.parameters()) ts.push_back(&p->value);
  for (auto& [name, t] : st) ts.push_back(&t);
  return ts;
}

uint64_t replica_hash(methods::Method& m, const Learner& l) {
  std::map<std::string, Tensor> st = l.state();
  std::vector<const Tensor*> ts;
  for (Tensor* t : replicated_tensors(m, st)) ts.push_back(t);
  return dist::tensors_hash(ts);
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
  FX_CHECK(opts.replica_check_every >= 0, "--replica-check-every must not be negative, got {}",
           opts.replica_check_every);
  // Data-parallel (mpirun): every rank trains; rank 0 alone owns the run folder, the log and
  // the progress bar. The others read nothing from it: rank 0 sends them its weights.
  dist::Communicator& world = dist::world();
  const bool lead = world.rank() == 0, several = world.size() > 1;
  if (!lead) ctx.quiet = true;
  json config = run_config(m, ctx.train);
  if (!opts.init_from.empty()) config[kInitFromKey] = opts.init_from;
  if (several) dist::check_same_run(world, dist::run_identity(config));
  std::optional<RunFolder> folder_slot;
  if (lead) folder_slot.emplace(ctx.dir, opts.resume);
  if (lead && opts.resume) {
    json saved = read_run_config(ctx.dir);
    check_resume_config(saved, config, folder_slot->path("config.json"));
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
  if (lead && opts.resume && has_checkpoint(ctx.dir)) {
    Checkpoint c = load_checkpoint(ctx.dir);
    std::string file = folder_slot->path(kCheckpointFile);
    FX_CHECK(c.method.empty() || c.method == m.name(), "{}: a checkpoint of method '{}', not '{}'",
             file, c.method, m.name());
    restore_tensors(parameter_targets(m), c.weights, file);
    learner->set_state(c.state, c.step);
    step = c.step;
  }
  if (several) {  // the checkpoint holds no rank: any number of ranks resumes it
    std::string s = std::to_string(step);
    world.broadcast(s, 0);
    step = std::stoll(s);
    std::map<std::string, Tensor> st = learner->state();
    dist::broadcast_tensors(world, replicated_tensors(m, st), "resume");
    if (!lead && step > 0) learner->set_state(st, step);
    if (lead && !learner->data_parallel() && !ctx.quiet)
      std::fprintf(stderr,
                   "note: %s has no data-parallel step: each of the %d ranks runs every step "
                   "whole\n",
                   m.name().c_str(), world.size());
  }
  if (lead) write_run_config(ctx.dir, config);

  std::optional<MetricsLog> log_slot;
  if (lead) log_slot.emplace(ctx.dir, step);
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
    if (several && opts.replica_check_every > 0 && (s % opts.replica_check_every == 0 || s == last))
      dist::check_replicas_agree(world, replica_hash(m, *learner), s);
    if (lead && (s % ctx.train.log_every == 0 || s == last || learner->log_now(s))) {
      json line{{"step", s}};
      for (auto& [k, sum] : sums) line[k] = sum.first / (double)sum.second;
      line["lr"] = schedule.lr_at(s);
      line["elapsed_s"] = elapsed();
      learner->log_fields(line);
      log_slot->write(line);
      last_line = line;
      sums.clear();
    }
    if (!ctx.quiet) bar.update(s, util::ProgressFields(metrics.begin(), metrics.end()));
    if (lead && (s % ctx.train.checkpoint_every == 0 || s == last)) {
      Checkpoint c;
      c.step = s;
      c.method = m.name();
      for (auto& [name, p] : m.parameters()) c.weights[name] = p->value;
      c.state = learner->state();
      c.metadata["config"] = config.dump();
      save_checkpoint(ctx.dir, c);
      folder_slot->commit();
    }
  }
  if (!ctx.quiet) {
    bar.finish();
    report_step_times(step_ms);
    if (several) report_data_parallel(*learner, world.size());
    if (last_line.contains("loss_scale"))
      std::fprintf(stderr, "loss scale %g, %lld steps skipped for Inf/NaN gradients\n",
                   last_line["loss_scale"].get<double>(),
                   (long long)last_line.value("skipped_steps", (int64_t)0));
  }
  if (lead) folder_slot->commit();
  result.step = step;
  result.seconds = elapsed();
  result.precision_report = learner->precision_report();
  if (!lead) return result;  // pictures and reports are rank 0's
  if (!result.precision_report.empty())
    io::write_file_atomic(folder_slot->path("precision.txt"), result.precision_report);
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
