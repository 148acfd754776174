// MonoFlow GANs (gen/monoflow.h) on points: a logistic discriminator and a generator whose
// loss is −h(D(g(z))) for a monotone h (ns, vanilla, logit, arcsinh), or the particle-matching
// loss with several generator steps per discriminator step. Both nets are the run's model
// ("disc.*", "gen.*"); both optimizers' moments are its state.
#include "fluxion/gen/monoflow.h"

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/data/point_source.h"
#include "fluxion/gen/flow_metrics.h"
#include "fluxion/gen/mixture_target.h"
#include "fluxion/methods/method.h"
#include "fluxion/methods/point_methods.h"

namespace fx::methods {

namespace {

class MonoFlow : public Method {
 public:
  std::string name() const override { return "monoflow"; }
  std::string summary() const override {
    return "MonoFlow GAN: a logistic discriminator and a generator following ∇h(log p/q)";
  }
  train::TrainConfig default_train_config() const override {
    train::TrainConfig t;
    t.steps = 20000;
    t.batch = 256;
    t.lr = 1e-4;  // the generator's; the discriminator's is --lr-d
    t.log_every = 200;
    t.checkpoint_every = 2000;
    return t;
  }
  void declare(train::OptionSet& o) override {
    o.add("data", data_, "points: built-in set or a .csv/.npy file");
    o.add("h", h_, "monotone h of the generator loss −h(D): ns, vanilla, logit, arcsinh");
    o.add("c", cfg_.c, "vanilla's shift C in softplus(d + C) (0: the original GAN loss)");
    o.add("g-loss", g_loss_, "generator loss: h (−h(D(g(z)))) or particle (particle matching)");
    o.add("epsilon", cfg_.epsilon, "particle step ε of the particle-matching loss");
    o.add("n-d", cfg_.n_d, "discriminator steps per iteration");
    o.add("n-g", cfg_.n_g, "generator steps per iteration");
    o.add("hidden", cfg_.hidden, "MLP width (both nets)");
    o.add("layers", cfg_.layers, "MLP hidden layers (both nets)");
    o.add("activation", cfg_.activation, "silu, relu, gelu or tanh");
    o.add("z-dim", cfg_.zdim, "latent dimension");
    o.add("lr-d", cfg_.lr_d, "discriminator learning rate (--lr is the generator's)");
    o.add("beta1", cfg_.beta1, "Adam β1 of both nets");
  }
  void validate(const train::TrainConfig& t) const override {
    gen::mono_h_from_name(h_);
    FX_CHECK(g_loss_ == "h" || g_loss_ == "particle", "--g-loss must be h or particle, got '{}'",
             g_loss_);
    config(t).validate();
  }
  void build(const RunContext& ctx) override {
    data_src_ = std::make_unique<data::PointSource>(data_, 2);
    data::PointSource* d = data_src_.get();
    gen::MonoFlowConfig c = config(ctx.train);
    c.dim = d->dim();
    gan_ = std::make_unique<gen::MonoFlowGAN>(
        c, [d](int64_t n, uint64_t s) { return d->sample(n, s); });
  }
  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override {
    auto p = gan_->disc().named_parameters("disc");
    for (auto& e : gan_->gen().named_parameters("gen")) p.push_back(e);
    return p;
  }
  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override;
  void after_training(const RunContext& ctx, train::Learner&) override {
    Tensor s = gan_->sample(2000, ctx.train.seed + 7);
    save_samples_picture(ctx.dir + "/samples.png", "MonoFlow (h = " + h_ + "): samples vs data", s,
                         *data_src_, ctx.train.seed);
    save_loss_picture(ctx.dir, "MonoFlow: generator loss −h(D)");
  }
  Tensor sample(const RunContext&, int64_t n, uint64_t seed) override {
    return gan_->sample(n, seed);
  }
  nlohmann::json evaluate(const RunContext& ctx, int64_t n, uint64_t seed) override {
    Tensor x = sample(ctx, n, seed);
    nlohmann::json j = score_points(x, *data_src_, seed);
    if (gen::GaussianMixture::is_builtin(data_) && data_ != "gaussian") {
      gen::GaussianMixture p = gen::GaussianMixture::by_name(data_);
      gen::ModeCoverage mc = gen::mode_coverage(x, p);
      j["modes_covered"] = mc.covered;
      j["modes"] = mc.modes;
      j["high_quality"] = mc.high_quality;
    }
    return j;
  }
  gen::MonoFlowGAN& gan() { return *gan_; }

 private:
  gen::MonoFlowConfig config(const train::TrainConfig& t) const {
    gen::MonoFlowConfig c = cfg_;
    c.h = gen::mono_h_from_name(h_);
    c.particle_matching = g_loss_ == "particle";
    c.batch = t.batch;
    c.lr_g = t.lr;
    // --lr-decay cosine decays both nets' rates to 0 at --steps (--warmup is not used).
    c.decay_iterations = t.lr_decay == "cosine" ? t.steps : 0;
    c.seed = t.seed;
    c.precision = t.precision_policy();
    c.loss_scaling = t.loss_scaling();
    c.compile = t.compile;
    return c;
  }
  std::string data_ = "8gaussians", h_ = "ns", g_loss_ = "h";
  gen::MonoFlowConfig cfg_;
  std::unique_ptr<data::PointSource> data_src_;
  std::unique_ptr<gen::MonoFlowGAN> gan_;
};

class MonoFlowLearner : public train::Learner {
 public:
  explicit MonoFlowLearner(gen::MonoFlowGAN& g) : gan_(g) {}
  train::StepMetrics step(int64_t s) override {
    gen::MonoFlowGAN::Losses l = gan_.step(s);
    return {{"loss", l.g}, {"d_loss", l.d}};
  }
  std::map<std::string, Tensor> state() const override { return gan_.state(); }
  void set_state(const std::map<std::string, Tensor>& s, int64_t step) override {
    gan_.set_state(s, step);
  }

 private:
  gen::MonoFlowGAN& gan_;
};

std::unique_ptr<train::Learner> MonoFlow::learner(const RunContext&) {
  return std::make_unique<MonoFlowLearner>(*gan_);
}

}  // namespace

std::unique_ptr<Method> make_monoflow() { return std::make_unique<MonoFlow>(); }

}  // namespace fx::methods
