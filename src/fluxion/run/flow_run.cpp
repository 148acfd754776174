#include "fluxion/run/flow_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/points_file.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/plot.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/metrics/mmd.h"
#include "fluxion/metrics/sliced_wasserstein.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/util/progress.h"

namespace fx::run {

namespace fs = std::filesystem;
using json = nlohmann::json;

json FlowRunConfig::to_json() const {
  return {{"method", method},
          {"data", data},
          {"source", source},
          {"steps", steps},
          {"batch", batch},
          {"lr", lr},
          {"warmup", warmup},
          {"lr_decay", lr_decay},
          {"precision", precision},
          {"loss_scale", loss_scale},
          {"precision_measure", precision_measure},
          {"seed", seed},
          {"model",
           {{"dim", model.dim},
            {"hidden", model.hidden},
            {"layers", model.layers},
            {"activation", model.activation}}},
          {"round", round},
          {"parent", parent},
          {"pairs", pairs},
          {"distill", distill},
          {"log_every", log_every},
          {"checkpoint_every", checkpoint_every},
          {"fluxion_version", FLUXION_VERSION}};
}

FlowRunConfig FlowRunConfig::from_json(const json& j, const std::string& file) {
  FlowRunConfig c;
  try {
    c.method = j.at("method");
    c.data = j.at("data");
    c.source = j.at("source");
    c.steps = j.at("steps");
    c.batch = j.at("batch");
    c.lr = j.at("lr");
    c.warmup = j.value("warmup", (int64_t)0);
    c.lr_decay = j.value("lr_decay", "constant");  // runs written before the field existed
    c.precision = j.value("precision", "fp32");
    c.loss_scale = j.value("loss_scale", "auto");
    c.precision_measure = j.value("precision_measure", true);
    c.seed = j.at("seed");
    const json& m = j.at("model");
    c.model = {m.at("dim"), m.at("hidden"), m.at("layers"), m.at("activation")};
    c.round = j.value("round", 1);
    c.parent = j.value("parent", "");
    c.pairs = j.value("pairs", (int64_t)0);
    c.distill = j.value("distill", false);
    c.log_every = j.value("log_every", (int64_t)50);
    c.checkpoint_every = j.value("checkpoint_every", (int64_t)1000);
  } catch (const json::exception& e) {
    fail("{}: bad run config: {}", file, e.what());
  }
  c.validate();
  return c;
}

void FlowRunConfig::validate() const {
  FX_CHECK(method == "rectified-flow", "unknown method '{}' (available: rectified-flow)", method);
  FX_CHECK(steps > 0, "--steps must be positive, got {}", steps);
  FX_CHECK(batch > 0, "--batch must be positive, got {}", batch);
  FX_CHECK(lr > 0 && std::isfinite(lr), "--lr must be positive, got {}", lr);
  FX_CHECK(lr_decay == "cosine" || lr_decay == "constant",
           "unknown --lr-decay '{}' (available: cosine, constant)", lr_decay);
  amp::precision_from_name(precision);
  if (loss_scale != "auto") amp::loss_scaling_from_string(loss_scale);
  FX_CHECK(model.hidden > 0 && model.layers > 0, "--hidden and --layers must be positive");
  FX_CHECK(log_every > 0 && checkpoint_every > 0, "log/checkpoint intervals must be positive");
}

namespace {
bool is_file_spec(const std::string& s) {
  return s.find('.') != std::string::npos || s.find('/') != std::string::npos;
}
uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull ^ (a + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull ^
               (b + 1) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
Tensor take_rows(const Tensor& x, const std::vector<int64_t>& idx) {
  int64_t d = x.dim(1);
  Tensor out({(int64_t)idx.size(), d}, DType::f32);
  for (size_t i = 0; i < idx.size(); ++i)
    std::memcpy(out.data<float>() + i * d, x.data<float>() + idx[i] * d, d * sizeof(float));
  return out;
}
std::vector<int64_t> random_rows(int64_t n, int64_t count, uint64_t seed) {
  std::vector<double> u(count);
  philox_uniform(seed, 9, u.data(), count);
  std::vector<int64_t> idx(count);
  for (int64_t i = 0; i < count; ++i) idx[i] = std::min(n - 1, (int64_t)(u[i] * n));
  return idx;
}
}  // namespace

PointSource::PointSource(const std::string& spec, int64_t dim_if_gaussian) : spec_(spec) {
  if (is_file_spec(spec)) {
    points_ = data::load_points(spec);
    dim_ = points_.dim(1);
  } else {
    FX_CHECK(data::is_toy(spec), "unknown data set '{}' (built-in: {}; or a .csv/.npy file)", spec,
             fmt::join(data::toy_names(), ", "));
    dim_ = spec == "gaussian" ? dim_if_gaussian : 2;
  }
}

Tensor PointSource::sample(int64_t n, uint64_t seed) const {
  if (points_.defined()) return take_rows(points_, random_rows(points_.dim(0), n, seed));
  return data::sample_toy(spec_, n, seed, dim_);
}

void prepare_run_dir(const std::string& dir, bool resume) {
  bool has_run = fs::exists(fs::path(dir) / "config.json");
  if (resume) {
    FX_CHECK(has_run, "--resume: '{}' holds no run (no config.json)", dir);
    return;
  }
  FX_CHECK(!has_run,
           "output folder '{}' already holds a run (config.json): use --resume to continue it, or "
           "choose another --out; nothing was overwritten",
           dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  FX_CHECK(!ec, "cannot create output folder '{}': {}", dir, ec.message());
}

namespace {

std::map<std::string, std::string> checkpoint_metadata(const FlowRunConfig& cfg, int64_t step) {
  return {{"format", "fluxion-checkpoint"},
          {"fluxion_version", FLUXION_VERSION},
          {"method", cfg.method},
          {"config", cfg.to_json().dump()},
          {"step", std::to_string(step)}};
}

void save_checkpoint(const std::string& dir, FlowRun& r, const optim::Trainer& tr) {
  std::map<std::string, Tensor> weights;
  for (auto& [name, p] : r.model->named_parameters()) weights[name] = p->value;
  auto meta = checkpoint_metadata(r.cfg, r.step);
  // State first: a crash between the two writes leaves an older model with newer state,
  // which --resume detects by comparing steps.
  io::save_safetensors((fs::path(dir) / "train_state.safetensors").string(), tr.state(), meta);
  io::save_safetensors((fs::path(dir) / "model.safetensors").string(), weights, meta);
}

void load_weights(gen::VelocityMLP& model, const io::SafetensorsFile& f, const std::string& file) {
  for (auto& [name, p] : model.named_parameters()) {
    auto it = f.tensors.find(name);
    FX_CHECK(it != f.tensors.end(), "{}: no tensor '{}' (a checkpoint of another model?)", file,
             name);
    FX_CHECK(it->second.shape() == p->value.shape() && it->second.dtype() == p->value.dtype(),
             "{}: tensor '{}' is {}{} but the model expects {}{} (a checkpoint of another model "
             "shape?)",
             file, name, dtype_name(it->second.dtype()), shape_str(it->second.shape()),
             dtype_name(p->value.dtype()), shape_str(p->value.shape()));
    p->value = it->second;
  }
}

int64_t parse_step(const io::SafetensorsFile& f, const std::string& file) {
  auto it = f.metadata.find("step");
  FX_CHECK(it != f.metadata.end(), "{}: metadata has no 'step'", file);
  try {
    return std::stoll(it->second);
  } catch (...) {
    fail("{}: metadata 'step' is '{}', not an integer", file, it->second);
  }
}

}  // namespace

FlowRun load_flow(const std::string& dir) {
  std::string cfg_path = (fs::path(dir) / "config.json").string();
  json j;
  try {
    j = json::parse(io::read_file(cfg_path));
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", cfg_path, e.what());
  }
  FlowRun r;
  r.cfg = FlowRunConfig::from_json(j, cfg_path);
  nn::InitRng rng(r.cfg.seed);
  r.model = std::make_unique<gen::VelocityMLP>(r.cfg.model, rng);
  std::string ck = (fs::path(dir) / "model.safetensors").string();
  io::SafetensorsFile f = io::load_safetensors(ck);
  load_weights(*r.model, f, ck);
  r.step = parse_step(f, ck);
  return r;
}

amp::PrecisionPolicy precision_policy(const FlowRunConfig& cfg) {
  amp::PrecisionPolicy p;
  p.precision = amp::precision_from_name(cfg.precision);
  p.measure = cfg.precision_measure;
  return p;
}

amp::LossScaling loss_scaling(const FlowRunConfig& cfg) {
  return amp::loss_scaling_for(cfg.loss_scale, amp::precision_from_name(cfg.precision));
}

FlowRun train_flow(const FlowRunConfig& cfg_in, const std::string& dir, bool resume, bool quiet,
                   int64_t stop_after) {
  FlowRunConfig cfg = cfg_in;
  cfg.validate();
  PointSource data_src(cfg.data, 2);
  cfg.model.dim = data_src.dim();
  PointSource source(cfg.source, cfg.model.dim);
  FX_CHECK(source.dim() == cfg.model.dim, "source '{}' has dimension {} but data '{}' has {}",
           cfg.source, source.dim(), cfg.data, cfg.model.dim);
  Tensor pair_x0, pair_x1;
  if (cfg.round > 1 || cfg.distill) {
    std::string pp = (fs::path(dir) / "pairs.safetensors").string();
    auto pf = io::load_safetensors(pp);
    FX_CHECK(pf.tensors.count("x0") && pf.tensors.count("x1"), "{}: needs tensors x0 and x1", pp);
    pair_x0 = pf.tensors["x0"];
    pair_x1 = pf.tensors["x1"];
  }

  FlowRun r;
  r.cfg = cfg;
  nn::InitRng rng(cfg.seed);
  r.model = std::make_unique<gen::VelocityMLP>(cfg.model, rng);
  if (!cfg.parent.empty() && !resume) {  // reflow starts from the parent's weights
    std::string ck = (fs::path(cfg.parent) / "model.safetensors").string();
    load_weights(*r.model, io::load_safetensors(ck), ck);
  }
  optim::TrainerOptions opts;
  // Cosine decay to 0 lets the last steps settle: sliced-W2 of 1-RF on moons drops from
  // 2.15x to (see README) the floor with the same 3000 steps.
  opts.schedule = {cfg.lr, cfg.warmup, cfg.lr_decay == "cosine" ? cfg.steps : 0, 0.0};
  opts.seed = cfg.seed;
  opts.precision = precision_policy(cfg);
  opts.loss_scaling = loss_scaling(cfg);
  opts.compile = cfg.compile;
  int64_t B = cfg.batch, D = cfg.model.dim;
  optim::Trainer trainer(
      *r.model, optim::adam(),
      [&](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
        return gen::rectified_flow_loss(*r.model, b.at("x0"), b.at("x1"), key, cfg.distill);
      },
      {{"x0", {B, D}}, {"x1", {B, D}}}, opts);

  std::string cfg_path = (fs::path(dir) / "config.json").string();
  if (resume) {
    FlowRunConfig saved = FlowRunConfig::from_json(json::parse(io::read_file(cfg_path)), cfg_path);
    json a = saved.to_json(), b = cfg.to_json();
    a.erase("steps");
    b.erase("steps");
    FX_CHECK(a == b,
             "--resume: the options differ from the run's config.json (only --steps may "
             "change)");
    if (saved.steps != cfg.steps && cfg.lr_decay == "cosine")
      std::fprintf(stderr,
                   "note: --steps changed from %lld to %lld; the cosine learning-rate schedule "
                   "now decays over the new length\n",
                   (long long)saved.steps, (long long)cfg.steps);
    std::string ck = (fs::path(dir) / "model.safetensors").string();
    std::string st = (fs::path(dir) / "train_state.safetensors").string();
    auto mf = io::load_safetensors(ck);
    auto sf = io::load_safetensors(st);
    load_weights(*r.model, mf, ck);
    r.step = parse_step(mf, ck);
    FX_CHECK(parse_step(sf, st) == r.step, "{} is at step {} but {} at step {}", ck, r.step, st,
             parse_step(sf, st));
    trainer.set_state(sf.tensors);
    trainer.set_steps_done(r.step);
  }
  io::write_file_atomic(cfg_path, cfg.to_json().dump(2) + "\n");

  std::ofstream metrics((fs::path(dir) / "metrics.jsonl").string(),
                        resume ? std::ios::app : std::ios::trunc);
  util::Progress bar(fmt::format("train {}-RF", cfg.round), cfg.steps);
  auto t_start = std::chrono::steady_clock::now();
  double loss_avg = 0;
  int64_t since = 0;
  const int64_t last = stop_after > 0 ? std::min(stop_after, cfg.steps) : cfg.steps;
  while (r.step < last) {
    int64_t s = r.step + 1;
    Tensor x0, x1;
    if (pair_x0.defined()) {
      auto idx = random_rows(pair_x0.dim(0), B, mix(cfg.seed, s, 3));
      x0 = take_rows(pair_x0, idx);
      x1 = take_rows(pair_x1, idx);
    } else {
      x0 = source.sample(B, mix(cfg.seed, s, 1));
      x1 = data_src.sample(B, mix(cfg.seed, s, 2));
    }
    double loss = trainer.step({{"x0", x0}, {"x1", x1}});
    r.step = s;
    loss_avg += loss;
    ++since;
    if (s % cfg.log_every == 0 || s == last) {
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
      json line{{"step", s},
                {"loss", loss_avg / since},
                {"lr", opts.schedule.lr_at(s)},
                {"elapsed_s", secs}};
      if (trainer.loss_scaler().enabled()) {
        line["loss_scale"] = trainer.loss_scaler().scale();
        line["skipped_steps"] = trainer.loss_scaler().skipped_steps();
      }
      metrics << line.dump() << "\n";
      metrics.flush();
      loss_avg = 0;
      since = 0;
    }
    if (!quiet) bar.update(s, {{"loss", loss}});
    if (s % cfg.checkpoint_every == 0 || s == last) save_checkpoint(dir, r, trainer);
  }
  if (!quiet) bar.finish();
  r.precision_report = trainer.precision_report();
  r.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return r;
}

LossCurve read_loss_curve(const std::string& dir) {
  LossCurve c;
  const std::string path = (fs::path(dir) / "metrics.jsonl").string();
  std::ifstream m(path);
  std::string line;
  for (int n = 1; std::getline(m, line); ++n) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    FX_CHECK(!j.is_discarded() && j.is_object(), "{}: line {} is not a JSON object", path, n);
    c.steps.push_back(j.value("step", 0.0));
    c.losses.push_back(j.value("loss", 0.0));
  }
  return c;
}

void make_reflow_pairs(FlowRun& parent, int64_t n, uint64_t seed, const std::string& dir) {
  FX_CHECK(n > 0, "--pairs must be positive, got {}", n);
  PointSource source(parent.cfg.source, parent.cfg.model.dim);
  Tensor x0 = source.sample(n, mix(seed, 0, 4));
  solvers::OdeOptions o;
  o.method = solvers::Method::rk45;
  o.rtol = o.atol = 1e-4;
  auto res = gen::sample_flow(*parent.model, x0, o);
  io::save_safetensors(
      (fs::path(dir) / "pairs.safetensors").string(), {{"x0", x0}, {"x1", res.x}},
      {{"parent_step", std::to_string(parent.step)}, {"nfe", std::to_string(res.nfe)}});
}

SampleQuality evaluate_flow(FlowRun& run, const solvers::OdeOptions& ode, int64_t n, uint64_t seed,
                            Tensor* samples_out) {
  PointSource data_src(run.cfg.data, 2);
  PointSource source(run.cfg.source, run.cfg.model.dim);
  Tensor x0 = source.sample(n, mix(seed, 1, 5));
  auto res =
      gen::sample_flow(*run.model, x0, ode, 4096, run.sampling_precision, run.sampling_compile);
  Tensor ref = data_src.sample(n, mix(seed, 2, 5)), ref2 = data_src.sample(n, mix(seed, 3, 5));
  SampleQuality q;
  q.solver = solvers::method_name(ode.method);
  q.nfe = res.nfe;
  q.sw2 = metrics::sliced_wasserstein(res.x, ref, 256, seed);
  q.sw2_floor = metrics::sliced_wasserstein(ref2, ref, 256, seed);
  q.mmd = metrics::mmd_rbf(res.x, ref);
  q.mmd_floor = metrics::mmd_rbf(ref2, ref);
  if (samples_out) *samples_out = res.x;
  return q;
}

void write_flow_pictures(FlowRun& run, const std::string& dir, uint64_t seed) {
  PointSource data_src(run.cfg.data, 2);
  PointSource source(run.cfg.source, run.cfg.model.dim);
  std::string name = fmt::format("{}-RF", run.cfg.round);
  if (run.cfg.model.dim >= 2) {
    // Samples (RK45) over the data, and trajectories (Euler, 50 steps) from x0 to x1.
    Tensor x0 = source.sample(2000, mix(seed, 7, 6));
    solvers::OdeOptions rk;
    rk.method = solvers::Method::rk45;
    Tensor gen_x = gen::sample_flow(*run.model, x0, rk).x;
    Tensor ref = data_src.sample(2000, mix(seed, 8, 6));
    io::Box2 box{-6, 6, -6, 6};
    io::ScatterPanel samples{name + " samples (RK45) vs data", {}, {}, box};
    samples.series.push_back({ref, "data", io::Color{150, 150, 150}});
    samples.series.push_back({gen_x, "generated"});
    io::save_figure((fs::path(dir) / "samples.png").string(), {samples});

    solvers::OdeOptions eu;
    eu.steps = 50;
    eu.keep_trajectory = true;
    Tensor few = source.sample(300, mix(seed, 9, 6));
    auto tr = gen::sample_flow(*run.model, few, eu);
    io::ScatterPanel paths{name + " ODE paths x0 -> x1 (Euler 50)", {}, {}, box};
    paths.paths.push_back({tr.trajectory, "path"});
    paths.series.push_back({few, "x0", io::Color{120, 120, 120}});
    paths.series.push_back({tr.x, "x1"});
    io::save_figure((fs::path(dir) / "trajectories.png").string(), {paths});
  }
  LossCurve curve = read_loss_curve(dir);
  io::LinePanel loss{name + " training loss", "step", "loss", {}, true};
  loss.curves.push_back({curve.losses, curve.steps, "loss (mean over 50 steps)"});
  io::save_figure((fs::path(dir) / "loss.png").string(), {loss}, 640, 360);
}

}  // namespace fx::run
