// Rectified flow (gen/rectified_flow.h) on points: train, sample and evaluate with an ODE
// solver, and the `reflow` verb (a (k+1)-rectified flow, or a one-step distilled model,
// trained on ODE pairs of a k-rectified flow).
#include "fluxion/gen/rectified_flow.h"

#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/io/plot.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/methods/point_methods.h"
#include "fluxion/methods/rectified_flow.h"
#include "fluxion/train/checkpoint.h"
#include "fluxion/train/train_loop.h"

namespace fx::methods {

namespace fs = std::filesystem;

train::TrainConfig RectifiedFlow::default_train_config() const {
  train::TrainConfig t;
  t.steps = 3000;
  t.batch = 1024;
  t.lr = 1e-3;
  // Cosine decay to 0 lets the last steps settle: with it 1-RF on moons reaches the data
  // floor with RK45 in 3000 steps (2.15x the floor with a constant rate).
  t.warmup = 100;
  t.lr_decay = "cosine";
  return t;
}

void RectifiedFlow::declare(train::OptionSet& o) {
  o.add("data", data, "target x1: built-in 2-D set or a .csv/.npy file");
  o.add("source", source, "x0 distribution: built-in or a file");
  o.add("hidden", model.hidden, "MLP width");
  o.add("layers", model.layers, "MLP hidden layers");
  o.add("activation", model.activation, "silu, relu, gelu or tanh");
  o.add("round", round, "k of k-rectified flow (set by reflow)");
  o.add("parent", parent, "run folder of the (k-1)-flow whose pairs this one trains on");
  o.add("pairs", pairs, "number of (x0, ODE(x0)) pairs (reflow)");
  o.add("distill", distill, "one-step distillation (t = 0) instead of reflow");
}

void RectifiedFlow::validate(const train::TrainConfig&) const {
  FX_CHECK(model.hidden > 0, "--hidden must be positive, got {}", model.hidden);
  FX_CHECK(model.layers > 0, "--layers must be positive, got {}", model.layers);
  FX_CHECK(round >= 1, "--round must be at least 1, got {}", round);
}

void RectifiedFlow::build(const RunContext& ctx) {
  data_ = std::make_unique<data::PointSource>(data, 2);
  model.dim = data_->dim();
  source_ = std::make_unique<data::PointSource>(source, model.dim);
  FX_CHECK(source_->dim() == model.dim, "source '{}' has dimension {} but data '{}' has {}", source,
           source_->dim(), data, model.dim);
  nn::InitRng rng(ctx.train.seed);
  net_ = std::make_unique<gen::VelocityMLP>(model, rng);
}

std::vector<std::pair<std::string, nn::Parameter*>> RectifiedFlow::parameters() {
  return net_->named_parameters();
}

std::unique_ptr<train::Learner> RectifiedFlow::learner(const RunContext& ctx) {
  Tensor pair_x0, pair_x1;
  if (round > 1 || distill) {
    std::string pp = (fs::path(ctx.dir) / "pairs.safetensors").string();
    auto pf = io::load_safetensors(pp);
    FX_CHECK(pf.tensors.count("x0") && pf.tensors.count("x1"), "{}: needs tensors x0 and x1", pp);
    pair_x0 = pf.tensors["x0"];
    pair_x1 = pf.tensors["x1"];
  }
  if (!parent.empty()) {  // reflow starts from the parent's weights (a resume replaces them)
    std::map<std::string, Tensor*> to;
    for (auto& [name, p] : net_->named_parameters()) to[name] = &p->value;
    train::restore_tensors(to, train::load_checkpoint(parent).weights,
                           (fs::path(parent) / train::kCheckpointFile).string());
  }
  const train::TrainConfig& t = ctx.train;
  optim::TrainerOptions opts = t.trainer_options();
  const int64_t B = t.batch, D = model.dim;
  gen::VelocityMLP& net = *net_;
  const bool one_step = distill;
  auto trainer = std::make_unique<optim::Trainer>(
      net, optim::adam(),
      [&net, one_step](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
        return gen::rectified_flow_loss(net, b.at("x0"), b.at("x1"), key, one_step);
      },
      std::vector<optim::BatchInput>{{"x0", {B, D}}, {"x1", {B, D}}}, opts);
  const uint64_t seed = t.seed;
  data::PointSource* src = source_.get();
  data::PointSource* dst = data_.get();
  return std::make_unique<train::TrainerLearner>(std::move(trainer), [=](int64_t s) -> Feeds {
    if (pair_x0.defined()) {
      auto idx = data::random_rows(pair_x0.dim(0), B, data::mix_seed(seed, s, 3));
      return {{"x0", data::take_rows(pair_x0, idx)}, {"x1", data::take_rows(pair_x1, idx)}};
    }
    return {{"x0", src->sample(B, data::mix_seed(seed, s, 1))},
            {"x1", dst->sample(B, data::mix_seed(seed, s, 2))}};
  });
}

std::string RectifiedFlow::label() const { return fmt::format("{}-RF", round); }

void RectifiedFlow::after_training(const RunContext& ctx, train::Learner&) {
  write_pictures(ctx.dir, ctx.train.seed);
}

void RectifiedFlow::write_pictures(const std::string& dir, uint64_t seed) {
  const std::string name = label();
  if (model.dim >= 2) {
    // Samples (RK45) over the data, and trajectories (Euler, 50 steps) from x0 to x1.
    Tensor x0 = source_->sample(2000, data::mix_seed(seed, 7, 6));
    solvers::OdeOptions rk;
    rk.method = solvers::Method::rk45;
    Tensor gen_x = gen::sample_flow(*net_, x0, rk).x;
    save_samples_picture((fs::path(dir) / "samples.png").string(), name + " samples (RK45) vs data",
                         gen_x, *data_, seed);
    solvers::OdeOptions eu;
    eu.steps = 50;
    eu.keep_trajectory = true;
    Tensor few = source_->sample(300, data::mix_seed(seed, 9, 6));
    auto tr = gen::sample_flow(*net_, few, eu);
    io::Box2 box{-6, 6, -6, 6};
    io::ScatterPanel paths{name + " ODE paths x0 -> x1 (Euler 50)", {}, {}, box};
    paths.paths.push_back({tr.trajectory, "path"});
    paths.series.push_back({few, "x0", io::Color{120, 120, 120}});
    paths.series.push_back({tr.x, "x1"});
    io::save_figure((fs::path(dir) / "trajectories.png").string(), {paths});
  }
  save_loss_picture(dir, name + " training loss");
}

void RectifiedFlow::declare_sampling(train::OptionSet& o) {
  o.add("solver", solver, "euler, heun, rk4 or rk45 (adaptive)");
  o.add("ode-steps", ode_steps, "steps of a fixed-step solver");
  o.add("source-scale", source_scale,
        "truncation: the source points x0 scaled by this about the origin (1: as trained)");
}

Tensor RectifiedFlow::source_points(int64_t n, uint64_t seed) const {
  FX_CHECK(std::isfinite(source_scale) && source_scale > 0,
           "--source-scale must be positive, got {}", source_scale);
  Tensor x0 = source_->sample(n, data::mix_seed(seed, 1, 5));
  if (source_scale == 1.0) return x0;
  std::vector<float> v = x0.to_f32_vector();
  for (float& a : v) a = float(a * source_scale);
  return Tensor::from_f32(v, x0.shape());
}

solvers::OdeOptions RectifiedFlow::ode_options() const {
  solvers::OdeOptions o;
  o.method = solvers::method_from_name(solver);
  FX_CHECK(ode_steps > 0, "--ode-steps must be positive, got {}", ode_steps);
  o.steps = (int)std::min<int64_t>(ode_steps, 1 << 30);
  return o;
}

solvers::OdeResult RectifiedFlow::integrate(const RunContext& ctx, const Tensor& x0) {
  amp::PrecisionPolicy p;
  p.precision = amp::precision_from_name(ctx.sample_precision);
  return gen::sample_flow(*net_, x0, ode_options(), 4096, p, ctx.sample_compile);
}

Tensor RectifiedFlow::sample(const RunContext& ctx, int64_t n, uint64_t seed) {
  return integrate(ctx, source_points(n, seed)).x;
}

nlohmann::json RectifiedFlow::evaluate(const RunContext& ctx, int64_t n, uint64_t seed) {
  auto res = integrate(ctx, source_points(n, seed));
  nlohmann::json j = score_points(res.x, *data_, seed);
  j["model"] = label();
  j["solver"] = solvers::method_name(ode_options().method);
  j["nfe"] = res.nfe;
  return j;
}

double RectifiedFlow::straightness(int64_t n, uint64_t seed) {
  return gen::straightness(*net_, source_->sample(n, seed), 100);
}

void RectifiedFlow::make_reflow_pairs(int64_t n, uint64_t seed, int64_t parent_step,
                                      const std::string& dir) {
  FX_CHECK(n > 0, "--pairs must be positive, got {}", n);
  Tensor x0 = source_->sample(n, data::mix_seed(seed, 0, 4));
  solvers::OdeOptions o;
  o.method = solvers::Method::rk45;
  o.rtol = o.atol = 1e-4;
  auto res = gen::sample_flow(*net_, x0, o);
  io::save_safetensors(
      (fs::path(dir) / "pairs.safetensors").string(), {{"x0", x0}, {"x1", res.x}},
      {{"parent_step", std::to_string(parent_step)}, {"nfe", std::to_string(res.nfe)}});
}

train::TrainRunResult reflow(const ReflowOptions& r, bool quiet) {
  RectifiedFlow parent;
  RunContext pctx{r.from};
  int64_t parent_step = train::load_run(parent, pctx);
  RectifiedFlow child;
  RunContext ctx = pctx;
  ctx.dir = r.out;
  ctx.quiet = quiet;
  if (!r.resume) {
    FX_CHECK(!fs::exists(fs::path(r.out) / "config.json"),
             "output folder '{}' already holds a run (config.json): use --resume to continue "
             "it, or choose another --out; nothing was overwritten",
             r.out);
    std::error_code ec;
    fs::create_directories(r.out, ec);
    FX_CHECK(!ec, "cannot create output folder '{}': {}", r.out, ec.message());
    parent.make_reflow_pairs(r.pairs, pctx.train.seed + 1, parent_step, r.out);
  }
  child.data = parent.data;
  child.source = parent.source;
  child.model = parent.model;
  child.round = parent.round + (r.distill ? 0 : 1);
  child.parent = r.from;
  child.pairs = r.pairs;
  child.distill = r.distill;
  ctx.train.steps = r.steps;
  ctx.train.warmup = 0;
  ctx.train.compile = r.compile;
  return train::train_run(child, ctx, {r.resume, r.stop_after});
}

std::vector<Verb> RectifiedFlow::verbs() {
  auto r = std::make_shared<ReflowOptions>();
  return {{"reflow",
           "train a (k+1)-rectified flow (or a one-step distilled model) on ODE pairs of a run",
           [r](train::OptionSet& o) {
             o.add("from", r->from, "run folder of the k-rectified flow (required)");
             o.add("out", r->out, "new run folder (required)");
             o.add("pairs", r->pairs, "number of (x0, ODE(x0)) pairs");
             o.add("steps", r->steps, "training steps");
             o.add("distill", r->distill, "train a one-step generator (t = 0) instead");
             o.add("resume", r->resume, "continue the run in --out");
             o.add("stop-after", r->stop_after, "checkpoint and stop after this step");
             o.add("compile", r->compile, "compile the training step (bit-identical results)");
           },
           [r] {
             FX_CHECK(!r->from.empty(), "reflow needs --from (the k-rectified flow's run folder)");
             FX_CHECK(!r->out.empty(), "reflow needs --out (the new run folder)");
             auto res = reflow(*r, false);
             std::printf("trained %lld steps; checkpoint %s/model.safetensors\n",
                         (long long)res.step, r->out.c_str());
           }}};
}

std::unique_ptr<Method> make_rectified_flow() { return std::make_unique<RectifiedFlow>(); }

}  // namespace fx::methods
