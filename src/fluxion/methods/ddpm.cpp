// DDPM (gen/ddpm.h) on images with the U-Net: ε- or v-prediction training with EMA weights,
// ancestral, DDIM and probability-flow ODE sampling, and FD-FMNIST / precision / recall
// evaluation (run/ddpm_eval.h) on Fashion-MNIST or a folder of PNG images.
// On points (a built-in 2-D set or a .csv/.npy, any other --data) the noise predictor is an MLP
// on [x_t, t/T] (gen::VelocityMLP), the data are standardised per coordinate, the predicted x0
// is not clipped, and eval gives sliced-W2 and MMD with floors like the other point methods;
// the same samplers run with the network-call count reported as NFE.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/data/image_folder.h"
#include "fluxion/data/npy_images.h"
#include "fluxion/data/point_source.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/gen/rectified_flow.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/png.h"
#include "fluxion/methods/method.h"
#include "fluxion/methods/point_methods.h"
#include "fluxion/methods/unet_options.h"
#include "fluxion/run/ddpm_eval.h"
#include "fluxion/run/ddpm_run.h"

namespace fx::methods {

namespace {

namespace fs = std::filesystem;

// The point half of the method: data, their standardisation, the MLP and its sampler.
struct DdpmPoints {
  std::unique_ptr<data::PointSource> data;
  std::vector<double> mean, scale;  // x_std = (x - mean) / scale, from 20,000 data points
  std::unique_ptr<gen::VelocityMLP> net;

  void build(const std::string& spec, const gen::VelocityConfig& cfg, uint64_t seed) {
    data = std::make_unique<data::PointSource>(spec, 2);
    const int64_t n = 20000, D = data->dim();
    Tensor x = data->sample(n, 0x5ca1eULL);  // fixed: a function of the data only
    mean.assign(D, 0.0);
    scale.assign(D, 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t d = 0; d < D; ++d) mean[d] += x.data<float>()[i * D + d] / double(n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t d = 0; d < D; ++d) {
        double v = x.data<float>()[i * D + d] - mean[d];
        scale[d] += v * v / double(n);
      }
    for (double& v : scale) v = std::max(std::sqrt(v), 1e-6);
    gen::VelocityConfig c = cfg;
    c.dim = D;
    nn::InitRng rng(seed);
    net = std::make_unique<gen::VelocityMLP>(c, rng);
  }
  Tensor standardise(Tensor x) const {
    const int64_t D = x.dim(1);
    float* p = x.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] = float((p[i] - mean[i % D]) / scale[i % D]);
    return x;
  }
  Tensor unstandardise(Tensor x) const {
    const int64_t D = x.dim(1);
    float* p = x.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] = float(p[i] * scale[i % D] + mean[i % D]);
    return x;
  }
  // n points, in one batch of the sampler (so network calls = NFE per sample).
  Tensor sample(const gen::DdpmSchedule& sched, gen::Prediction pred, int64_t n,
                gen::SamplerOptions o, gen::SampleStats* st) {
    gen::VelocityEvaluator ev(*net, n, o.precision, o.compile);
    const double T = double(sched.T());
    gen::Predictor f = [&ev, T](const Tensor& x, double t) { return ev(x, t / T); };
    o.clip = 0;  // standardised points are unbounded
    return unstandardise(gen::ddpm_sample(f, {n, data->dim()}, sched, pred, n, o, nullptr, st));
  }
};

class Ddpm : public Method {
 public:
  std::string name() const override { return "ddpm"; }
  std::string summary() const override {
    return "DDPM with a U-Net on images (Fashion-MNIST or PNGs) or an MLP on points; ancestral, "
           "DDIM, PF-ODE";
  }
  train::TrainConfig default_train_config() const override {
    train::TrainConfig t;
    t.steps = 2000;
    t.batch = 64;
    t.lr = 2e-4;
    return t;
  }
  void declare(train::OptionSet& o) override {
    run::DdpmRunConfig& c = run_.cfg;
    o.add("data", c.data,
          "fashion-mnist, a folder of PNG images, an .npy of images [N, C, H, W] in [0, 1], or "
          "points: a built-in 2-D set or .csv/.npy [N, D]");
    o.add("data-dir", c.data_dir,
          "Fashion-MNIST folder (\"\": $FLUXION_FASHION_MNIST_DIR or "
          "/usr/share/datasets/fashion-mnist)");
    o.add("limit", c.limit, "use only the first N training images (-1: all)");
    o.add("crop", c.crop, "PNG folder: centre-crop images that are not square");
    o.add("flip", c.flip, "random horizontal flips");
    o.add("clip", c.clip, "gradient-norm clip (0: off)");
    o.add("ema", c.ema, "EMA decay of the sampling weights (0: off)");
    o.add("schedule", c.schedule, "beta schedule: linear or cosine");
    o.add("timesteps", c.timesteps, "diffusion steps T");
    o.add("prediction", c.prediction, "network target: eps or v");
    declare_unet_shape(o, c.unet, "");
    o.add("heads", c.unet.attn_heads, "attention heads");
    o.add("norm-groups", c.unet.norm_groups, "GroupNorm groups");
    o.add("dropout", c.unet.dropout, "dropout in the ResBlocks");
    o.add("hidden", mlp_.hidden, "points: width of the MLP's hidden layers");
    o.add("layers", mlp_.layers, "points: number of hidden layers");
    o.add("grid", grid_, "images in the sample grid after training (DDIM 50 steps; 0: none)")
        .in_config = false;
  }
  void validate(const train::TrainConfig&) const override {
    run::validate_ddpm_config(run_.cfg);
    FX_CHECK(mlp_.hidden > 0 && mlp_.layers > 0,
             "ddpm: --hidden and --layers must be positive, got {} and {}", mlp_.hidden,
             mlp_.layers);
  }

  void build(const RunContext& ctx) override {
    sched_ = gen::make_schedule(run_.cfg.schedule, run_.cfg.timesteps);
    if (points()) {
      pts_.build(run_.cfg.data, mlp_, ctx.train.seed);
      return;
    }
    nn::InitRng rng(ctx.train.seed);
    run_.model = std::make_unique<nn::UNet>(run_.cfg.unet, rng);
  }
  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override {
    return points() ? pts_.net->named_parameters() : run_.model->named_parameters();
  }
  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override {
    if (points()) return point_learner(ctx);
    const run::DdpmRunConfig& c = run_.cfg;
    auto images = std::make_shared<data::ImageBatches>(run::load_training_images(c));
    if (!ctx.quiet)
      std::fprintf(stderr, "ddpm: %lld training images %s; U-Net with %lld parameters\n",
                   (long long)images->size(), shape_str(images->images().shape()).c_str(),
                   (long long)run_.model->parameter_count());
    sched_ = gen::make_schedule(c.schedule, c.timesteps);
    const gen::Prediction pred = gen::prediction_from_name(c.prediction);
    const train::TrainConfig& t = ctx.train;
    optim::TrainerOptions opts = t.trainer_options();
    opts.max_grad_norm = c.clip;
    opts.ema_decay = c.ema;
    nn::UNet& net = *run_.model;
    const gen::DdpmSchedule* sched = &sched_;
    const int64_t B = t.batch;
    auto trainer = std::make_unique<optim::Trainer>(
        net, optim::adam(),
        [&net, sched, pred](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
          return gen::ddpm_loss(net, *sched, b.at("x"), key, pred);
        },
        std::vector<optim::BatchInput>{
            {"x", {B, c.unet.in_channels, c.unet.image_size, c.unet.image_size}}},
        opts);
    trainer_ = trainer.get();
    const uint64_t stream = t.seed ^ 0x5eedULL;
    const bool flip = c.flip;
    return std::make_unique<train::TrainerLearner>(
        std::move(trainer), [images, B, stream, flip](int64_t s) -> Feeds {
          return {{"x", images->batch(B, stream, s, flip)}};
        });
  }
  void after_training(const RunContext& ctx, train::Learner&) override {
    if (points()) {
      if (ctx.dir.empty()) return;
      save_loss_picture(ctx.dir, "DDPM training loss");
      gen::SamplerOptions o = sampler_options(ctx, ctx.train.seed + 1);
      Tensor x = pts_.sample(sched_, prediction(), 2000, o, nullptr);
      save_samples_picture((fs::path(ctx.dir) / "samples.png").string(),
                           "DDPM samples (DDIM " + std::to_string(o.steps) + ") vs data", x,
                           *pts_.data, ctx.train.seed);
      return;
    }
    run_.ema = trainer_->ema_weights();
    save_loss_picture(ctx.dir, "DDPM training loss");
    if (grid_ <= 0) return;
    gen::SamplerOptions o;
    o.seed = ctx.train.seed + 1;
    o.steps = std::min<int64_t>(50, run_.cfg.timesteps);
    o.compile = ctx.train.compile;
    std::string path = (fs::path(ctx.dir) / "samples.png").string();
    io::write_png(path,
                  io::image_grid(run::sample_ddpm(run_, grid_, o, false, nullptr, ctx.quiet)));
    if (!ctx.quiet)
      std::fprintf(stderr, "sample grid (DDIM %lld steps, %s weights): %s\n", (long long)o.steps,
                   run::uses_ema(run_, false) ? "EMA" : "raw", path.c_str());
  }

  void loaded(const train::Checkpoint& c) override {
    run_.step = c.step;
    run_.ema.clear();
    const std::string prefix = "ema/";
    for (auto& [k, v] : c.state)
      if (k.rfind(prefix, 0) == 0) run_.ema[k.substr(prefix.size())] = v.to(DType::f32);
  }
  void declare_sampling(train::OptionSet& o) override {
    o.add("sampler", sampler_.method,
          "ancestral (all T steps), ddim, or ode (probability-flow ODE, --solver)");
    o.add("steps", sampler_.steps, "DDIM steps, or ODE steps for a fixed-step --solver");
    o.add("eta", sampler_.eta, "DDIM eta (0: deterministic)");
    o.add("source-scale", sampler_.noise_scale,
          "truncation: the starting noise x_T scaled by this (1: as trained)");
    o.add("variance", variance_, "ancestral variance: beta or beta-tilde");
    o.add("solver", sampler_.ode_solver, "--sampler ode: euler, heun, rk4 or rk45");
    o.add("rtol", sampler_.rtol, "--solver rk45: relative tolerance");
    o.add("atol", sampler_.atol, "--solver rk45: absolute tolerance");
    o.add("batch", sampler_.batch, "images per network call");
    o.add("raw-weights", raw_, "sample with the raw weights (EMA once step >= 5/(1-decay))");
    o.add("precision-measure", measure_,
          "with --precision: keep f32 where the low-precision kernel is slower on this CPU");
    o.add("classifier", classifier_, "eval: FD-FMNIST feature network (safetensors)");
  }
  int64_t default_sample_count() const override { return points() ? 2000 : 64; }
  Tensor sample(const RunContext& ctx, int64_t n, uint64_t seed) override {
    gen::SamplerOptions o = sampler_options(ctx, seed);
    if (points()) return pts_.sample(sched_, prediction(), n, o, nullptr);
    gen::SampleStats st;
    auto t0 = std::chrono::steady_clock::now();
    Tensor x = run::sample_ddpm(run_, n, o, raw_, &st, ctx.quiet);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    note_ = fmt::format(
        "{} images ({}, {} network calls, step {}, {} weights) in {:.1f} s = {:.3f} "
        "images/s",
        n, run::sampler_label(o, run_, variance_), st.network_calls, run_.step,
        run::uses_ema(run_, raw_) ? "EMA" : "raw", secs, n / secs);
    return x;
  }
  std::string sample_note() const override { return note_; }
  nlohmann::json evaluate(const RunContext& ctx, int64_t n, uint64_t seed) override {
    if (points()) {
      gen::SamplerOptions o = sampler_options(ctx, seed);
      gen::SampleStats st;
      Tensor x = pts_.sample(sched_, prediction(), n, o, &st);
      nlohmann::json j = score_points(x, *pts_.data, seed);
      j["model"] = "DDPM";
      j["sampler"] = o.method == "ode" ? "ode " + o.ode_solver : o.method;
      j["nfe"] = st.network_calls;
      return j;
    }
    run::DdpmEvalOptions o;
    o.n = n;
    o.sampler = sampler_options(ctx, seed);
    o.variance = variance_;
    o.classifier = classifier_;
    o.data_dir = run_.cfg.data_dir;
    run::DdpmEvalResult e = run::evaluate_ddpm(run_, ctx.dir, o);
    nlohmann::json j = e.to_json(run_);
    j.erase("seconds");
    j.erase("step");
    return j;
  }

 private:
  // Points: a built-in set or a .csv/.npy file; anything else is images (and a missing folder
  // fails there with the message that names all three).
  bool points() const {
    const std::string& d = run_.cfg.data;
    auto ends = [&d](const char* x) {
      const size_t n = std::strlen(x);
      return d.size() >= n && d.compare(d.size() - n, n, x) == 0;
    };
    const auto names = data::toy_names();
    return ends(".csv") || (ends(".npy") && !data::npy_holds_images(d)) ||
           std::find(names.begin(), names.end(), d) != names.end();
  }
  gen::Prediction prediction() const { return gen::prediction_from_name(run_.cfg.prediction); }

  // ε-prediction on standardised points, t ~ U{0..T-1} in the graph, the MLP fed t/T.
  std::unique_ptr<train::Learner> point_learner(const RunContext& ctx) {
    const train::TrainConfig& t = ctx.train;
    optim::TrainerOptions opts = t.trainer_options();
    opts.max_grad_norm = run_.cfg.clip;
    gen::VelocityMLP& net = *pts_.net;
    const gen::DdpmSchedule* sched = &sched_;
    const gen::Prediction pred = prediction();
    const double T = double(sched_.T());
    const int64_t B = t.batch, D = pts_.data->dim();
    auto trainer = std::make_unique<optim::Trainer>(
        net, optim::adam(),
        [&net, sched, pred, T, B](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
          gen::NoiseModel m = [&net, T, B](Var xt, Var tt, Var) {
            return net(xt, reshape(tt, {B, 1}) / T);
          };
          return gen::ddpm_loss(m, *sched, b.at("x"), key, pred);
        },
        std::vector<optim::BatchInput>{{"x", {B, D}}}, opts);
    const uint64_t seed = t.seed;
    return std::make_unique<train::TrainerLearner>(std::move(trainer), [this, B, seed](int64_t s) {
      return Feeds{{"x", pts_.standardise(pts_.data->sample(B, data::mix_seed(seed, s, 1)))}};
    });
  }

  gen::SamplerOptions sampler_options(const RunContext& ctx, uint64_t seed) const {
    gen::SamplerOptions o = sampler_;
    o.seed = seed;
    o.variance = gen::variance_from_name(variance_);
    o.precision.precision = amp::precision_from_name(ctx.sample_precision);
    o.precision.measure = measure_;
    o.compile = ctx.sample_compile;
    return o;
  }

  run::DdpmRun run_;
  gen::VelocityConfig mlp_ = [] {
    gen::VelocityConfig c;
    c.hidden = 256;
    c.layers = 3;
    return c;
  }();
  DdpmPoints pts_;
  gen::DdpmSchedule sched_;
  optim::Trainer* trainer_ = nullptr;  // owned by the learner, for the EMA after training
  int64_t grid_ = 64;
  gen::SamplerOptions sampler_ = [] {
    gen::SamplerOptions o;
    o.batch = 250;
    return o;
  }();
  std::string variance_ = "beta", note_;
  bool raw_ = false, measure_ = true;
  std::string classifier_ = run::default_classifier_path();
};

}  // namespace

std::unique_ptr<Method> make_ddpm() { return std::make_unique<Ddpm>(); }

}  // namespace fx::methods
