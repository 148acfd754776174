// PFGM on the shared training spine: a thin adapter over gen/pfgm*.h. Points (built-in 2-D
// sets or a .csv/.npy file) with gen::PoissonMLP; images (Fashion-MNIST or a PNG folder) with
// gen::PoissonUNet, the DDPM U-Net plus a v_z channel, scored like DDPM (FD-FMNIST,
// precision/recall with floors).
#include "fluxion/gen/pfgm.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/data/image_folder.h"
#include "fluxion/data/npy_images.h"
#include "fluxion/data/point_source.h"
#include "fluxion/gen/pfgm_prior.h"
#include "fluxion/gen/pfgm_sample.h"
#include "fluxion/gen/pfgm_unet.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/plot.h"
#include "fluxion/io/png.h"
#include "fluxion/methods/method.h"
#include "fluxion/methods/point_methods.h"
#include "fluxion/methods/unet_options.h"
#include "fluxion/nn/module_io.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/run/ddpm_run.h"
#include "fluxion/run/image_metrics.h"

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
  // --z-max and --upper-norm default to 0 = by the data: 10 / 50 for points at the scale of
  // the built-in sets (radius ~4), the reference's 40 / 3000 for images. Those fit CIFAR-10,
  // whose prior radius concentrates near z_max·sqrt(3072) ≈ 2200; in 2-D the radius is
  // ~1.7 z_max with a 1/r² tail, and starts far out make the ODE stiff and leave outliers
  // (moons, RK45: sliced-W2 32x the floor with 40/200, at the floor with 10/50; docs/pfgm.md).
  Pfgm() {
    c_.z_max = 0;
    c_.upper_norm = 0;
    images_.unet.attn_resolutions = {7};
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
    o.add("data", data_,
          "built-in 2-D set (moons, 8gaussians, ...), .csv/.npy points, fashion-mnist, or a "
          "folder of PNG images");
    o.add("sigma", c_.sigma, "σ: std of the initial perturbation");
    o.add("tau", c_.tau, "τ: perturbation radii grow as (1+τ)^m");
    o.add("gamma", c_.gamma, "γ in the target sqrt(N)·E/(|E|+γ)");
    o.add("z-max", c_.z_max, "height of the prior's plane (0: 10 for points, 40 for images)");
    o.add("m", c_.M, "m ~ U[0, M] (0: so that σ(1+τ)^M = z-max)");
    o.add("restrict-m", c_.restrict_M, "draw m on [0, 0.7M] when |ε_z| < 0.005, as the reference");
    o.add("large-batch", c_.large_batch, "data points (charges) per field target");
    o.add("hidden", hidden_, "points: width of the MLP's hidden layers");
    o.add("layers", layers_, "points: number of hidden layers");
    run::DdpmRunConfig& im = images_;
    o.add("data-dir", im.data_dir, "images: Fashion-MNIST folder (\"\": the default)");
    o.add("limit", im.limit, "images: use only the first N training images (-1: all)");
    o.add("flip", im.flip, "images: random horizontal flips");
    o.add("clip", im.clip, "images: gradient-norm clip (0: off)");
    o.add("ema", im.ema, "images: EMA decay of the sampling weights (0: off)");
    declare_unet_shape(o, im.unet, "images: ");
    o.add("norm-groups", im.unet.norm_groups, "images: GroupNorm groups");
    o.add("grid", grid_, "images: samples in the grid after training (0: none)").in_config = false;
  }

  void validate(const train::TrainConfig& t) const override {
    gen::PfgmConfig c = resolved();
    c.small_batch = t.batch;
    c.validate();
    FX_CHECK(hidden_ > 0, "pfgm: --hidden must be positive, got {}", hidden_);
    FX_CHECK(layers_ > 0, "pfgm: --layers must be positive, got {}", layers_);
    if (images()) {
      FX_CHECK(images_.ema >= 0 && images_.ema < 1, "pfgm: --ema must be in [0, 1), got {}",
               images_.ema);
      FX_CHECK(images_.clip >= 0, "pfgm: --clip must be >= 0, got {}", images_.clip);
      nn::validate(images_.unet);
    }
  }

  void build(const RunContext& ctx) override {
    validate(ctx.train);
    c_ = resolved();
    c_.small_batch = ctx.train.batch;
    nn::InitRng rng(ctx.train.seed);
    if (images()) {
      images_.data = data_;
      net_ = std::make_unique<gen::PoissonUNet>(images_.unet, rng);
      return;
    }
    FX_CHECK(data_ != "gaussian", "pfgm: --data gaussian needs a dimension; give a .csv/.npy file");
    points_ = std::make_unique<data::PointSource>(data_, 2);
    net_ = std::make_unique<gen::PoissonMLP>(
        gen::PoissonMLPConfig{.dim = points_->dim(), .hidden = hidden_, .layers = layers_}, rng);
  }

  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override {
    return net_->named_parameters();
  }

  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override {
    const int64_t B = c_.small_batch, D = net_->dim() + 1;
    optim::TrainerOptions opts = ctx.train.trainer_options();
    if (images()) {
      opts.max_grad_norm = images_.clip;
      opts.ema_decay = images_.ema;
    }
    gen::PoissonNet* net = net_.get();
    auto trainer = std::make_unique<optim::Trainer>(
        *net_, optim::adam(),
        [net](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
          return gen::pfgm_loss(*net, b.at("xz"), b.at("target"));
        },
        std::vector<optim::BatchInput>{{"xz", {B, D}}, {"target", {B, D}}}, opts);
    trainer_ = trainer.get();
    // The small batch is the first rows of the large one, as in the reference.
    uint64_t seed = ctx.train.seed;
    std::function<Tensor(int64_t)> draw;
    if (images()) {
      auto imgs = std::make_shared<data::ImageBatches>(run::load_training_images(images_));
      if (!ctx.quiet)
        std::fprintf(stderr, "pfgm: %lld training images %s; U-Net with %lld parameters\n",
                     (long long)imgs->size(), shape_str(imgs->images().shape()).c_str(),
                     (long long)net_->parameter_count());
      const int64_t L = c_.large_batch, N = D - 1;
      const bool flip = images_.flip;
      draw = [imgs, L, N, seed, flip](int64_t s) {
        return imgs->batch(L, seed ^ 0x5eedULL, s, flip).reshaped({L, N});
      };
    } else {
      draw = [this, seed](int64_t s) {
        return points_->sample(c_.large_batch, data::mix_seed(seed, s, 1));
      };
    }
    train::BatchFn batches = [this, draw, seed, B](int64_t s) {
      Tensor big = draw(s);
      Tensor xz = gen::pfgm_perturb(first_rows(big, B), c_, data::mix_seed(seed, s, 2));
      Tensor target = gen::pfgm_field_target(xz, big, c_.gamma);
      return Feeds{{"xz", xz}, {"target", target}};
    };
    return std::make_unique<train::TrainerLearner>(std::move(trainer), std::move(batches));
  }

  void after_training(const RunContext& ctx, train::Learner&) override {
    if (ctx.dir.empty()) return;
    const uint64_t seed = ctx.train.seed;
    if (images()) {
      save_loss_picture(ctx.dir, "PFGM training loss");
      if (grid_ <= 0) return;
      step_ = ctx.train.steps;
      ema_ = trainer_->ema_weights();
      SamplingWeights w(*this);
      std::string path = (fs::path(ctx.dir) / "samples.png").string();
      io::write_png(path, io::image_grid(sample_images(grid_, seed + 1, {}).first));
      if (!ctx.quiet)
        std::fprintf(stderr, "sample grid (%s, %s weights): %s\n", solver_label().c_str(),
                     w.ema ? "EMA" : "raw", path.c_str());
      return;
    }
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
    o.add("solver", solver_,
          "euler | euler-z (Euler steps in z, the reference's PC predictor) | heun | rk45 "
          "(adaptive, tolerance --tol)");
    o.add("ode-steps", ode_steps_, "steps of the fixed-step solvers (uniform in log z)");
    o.add("tol", tol_, "rk45 relative and absolute tolerance");
    // How to sample, not what was trained: variable per `sample`/`eval` call.
    o.add("upper-norm", c_.upper_norm,
          "prior radius clipped to [1, upper-norm] (0: 50 for points, 3000 for images)");
    o.add("z-exp", c_.z_exp, "below this z the sampler estimates v_z from v_x");
    o.add("eps", c_.eps, "the sampling ODE stops at z = eps");
    o.add("raw-weights", raw_, "images: sample with the raw weights, not the EMA");
    o.add("classifier", classifier_, "images, eval: FD-FMNIST feature network (safetensors)");
  }

  void loaded(const train::Checkpoint& c) override {
    step_ = c.step;
    ema_.clear();
    const std::string prefix = "ema/";
    for (auto& [k, v] : c.state)
      if (k.rfind(prefix, 0) == 0) ema_[k.substr(prefix.size())] = v.to(DType::f32);
  }

  int64_t default_sample_count() const override { return images() ? 64 : 2000; }

  Tensor sample(const RunContext& ctx, int64_t n, uint64_t seed) override {
    if (!images()) return run_sampler(n, seed, sampling_executor(ctx)).x;
    SamplingWeights w(*this);
    auto t0 = std::chrono::steady_clock::now();
    auto [x, nfe] = sample_images(n, seed, sampling_executor(ctx));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    note_ = fmt::format("{} images ({}, NFE {}, step {}, {} weights) in {:.1f} s", n,
                        solver_label(), nfe, step_, w.ema ? "EMA" : "raw", secs);
    return x;
  }
  std::string sample_note() const override { return note_; }

  nlohmann::json evaluate(const RunContext& ctx, int64_t n, uint64_t seed) override {
    if (images()) return evaluate_images(ctx, n, seed);
    solvers::OdeResult r = run_sampler(n, seed, sampling_executor(ctx));
    nlohmann::json j = score_points(r.x, *points_, seed);
    j["model"] = "PFGM";
    j["solver"] = solver_;
    if (solver_ != "rk45") j["ode_steps"] = ode_steps_;
    j["nfe"] = r.nfe;
    j["z_max"] = c_.z_max;
    j["upper_norm"] = c_.upper_norm;
    return j;
  }

 private:
  bool images() const {
    std::error_code ec;
    return data_ == "fashion-mnist" || fs::is_directory(data_, ec) || data::npy_holds_images(data_);
  }

  // The options with z_max / upper_norm resolved from 0 (by the data) to their values.
  // Images: upper_norm is the largest radius training perturbs to (PfgmConfig::largest_radius),
  // z_max·sqrt(N) with the automatic M (1120 for Fashion-MNIST; the reference's 3000 is this
  // for CIFAR-10, N = 3072, its M = 291). The prior's radius has a heavy tail (median about
  // 1.5·z_max·sqrt(N) at N = 784): clipped at 3000 instead, 40% of the Fashion-MNIST samples
  // started where the network never trained and ended as noise.
  gen::PfgmConfig resolved() const {
    gen::PfgmConfig c = c_;
    if (c.z_max == 0) c.z_max = images() ? 40 : 10;
    if (c.upper_norm == 0) {
      c.upper_norm = 50;
      if (images()) {
        const nn::UNetConfig& u = images_.unet;
        c.upper_norm = std::max(1.0, c.largest_radius(u.in_channels * u.image_size * u.image_size));
      }
    }
    return c;
  }

  // While alive, the network samples with the EMA weights when there are some, --raw-weights
  // is off, and they are past their start (step >= 5/(1-decay), as DDPM's uses_ema).
  struct SamplingWeights {
    Pfgm& m;
    bool ema = false;
    std::map<std::string, Tensor> saved;
    explicit SamplingWeights(Pfgm& pm) : m(pm) {
      ema = !m.raw_ && !m.ema_.empty() && m.images_.ema > 0 &&
            double(m.step_) * (1.0 - m.images_.ema) >= 5.0;
      if (!ema) return;
      for (auto& [name, p] : m.net_->named_parameters()) {
        auto it = m.ema_.find(name);
        FX_CHECK(it != m.ema_.end(), "pfgm: the checkpoint has no EMA weight for {}", name);
        saved[name] = p->value;
        p->value = it->second;
      }
    }
    ~SamplingWeights() {
      for (auto& [name, p] : m.net_->named_parameters())
        if (auto it = saved.find(name); it != saved.end()) p->value = it->second;
    }
  };

  std::string solver_label() const {
    return solver_ == "rk45" ? fmt::format("rk45 tol {}", tol_)
                             : fmt::format("{} {} steps", solver_, ode_steps_);
  }

  // n images [n, C, S, S] in [-1, 1] and the NFE per sample; batches of 250 per network call.
  std::pair<Tensor, int64_t> sample_images(int64_t n, uint64_t seed,
                                           const runtime::ExecutorOptions& run) {
    FX_CHECK(n > 0, "pfgm: the sample count must be positive, got {}", n);
    const nn::UNetConfig& u = images_.unet;
    const int64_t N = net_->dim();
    Tensor x = gen::pfgm_prior(n, N, c_.z_max, c_.upper_norm, data::mix_seed(seed, 1, 5));
    solvers::OdeResult r = gen::pfgm_sample(*net_, x, c_, ode_options(solver_, ode_steps_), 250,
                                            solver_ == "euler-z", run);
    Tensor img = r.x.reshaped({n, u.in_channels, u.image_size, u.image_size});
    float* p = img.data<float>();
    for (int64_t i = 0; i < img.numel(); ++i) p[i] = std::clamp(p[i], -1.0f, 1.0f);
    return {img, r.nfe};
  }

  // FD-FMNIST, precision and recall against the test split, beside the train-vs-test floor
  // (run/image_metrics.h, as `eval ddpm`); the first 64 samples go to <run>/eval_<solver>.png.
  nlohmann::json evaluate_images(const RunContext& ctx, int64_t n, uint64_t seed) {
    const nn::UNetConfig& u = images_.unet;
    FX_CHECK(u.in_channels == 1 && u.image_size == 28,
             "pfgm eval: FD-FMNIST scores 1x28x28 Fashion-MNIST-like images; the run in {} makes "
             "{}x{}x{}",
             ctx.dir, u.in_channels, u.image_size, u.image_size);
    FX_CHECK(n >= 4 && n <= 10000, "pfgm eval: -n {} must be in [4, 10000] (the test split's size)",
             n);
    run::FmnistFeatures features(classifier_);  // fails early on a bad classifier file
    SamplingWeights w(*this);
    auto t0 = std::chrono::steady_clock::now();
    auto [x, nfe] = sample_images(n, seed, sampling_executor(ctx));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Tensor x01 = x.clone();
    for (int64_t i = 0; i < x01.numel(); ++i) x01.data<float>()[i] = (x01.data<float>()[i] + 1) / 2;
    auto [s, floor] = run::score_with_floor(features, x01, images_.data_dir);
    std::string grid =
        (fs::path(ctx.dir) /
         fmt::format("eval_{}{}.png", solver_, solver_ == "rk45" ? "" : std::to_string(ode_steps_)))
            .string();
    const int64_t show = std::min<int64_t>(64, n);
    Tensor first({show, 1, 28, 28}, DType::f32);
    std::memcpy(first.data<float>(), x.data<float>(), first.nbytes());
    io::write_png(grid, io::image_grid(first));
    return {{"model", "PFGM"},
            {"solver", solver_label()},
            {"weights", w.ema ? "EMA" : "raw"},
            {"n", n},
            {"nfe", nfe},
            {"fd", s.fd},
            {"fd_floor", floor.fd},
            {"precision", s.precision},
            {"precision_floor", floor.precision},
            {"recall", s.recall},
            {"recall_floor", floor.recall},
            {"seconds", secs},
            {"z_max", c_.z_max},
            {"upper_norm", c_.upper_norm},
            {"grid", grid}};
  }

  // "euler-z" is Euler with steps in z (pfgm_sample's steps_in_z).
  solvers::OdeOptions ode_options(const std::string& solver, int64_t steps) const {
    solvers::OdeOptions o;
    FX_CHECK(solver == "euler" || solver == "euler-z" || solver == "heun" || solver == "rk45",
             "pfgm: --solver must be euler, euler-z, heun or rk45, got {}", solver);
    o.method = solvers::method_from_name(solver == "euler-z" ? "euler" : solver);
    FX_CHECK(o.method == solvers::Method::rk45 || steps > 0,
             "pfgm: --ode-steps must be positive, got {}", steps);
    FX_CHECK(tol_ > 0, "pfgm: --tol must be positive, got {}", tol_);
    o.steps = int(steps);
    o.rtol = o.atol = tol_;
    return o;
  }

  // sample/eval's --compile and --precision for the network calls (training's grid runs fp32,
  // interpreted: the default options).
  static runtime::ExecutorOptions sampling_executor(const RunContext& ctx) {
    runtime::ExecutorOptions run;
    run.precision.precision = amp::precision_from_name(ctx.sample_precision);
    run.compile = ctx.sample_compile;
    return run;
  }

  solvers::OdeResult run_sampler(int64_t n, uint64_t seed, const runtime::ExecutorOptions& run) {
    FX_CHECK(n > 0, "pfgm: the sample count must be positive, got {}", n);
    Tensor x =
        gen::pfgm_prior(n, points_->dim(), c_.z_max, c_.upper_norm, data::mix_seed(seed, 1, 5));
    return gen::pfgm_sample(*net_, x, c_, ode_options(solver_, ode_steps_), 4096,
                            solver_ == "euler-z", run);
  }

  gen::PfgmConfig c_;
  std::string data_ = "moons";
  int64_t hidden_ = 256, layers_ = 3;
  run::DdpmRunConfig images_;  // the image options (data, U-Net, EMA, clip) DDPM also has
  int64_t grid_ = 64, step_ = 0;
  std::map<std::string, Tensor> ema_;
  optim::Trainer* trainer_ = nullptr;  // owned by the learner, for the EMA after training
  bool raw_ = false;
  std::string classifier_ = run::default_classifier_path(), note_;
  std::string solver_ = "rk45";
  int64_t ode_steps_ = 20;
  double tol_ = 1e-4;
  std::unique_ptr<data::PointSource> points_;
  std::unique_ptr<gen::PoissonNet> net_;
};

}  // namespace

std::unique_ptr<Method> make_pfgm() { return std::make_unique<Pfgm>(); }

}  // namespace fx::methods
