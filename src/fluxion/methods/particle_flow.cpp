// Particle gradient flows (gen/langevin, gen/svgd, gen/fdiv_flow) as a method: the particles
// are the run's state, moved one flow step per training step toward an analytic target
// (gen/mixture_target: 8gaussians, 25gaussians, gaussian or a mixture JSON file). `sample`
// returns the particles, `eval` scores them against exact target samples (sliced-W2 with its
// floor, mode coverage). The classifier of the f-divergence flows is the run's model.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/point_source.h"
#include "fluxion/data/points_file.h"
#include "fluxion/gen/fdiv_flow.h"
#include "fluxion/gen/flow_metrics.h"
#include "fluxion/gen/langevin.h"
#include "fluxion/gen/mixture_target.h"
#include "fluxion/gen/particle_files.h"
#include "fluxion/gen/svgd.h"
#include "fluxion/io/gif.h"
#include "fluxion/io/plot.h"
#include "fluxion/methods/method.h"
#include "fluxion/metrics/sliced_wasserstein.h"
#include "fluxion/train/metrics_log.h"

namespace fx::methods {

namespace {

namespace fs = std::filesystem;

const char* kFlows = "langevin, svgd, kl, reverse-kl, js";

std::string steps_dir(const std::string& run) { return (fs::path(run) / "steps").string(); }

bool is_fdiv(const std::string& f) { return f == "kl" || f == "reverse-kl" || f == "js"; }

class ParticleFlow : public Method {
 public:
  std::string name() const override { return "particle-flow"; }
  std::string summary() const override {
    return "particles moved toward an analytic target by Langevin, SVGD or a classifier-ratio "
           "f-divergence flow";
  }
  train::TrainConfig default_train_config() const override {
    train::TrainConfig t;
    t.steps = 2000;
    t.batch = 256;  // classifier batch (f-divergence flows)
    t.lr = 2e-3;    // classifier learning rate (f-divergence flows)
    t.log_every = 100;
    t.checkpoint_every = 500;
    return t;
  }
  void declare(train::OptionSet& o) override {
    o.add("flow", flow_, std::string("the flow: ") + kFlows);
    o.add("target", target_, "8gaussians, 25gaussians, gaussian or a mixture .json file");
    o.add("dim", dim_, "dimension of the gaussian target");
    o.add("particles", particles_, "number of particles");
    o.add("dt", dt_, "step size (SVGD: its step ε)");
    o.add("init-mean", init_mean_, "particles start from N(init-mean, init-std²) per coordinate");
    o.add("init-std", init_std_, "see init-mean");
    o.add("bandwidth", bandwidth_, "SVGD kernel width h (0: median heuristic)");
    o.add("classifier-steps", classifier_steps_, "classifier Adam steps per flow step");
    o.add("hidden", hidden_, "classifier MLP width");
    o.add("layers", layers_, "classifier MLP hidden layers");
    o.add("max-log-ratio", max_log_ratio_, "cap on the estimated log p/q in the KL flow's e^d");
    o.add("frames", frames_, "snapshots in frames.png (first and last step included)");
    o.add("init", init_,
          "start cloud: a .csv/.npy file of --particles points (else N(init-mean, init-std²))");
    o.add("save-every", save_every_,
          "write the particles every K steps to steps/ and particles.gif (0: off)");
    o.add("save-format", save_format_, "format of the per-step files: npy or csv");
    o.add("gif-frames", gif_frames_, "most frames in particles.gif (evenly spaced saved steps)");
  }
  void validate(const train::TrainConfig&) const override {
    FX_CHECK(flow_ == "langevin" || flow_ == "svgd" || is_fdiv(flow_),
             "--flow must be one of {}, got '{}'", kFlows, flow_);
    FX_CHECK(particles_ > 0, "--particles must be positive, got {}", particles_);
    FX_CHECK(std::isfinite(dt_) && dt_ > 0, "--dt must be positive, got {}", dt_);
    FX_CHECK(std::isfinite(init_std_) && init_std_ > 0, "--init-std must be positive, got {}",
             init_std_);
    FX_CHECK(std::isfinite(init_mean_), "--init-mean must be finite, got {}", init_mean_);
    FX_CHECK(bandwidth_ >= 0, "--bandwidth must not be negative, got {}", bandwidth_);
    FX_CHECK(classifier_steps_ > 0, "--classifier-steps must be positive, got {}",
             classifier_steps_);
    FX_CHECK(hidden_ > 0 && layers_ > 0, "--hidden and --layers must be positive, got {} and {}",
             hidden_, layers_);
    FX_CHECK(frames_ >= 2, "--frames must be at least 2, got {}", frames_);
    FX_CHECK(save_every_ >= 0, "--save-every must not be negative, got {}", save_every_);
    gen::check_step_format(save_format_);
    FX_CHECK(gif_frames_ >= 2, "--gif-frames must be at least 2, got {}", gif_frames_);
  }

  void build(const RunContext& ctx) override {
    target_p_ =
        std::make_unique<gen::GaussianMixture>(gen::GaussianMixture::by_name(target_, dim_));
    int64_t d = target_p_->dim();
    x_ = Tensor({particles_, d}, DType::f32);
    philox_normal(data_seed(ctx.train.seed), 0x50415254ull, x_.data<float>(), x_.numel());
    float* p = x_.data<float>();
    for (int64_t i = 0; i < x_.numel(); ++i) p[i] = (float)(init_mean_ + init_std_ * p[i]);
    flow_impl_.reset();
    if (is_fdiv(flow_)) {
      gen::GaussianMixture* t = target_p_.get();
      flow_impl_ = std::make_unique<gen::FDivFlow>(
          [t](int64_t n, uint64_t s) { return t->sample(n, s); },
          gen::FDivFlowOptions{.f = gen::fdivergence_from_name(flow_),
                               .dt = dt_,
                               .classifier_steps = classifier_steps_,
                               .max_log_ratio = max_log_ratio_,
                               .seed = ctx.train.seed},
          gen::RatioClassifierConfig{.dim = d,
                                     .hidden = hidden_,
                                     .layers = layers_,
                                     .batch = ctx.train.batch,
                                     .lr = ctx.train.lr,
                                     .seed = ctx.train.seed,
                                     .precision = ctx.train.precision_policy(),
                                     .loss_scaling = ctx.train.loss_scaling(),
                                     .compile = ctx.train.compile});
    }
  }
  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override {
    if (!flow_impl_) return {};
    return flow_impl_->classifier().net().named_parameters("classifier");
  }
  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override;
  void after_training(const RunContext& ctx, train::Learner& l) override;
  void loaded(const train::Checkpoint& c) override {
    auto it = c.state.find("particles");
    FX_CHECK(it != c.state.end(), "checkpoint has no particles (state/particles)");
    x_ = it->second;
  }
  int64_t default_sample_count() const override {
    return std::min<int64_t>(x_.defined() ? x_.dim(0) : particles_, 2000);
  }
  Tensor sample(const RunContext&, int64_t n, uint64_t) override {
    FX_CHECK(n > 0 && n <= x_.dim(0), "-n must be in 1..{} (the run's particles), got {}",
             x_.dim(0), n);
    Tensor out({n, x_.dim(1)}, DType::f32);
    std::memcpy(out.raw(), x_.raw(), out.nbytes());
    return out;
  }
  nlohmann::json evaluate(const RunContext& ctx, int64_t n, uint64_t seed) override {
    return score(sample(ctx, n, seed), seed);
  }

  // Scores of particles x against exact target samples.
  nlohmann::json score(const Tensor& x, uint64_t seed) const {
    int64_t n = x.dim(0);
    nlohmann::json j{
        {"n", n},
        {"sliced_w2", metrics::sliced_wasserstein(x, target_p_->sample(n, seed + 1), 256, seed)},
        {"sliced_w2_floor", floor(n, seed)}};
    if (target_p_->size() > 1) {
      gen::ModeCoverage mc = gen::mode_coverage(x, *target_p_);
      j["modes_covered"] = mc.covered;
      j["modes"] = mc.modes;
      j["high_quality"] = mc.high_quality;
    }
    return j;
  }

  // The floor for n points, computed once per (n, seed): it is logged at every log step.
  double floor(int64_t n, uint64_t seed) const {
    auto key = std::make_pair(n, seed);
    auto it = floors_.find(key);
    if (it == floors_.end())
      it = floors_.emplace(key, gen::sliced_w2_floor(*target_p_, n, seed, 4)).first;
    return it->second;
  }
  // The start cloud from --init replaces the Gaussian one; read when training starts (not
  // when sampling, which takes the checkpoint's particles).
  void load_init() {
    if (!init_.empty()) x_ = gen::load_start_cloud(init_, particles_, target_p_->dim());
  }
  Tensor& particles() { return x_; }
  gen::GaussianMixture& target() { return *target_p_; }
  gen::FDivFlow* fdiv() { return flow_impl_.get(); }
  std::string flow_ = "langevin";
  double dt_ = 1e-2, bandwidth_ = 0.0;
  int64_t classifier_steps_ = 5, frames_ = 6, save_every_ = 0, gif_frames_ = 200;
  std::string save_format_ = "npy";

 private:
  static uint64_t data_seed(uint64_t seed) { return data::mix_seed(seed, 0x1417, 0); }
  std::string target_ = "8gaussians", init_;
  int64_t dim_ = 2, particles_ = 5000, hidden_ = 64, layers_ = 2;
  double init_mean_ = 0.0, init_std_ = 1.0, max_log_ratio_ = 5.0;
  std::unique_ptr<gen::GaussianMixture> target_p_;
  std::unique_ptr<gen::FDivFlow> flow_impl_;
  Tensor x_;
  mutable std::map<std::pair<int64_t, uint64_t>, double> floors_;
};

class ParticleLearner : public train::Learner {
 public:
  ParticleLearner(ParticleFlow& m, const RunContext& ctx) : m_(m), ctx_(ctx) {
    snapshot(0);
    save(0);
  }
  train::StepMetrics step(int64_t s) override {
    Tensor& x = m_.particles();
    gen::GaussianMixture& p = m_.target();
    train::StepMetrics out;
    double clf = 0;
    if (m_.flow_ == "langevin") {
      gen::langevin_step(
          x, [&](const Tensor& y) { return p.score(y); }, m_.dt_, ctx_.train.seed, s);
      gen::check_step(x, "langevin", s);
    } else if (m_.flow_ == "svgd") {
      gen::svgd_step(
          x, [&](const Tensor& y) { return p.score(y); }, m_.dt_, m_.bandwidth_);
      gen::check_step(x, "svgd", s);
    } else {
      clf = m_.fdiv()->step(x, s);
    }
    // −E log p(particles): falls as the particles reach the target.
    std::vector<double> lp = p.log_density(x);
    double nll = 0;
    for (double v : lp) nll -= v;
    out.push_back({"loss", nll / (double)lp.size()});
    if (m_.fdiv()) out.push_back({"classifier_loss", clf});
    if (s % ctx_.train.log_every == 0 || s == ctx_.train.steps) {
      nlohmann::json sc = m_.score(x, ctx_.train.seed);
      out.push_back({"sliced_w2", sc["sliced_w2"].get<double>()});
      out.push_back({"sliced_w2_floor", sc["sliced_w2_floor"].get<double>()});
      if (sc.contains("modes_covered"))
        out.push_back({"modes_covered", sc["modes_covered"].get<double>()});
    }
    snapshot(s);
    save(s);
    return out;
  }
  std::map<std::string, Tensor> state() const override {
    std::map<std::string, Tensor> s{{"particles", m_.particles()}};
    if (auto* f = m_.fdiv())
      for (auto& [k, v] : f->classifier().trainer_state()) s["classifier/" + k] = v;
    return s;
  }
  void set_state(const std::map<std::string, Tensor>& s, int64_t step) override {
    m_.loaded({.state = s});
    gen::check_particles(m_.particles(), "checkpoint particles");
    if (auto* f = m_.fdiv()) {
      std::map<std::string, Tensor> c;
      for (auto& [k, v] : s)
        if (k.rfind("classifier/", 0) == 0) c[k.substr(11)] = v;
      f->classifier().trainer().set_state(c);
      f->classifier().trainer().set_steps_done(step * m_.classifier_steps_);
    }
    frames_.clear();  // a resumed run shows its frames from here on
    snapshot(step);
  }
  const std::vector<std::pair<int64_t, Tensor>>& frames() const { return frames_; }

 private:
  void snapshot(int64_t s) {
    int64_t total = ctx_.train.steps, k = m_.frames_ - 1;
    for (int64_t i = 0; i <= k; ++i)
      if (s == (total * i) / k && (frames_.empty() || frames_.back().first != s)) {
        frames_.push_back({s, m_.particles().clone()});
        break;
      }
    if (frames_.empty()) frames_.push_back({s, m_.particles().clone()});
  }
  void save(int64_t s) {
    int64_t k = m_.save_every_;
    if (k > 0 && (s % k == 0 || s == ctx_.train.steps))
      gen::save_step_cloud(steps_dir(ctx_.dir), s, m_.particles(), m_.save_format_);
  }
  ParticleFlow& m_;
  RunContext ctx_;
  std::vector<std::pair<int64_t, Tensor>> frames_;
};

std::unique_ptr<train::Learner> ParticleFlow::learner(const RunContext& ctx) {
  load_init();
  return std::make_unique<ParticleLearner>(*this, ctx);
}

void ParticleFlow::after_training(const RunContext& ctx, train::Learner& l) {
  if (x_.dim(1) < 2) return;
  auto& frames = static_cast<ParticleLearner&>(l).frames();
  Tensor ref = target_p_->sample(std::min<int64_t>(x_.dim(0), 2000), ctx.train.seed + 11);
  auto panel = [&](const std::string& title, const Tensor& x) {
    io::ScatterPanel p{title, {}, {}, io::Box2{-6, 6, -6, 6}};
    p.series.push_back({ref, "target", io::Color{170, 170, 170}});
    p.series.push_back({x, "particles"});
    return p;
  };
  std::vector<io::PlotPanel> strip;
  for (auto& [s, x] : frames) strip.push_back(panel(fmt::format("step {}", s), x));
  io::save_figure((fs::path(ctx.dir) / "frames.png").string(), strip, 320, 320,
                  fmt::format("{} flow toward {}", flow_, target_));
  io::save_figure((fs::path(ctx.dir) / "particles.png").string(),
                  {panel(fmt::format("{}: particles at step {}", flow_, ctx.train.steps), x_)});
  if (save_every_ > 0) {
    // Evenly spaced saved clouds (first and last kept), one GIF frame each.
    auto clouds = gen::list_step_clouds(steps_dir(ctx.dir));
    std::vector<io::Image> gif;
    size_t n = clouds.size(), k = std::min<size_t>(n, gif_frames_);
    for (size_t i = 0; i < k; ++i) {
      auto& [s, path] = clouds[k == 1 ? 0 : i * (n - 1) / (k - 1)];
      gif.push_back(io::render_panel(
          panel(fmt::format("{} flow, step {}", flow_, s), data::load_points(path)), 360, 360));
    }
    if (!gif.empty()) io::write_gif((fs::path(ctx.dir) / "particles.gif").string(), gif, 8);
  }
  std::vector<double> steps, sw, fsteps, floor;
  auto rows = train::read_metrics(ctx.dir);
  train::metric_column(rows, "sliced_w2", steps, sw);
  train::metric_column(rows, "sliced_w2_floor", fsteps, floor);
  if (!steps.empty()) {
    io::LinePanel lp{"sliced-W2 to the target", "step", "sliced-W2", {}, true};
    lp.curves.push_back({sw, steps, "particles"});
    lp.curves.push_back({floor, fsteps, "floor (target vs target)"});
    io::save_figure((fs::path(ctx.dir) / "sliced_w2.png").string(), {lp}, 640, 360);
  }
}

}  // namespace

std::unique_ptr<Method> make_particle_flow() { return std::make_unique<ParticleFlow>(); }

}  // namespace fx::methods
