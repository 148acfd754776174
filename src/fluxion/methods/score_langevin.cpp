// Langevin with a learned score (gen/score_langevin.h) as a method: training is denoising
// score matching of a noise-conditional MLP on the run's points (a built-in set or a
// .csv/.npy file), on the spine's Trainer; `sample` runs annealed Langevin (or plain Langevin
// at one noise level) with the trained network, `eval` scores the samples with sliced-W2 and
// MMD beside their floors (and mode coverage on the built-in mixtures).
#include "fluxion/gen/score_langevin.h"

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/point_source.h"
#include "fluxion/gen/langevin.h"
#include "fluxion/methods/method.h"
#include "fluxion/methods/point_methods.h"

namespace fx::methods {

namespace {

class ScoreLangevin : public Method {
 public:
  std::string name() const override { return "score-langevin"; }
  std::string summary() const override {
    return "a score network trained by denoising score matching, sampled by (annealed) Langevin";
  }
  train::TrainConfig default_train_config() const override {
    train::TrainConfig t;
    t.steps = 5000;
    t.batch = 256;
    t.lr = 1e-3;
    t.lr_decay = "cosine";
    t.log_every = 100;
    t.checkpoint_every = 1000;
    return t;
  }
  void declare(train::OptionSet& o) override {
    o.add("data", data_, "points: built-in set or a .csv/.npy file");
    o.add("hidden", net_.hidden, "score MLP width");
    o.add("layers", net_.layers, "score MLP hidden layers");
    o.add("activation", net_.activation, "silu, relu, gelu or tanh");
    o.add("sigma-min", levels_.sigma_min, "smallest noise level σ of training and sampling");
    o.add("sigma-max", levels_.sigma_max, "largest noise level σ (annealing starts at N(0, σ²))");
  }
  void validate(const train::TrainConfig&) const override {
    levels_.validate();
    FX_CHECK(net_.hidden > 0 && net_.layers > 0,
             "--hidden and --layers must be positive, got {} and {}", net_.hidden, net_.layers);
  }
  void build(const RunContext& ctx) override {
    points_ = std::make_unique<data::PointSource>(data_, 2);
    gen::VelocityConfig c = net_;
    c.dim = points_->dim();
    nn::InitRng rng(ctx.train.seed);
    model_ = std::make_unique<gen::VelocityMLP>(c, rng);
    score_.reset();
  }
  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override {
    return model_->named_parameters();
  }
  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override {
    const int64_t B = ctx.train.batch, D = points_->dim();
    const uint64_t seed = ctx.train.seed;
    gen::VelocityMLP& m = *model_;
    gen::NoiseLevels lv = levels_;
    auto trainer = std::make_unique<optim::Trainer>(
        m, optim::adam(),
        [&m, lv](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
          return gen::dsm_loss(m, b.at("x"), key, lv);
        },
        std::vector<optim::BatchInput>{{"x", {B, D}}}, ctx.train.trainer_options());
    data::PointSource* p = points_.get();
    return std::make_unique<train::TrainerLearner>(std::move(trainer), [=](int64_t s) -> Feeds {
      return {{"x", p->sample(B, data::mix_seed(seed, s, 1))}};
    });
  }
  void after_training(const RunContext& ctx, train::Learner&) override {
    Tensor s = sample(ctx, 2000, ctx.train.seed + 7);
    save_samples_picture(ctx.dir + "/samples.png",
                         fmt::format("learned score, {} Langevin: samples vs data", sampler_), s,
                         *points_, ctx.train.seed);
    save_loss_picture(ctx.dir, "denoising score matching loss");
  }
  void declare_sampling(train::OptionSet& o) override {
    o.add("sampler", sampler_, "annealed (σ_max → σ_min) or langevin (one σ, from N(0, I))");
    o.add("levels", anneal_.num_levels, "annealed: noise levels");
    o.add("steps-per-level", anneal_.steps_per_level, "annealed: Langevin steps per level");
    o.add("eps", anneal_.eps, "annealed: step size at σ_min (dt_i = eps·σ_i²/σ_min²)");
    o.add("denoise", anneal_.denoise, "annealed: a last Tweedie step x + σ_min²·s(x, σ_min)");
    o.add("sigma", sigma_,
          "langevin: the noise level σ of the score (0: --sigma-min; a σ well below the data's "
          "scale but learned between the modes too)");
    o.add("dt", dt_, "langevin: step size");
    o.add("langevin-steps", langevin_steps_, "langevin: steps");
  }
  Tensor sample(const RunContext&, int64_t n, uint64_t seed) override {
    FX_CHECK(sampler_ == "annealed" || sampler_ == "langevin",
             "--sampler must be annealed or langevin, got '{}'", sampler_);
    if (!score_) score_ = std::make_unique<gen::ScoreEvaluator>(*model_);
    int64_t d = points_->dim();
    if (sampler_ == "annealed") {
      gen::AnnealedLangevinOptions o = anneal_;
      o.levels = levels_;
      o.seed = seed;
      return gen::annealed_langevin(score_->fn(), n, d, o);
    }
    FX_CHECK(sigma_ >= 0 && std::isfinite(sigma_), "--sigma must not be negative, got {}", sigma_);
    FX_CHECK(langevin_steps_ >= 0, "--langevin-steps must not be negative, got {}",
             langevin_steps_);
    gen::check_count(n, "sample -n");
    Tensor x0({n, d}, DType::f32);
    philox_normal(seed, 0x4c414e47ull, x0.data<float>(), x0.numel());
    double sigma = sigma_ > 0 ? sigma_ : levels_.sigma_min;
    gen::ScoreEvaluator& ev = *score_;
    return gen::langevin(x0, [&ev, sigma](const Tensor& y) { return ev(y, sigma); },
                         {.dt = dt_, .steps = langevin_steps_, .seed = seed});
  }
  nlohmann::json evaluate(const RunContext& ctx, int64_t n, uint64_t seed) override {
    Tensor x = sample(ctx, n, seed);
    nlohmann::json j = score_points(x, *points_, seed);
    add_mode_coverage(j, x, data_);
    j["sampler"] = sampler_;
    return j;
  }

 private:
  std::string data_ = "8gaussians", sampler_ = "annealed";
  gen::VelocityConfig net_{.dim = 2, .hidden = 128, .layers = 3, .activation = "silu"};
  gen::NoiseLevels levels_;
  gen::AnnealedLangevinOptions anneal_;
  double sigma_ = 0.2, dt_ = 1e-2;
  int64_t langevin_steps_ = 2000;
  std::unique_ptr<data::PointSource> points_;
  std::unique_ptr<gen::VelocityMLP> model_;
  std::unique_ptr<gen::ScoreEvaluator> score_;
};

}  // namespace

std::unique_ptr<Method> make_score_langevin() { return std::make_unique<ScoreLangevin>(); }

}  // namespace fx::methods
