// PFGM on the shared training spine: a thin adapter over gen/pfgm*.h. Points only (built-in
// 2-D sets or a .csv/.npy file); the field network is gen::PoissonMLP.
#include "fluxion/gen/pfgm.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/data/point_source.h"
#include "fluxion/gen/pfgm_prior.h"
#include "fluxion/gen/pfgm_sample.h"
#include "fluxion/io/plot.h"
#include "fluxion/methods/method.h"
#include "fluxion/methods/point_methods.h"

namespace fx::methods {
namespace {

namespace fs = std::filesystem;

Tensor first_rows(const Tensor& x, int64_t n) {
  Tensor out({n, x.dim(1)}, DType::f32);
  std::memcpy(out.raw(), x.raw(), out.nbytes());
  return out;
}

class Pfgm : public Method {
 public:
  // Defaults for points at the scale of the built-in sets (radius ~4). The reference's
  // z_max 40 / upper_norm 3000 fit CIFAR-10, whose prior radius concentrates near
  // z_max·sqrt(3072) ≈ 2200; in 2-D the radius is ~1.7 z_max with a 1/r² tail, and starts
  // far out make the ODE stiff and leave outliers (moons, RK45: sliced-W2 32x the floor
  // with 40/200, at the floor with 10/50; docs/pfgm.md).
  Pfgm() {
    c_.z_max = 10;
    c_.upper_norm = 50;
  }

  std::string name() const override { return "pfgm"; }
  std::string summary() const override {
    return "Poisson flow generative model (Xu et al. 2022): data as charges, samples follow "
           "field lines";
  }

  train::TrainConfig default_train_config() const override {
    train::TrainConfig t;
    t.steps = 3000;
    t.batch = 128;  // the small (perturbed) batch
    t.lr = 1e-3;
    t.lr_decay = "cosine";
    return t;
  }

  void declare(train::OptionSet& o) override {
    o.add("data", data_, "built-in 2-D set (moons, 8gaussians, checkerboard, ...) or .csv/.npy");
    o.add("sigma", c_.sigma, "σ: std of the initial perturbation");
    o.add("tau", c_.tau, "τ: perturbation radii grow as (1+τ)^m");
    o.add("gamma", c_.gamma, "γ in the target sqrt(N)·E/(|E|+γ)");
    o.add("z-max", c_.z_max, "height of the prior's plane");
    o.add("m", c_.M, "m ~ U[0, M] (0: so that σ(1+τ)^M = z-max)");
    o.add("restrict-m", c_.restrict_M, "draw m on [0, 0.7M] when |ε_z| < 0.005, as the reference");
    o.add("large-batch", c_.large_batch, "data points (charges) per field target");
    o.add("hidden", hidden_, "width of the hidden layers");
    o.add("layers", layers_, "number of hidden layers");
  }

  void validate(const train::TrainConfig& t) const override {
    gen::PfgmConfig c = c_;
    c.small_batch = t.batch;
    c.validate();
    FX_CHECK(hidden_ > 0, "pfgm: --hidden must be positive, got {}", hidden_);
    FX_CHECK(layers_ > 0, "pfgm: --layers must be positive, got {}", layers_);
  }

  void build(const RunContext& ctx) override {
    validate(ctx.train);
    c_.small_batch = ctx.train.batch;
    FX_CHECK(data_ != "gaussian", "pfgm: --data gaussian needs a dimension; give a .csv/.npy file");
    points_ = std::make_unique<data::PointSource>(data_, 2);
    nn::InitRng rng(ctx.train.seed);
    net_ = std::make_unique<gen::PoissonMLP>(
        gen::PoissonMLPConfig{.dim = points_->dim(), .hidden = hidden_, .layers = layers_}, rng);
  }

  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override {
    return net_->named_parameters();
  }

  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override {
    const int64_t B = c_.small_batch, D = points_->dim() + 1;
    optim::TrainerOptions opts = ctx.train.trainer_options();
    gen::PoissonMLP* net = net_.get();
    auto trainer = std::make_unique<optim::Trainer>(
        *net_, optim::adam(),
        [net](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
          return gen::pfgm_loss(*net, b.at("xz"), b.at("target"));
        },
        std::vector<optim::BatchInput>{{"xz", {B, D}}, {"target", {B, D}}}, opts);
    // The small batch is the first rows of the large one, as in the reference.
    uint64_t seed = ctx.train.seed;
    train::BatchFn batches = [this, seed, B](int64_t s) {
      Tensor big = points_->sample(c_.large_batch, data::mix_seed(seed, s, 1));
      Tensor xz = gen::pfgm_perturb(first_rows(big, B), c_, data::mix_seed(seed, s, 2));
      Tensor target = gen::pfgm_field_target(xz, big, c_.gamma);
      return Feeds{{"xz", xz}, {"target", target}};
    };
    return std::make_unique<train::TrainerLearner>(std::move(trainer), std::move(batches));
  }

  void after_training(const RunContext& ctx, train::Learner&) override {
    if (ctx.dir.empty()) return;
    const uint64_t seed = ctx.train.seed;
    if (points_->dim() >= 2) {
      // Samples (RK45) over the data, and the last Euler steps of field lines from the prior
      // (they start hundreds of units out, so the first steps fall outside the picture).
      Tensor x = gen::pfgm_prior(2000, points_->dim(), c_.z_max, c_.upper_norm,
                                 data::mix_seed(seed, 7, 6));
      Tensor gen_x;
      try {
        gen_x = gen::pfgm_sample(*net_, x, c_, ode_options("rk45", 0)).x;
      } catch (const Error& e) {  // an undertrained field can be too stiff for RK45
        std::fprintf(stderr, "note: samples.png drawn with Euler (100 steps): %s\n", e.what());
        gen_x = gen::pfgm_sample(*net_, x, c_, ode_options("euler", 100)).x;
      }
      save_samples_picture((fs::path(ctx.dir) / "samples.png").string(),
                           "PFGM samples (RK45) vs data", gen_x, *points_, seed);
      solvers::OdeOptions eu = ode_options("euler", 100);
      eu.keep_trajectory = true;
      auto tr = gen::pfgm_sample(*net_, first_rows(x, 300), c_, eu);
      std::vector<Tensor> tail(tr.trajectory.end() - std::min<size_t>(41, tr.trajectory.size()),
                               tr.trajectory.end());
      io::ScatterPanel paths{"PFGM field lines near the data (last 40 of 100 Euler steps)",
                             {},
                             {},
                             io::Box2{-6, 6, -6, 6}};
      paths.paths.push_back({tail, "path"});
      paths.series.push_back({tr.x, "end"});
      io::save_figure((fs::path(ctx.dir) / "trajectories.png").string(), {paths});
    }
    save_loss_picture(ctx.dir, "PFGM training loss");
  }

  void declare_sampling(train::OptionSet& o) override {
    o.add("solver", solver_, "euler | heun | rk45 (adaptive, tolerance --tol)");
    o.add("ode-steps", ode_steps_, "steps of the fixed-step solvers (uniform in log z)");
    o.add("tol", tol_, "rk45 relative and absolute tolerance");
    // How to sample, not what was trained: variable per `sample`/`eval` call.
    o.add("upper-norm", c_.upper_norm, "prior radius clipped to [1, upper-norm]");
    o.add("z-exp", c_.z_exp, "below this z the sampler estimates v_z from v_x");
    o.add("eps", c_.eps, "the sampling ODE stops at z = eps");
  }

  Tensor sample(const RunContext&, int64_t n, uint64_t seed) override {
    return run_sampler(n, seed).x;
  }

  nlohmann::json evaluate(const RunContext&, int64_t n, uint64_t seed) override {
    solvers::OdeResult r = run_sampler(n, seed);
    nlohmann::json j = score_points(r.x, *points_, seed);
    j["model"] = "PFGM";
    j["solver"] = solver_;
    if (solver_ != "rk45") j["ode_steps"] = ode_steps_;
    j["nfe"] = r.nfe;
    return j;
  }

 private:
  solvers::OdeOptions ode_options(const std::string& solver, int64_t steps) const {
    solvers::OdeOptions o;
    o.method = solvers::method_from_name(solver);
    FX_CHECK(o.method != solvers::Method::rk4, "pfgm: --solver must be euler, heun or rk45, got {}",
             solver);
    FX_CHECK(o.method == solvers::Method::rk45 || steps > 0,
             "pfgm: --ode-steps must be positive, got {}", steps);
    FX_CHECK(tol_ > 0, "pfgm: --tol must be positive, got {}", tol_);
    o.steps = int(steps);
    o.rtol = o.atol = tol_;
    return o;
  }

  solvers::OdeResult run_sampler(int64_t n, uint64_t seed) {
    FX_CHECK(n > 0, "pfgm: the sample count must be positive, got {}", n);
    Tensor x =
        gen::pfgm_prior(n, points_->dim(), c_.z_max, c_.upper_norm, data::mix_seed(seed, 1, 5));
    return gen::pfgm_sample(*net_, x, c_, ode_options(solver_, ode_steps_));
  }

  gen::PfgmConfig c_;
  std::string data_ = "moons";
  int64_t hidden_ = 256, layers_ = 3;
  std::string solver_ = "rk45";
  int64_t ode_steps_ = 20;
  double tol_ = 1e-4;
  std::unique_ptr<data::PointSource> points_;
  std::unique_ptr<gen::PoissonMLP> net_;
};

}  // namespace

std::unique_ptr<Method> make_pfgm() { return std::make_unique<Pfgm>(); }

}  // namespace fx::methods
