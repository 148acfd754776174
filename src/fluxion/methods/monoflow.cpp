// MonoFlow GANs (gen/monoflow.h): a logistic discriminator and a generator whose loss is
// −h(D(g(z))) for a monotone h (ns, vanilla, logit, arcsinh), or the particle-matching loss
// with several generator steps per discriminator step. On points both nets are MLPs; with
// --data fashion-mnist they are the DCGAN pair of nn/dcgan.h and `eval` reports FD-FMNIST,
// precision and recall beside their train-vs-test floors (run/image_metrics.h, as DDPM). Both
// nets are the run's model ("disc.*", "gen.*"); both optimizers' moments are its state.
#include "fluxion/gen/monoflow.h"

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/point_source.h"
#include "fluxion/gen/flow_metrics.h"
#include "fluxion/gen/mixture_target.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/methods/method.h"
#include "fluxion/methods/point_methods.h"
#include "fluxion/nn/dcgan.h"
#include "fluxion/run/image_metrics.h"

namespace fx::methods {

namespace {

class MonoFlow : public Method {
 public:
  MonoFlow() { cfg_.zdim = 0; }  // 0: chosen by the data (2 for points, 100 for images)
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
    o.add("data", data_, "points: built-in set or a .csv/.npy file; or fashion-mnist (DCGAN)");
    o.add("h", h_, "monotone h of the generator loss −h(D): ns, vanilla, logit, arcsinh");
    o.add("c", cfg_.c, "vanilla's shift C in softplus(d + C) (0: the original GAN loss)");
    o.add("g-loss", g_loss_, "generator loss: h (−h(D(g(z)))) or particle (particle matching)");
    o.add("epsilon", cfg_.epsilon, "particle step ε of the particle-matching loss");
    o.add("n-d", cfg_.n_d, "discriminator steps per iteration");
    o.add("n-g", cfg_.n_g, "generator steps per iteration");
    o.add("hidden", cfg_.hidden, "MLP width (both nets)");
    o.add("layers", cfg_.layers, "MLP hidden layers (both nets)");
    o.add("activation", cfg_.activation, "silu, relu, gelu or tanh");
    o.add("z-dim", cfg_.zdim, "latent dimension (0: 2 for points, 100 for images)");
    o.add("ngf", ngf_, "fashion-mnist: generator width (DCGAN ngf)");
    o.add("ndf", ndf_, "fashion-mnist: discriminator width (DCGAN ndf)");
    o.add("data-dir", data_dir_, "fashion-mnist: directory of the IDX files (default: Debian's)");
    o.add("lr-d", cfg_.lr_d, "discriminator learning rate (--lr is the generator's)");
    o.add("beta1", cfg_.beta1, "Adam β1 of both nets");
  }
  void validate(const train::TrainConfig& t) const override {
    gen::mono_h_from_name(h_);
    FX_CHECK(g_loss_ == "h" || g_loss_ == "particle", "--g-loss must be h or particle, got '{}'",
             g_loss_);
    FX_CHECK(cfg_.zdim >= 0, "--z-dim must not be negative, got {}", cfg_.zdim);
    FX_CHECK(ngf_ > 0 && ngf_ % 8 == 0 && ndf_ > 0 && ndf_ % 8 == 0,
             "--ngf and --ndf must be positive multiples of 8, got {} and {}", ngf_, ndf_);
    config(t).validate();
  }
  bool images() const { return data_ == "fashion-mnist"; }
  void build(const RunContext& ctx) override {
    gen::MonoFlowConfig c = config(ctx.train);
    if (images()) {
      // Training images scaled to [−1, 1] (the generator's tanh range), rows drawn per seed.
      std::string dir = data_dir_.empty() ? data::default_fashion_mnist_dir() : data_dir_;
      Tensor im = data::load_fashion_mnist(dir, true).images;
      int64_t n = im.dim(0);
      images_ = Tensor({n, 784}, DType::f32);
      for (int64_t i = 0; i < im.numel(); ++i)
        images_.data<float>()[i] = 2.0f * im.data<float>()[i] - 1.0f;
      c.dim = 784;
      c.sample_shape = {1, 28, 28};
      int64_t zdim = c.zdim, ngf = ngf_, ndf = ndf_;
      c.make_generator = [zdim, ngf](nn::InitRng& r) {
        return std::make_shared<nn::DcganGenerator>(zdim, ngf, r);
      };
      c.make_discriminator = [ndf](nn::InitRng& r) {
        return std::make_shared<nn::DcganDiscriminator>(ndf, r);
      };
      const Tensor* all = &images_;
      gan_ = std::make_unique<gen::MonoFlowGAN>(c, [all](int64_t b, uint64_t s) {
        return data::take_rows(*all, data::random_rows(all->dim(0), b, s)).reshaped({b, 1, 28, 28});
      });
      return;
    }
    data_src_ = std::make_unique<data::PointSource>(data_, 2);
    data::PointSource* d = data_src_.get();
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
    if (images()) {
      io::write_png(ctx.dir + "/samples.png", io::image_grid(gan_->sample(64, ctx.train.seed + 7)));
      save_loss_picture(ctx.dir, "MonoFlow DCGAN (h = " + h_ + "): generator loss −h(D)");
      return;
    }
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
    if (images()) return score_images(x);
    nlohmann::json j = score_points(x, *data_src_, seed);
    add_mode_coverage(j, x, data_);
    return j;
  }
  gen::MonoFlowGAN& gan() { return *gan_; }

 private:
  // FD-FMNIST, precision and recall of generated images in [−1, 1] against the test split,
  // beside the train-vs-test floor for the same n.
  nlohmann::json score_images(const Tensor& x) const {
    Tensor x01({x.dim(0), 1, 28, 28}, DType::f32);
    for (int64_t i = 0; i < x.numel(); ++i)
      x01.data<float>()[i] = std::clamp(0.5f * (x.data<float>()[i] + 1.0f), 0.0f, 1.0f);
    run::FmnistFeatures features;
    auto [sc, fl] = run::score_with_floor(features, x01, data_dir_);
    return {{"n", sc.n},
            {"fd", sc.fd},
            {"fd_floor", fl.fd},
            {"precision", sc.precision},
            {"precision_floor", fl.precision},
            {"recall", sc.recall},
            {"recall_floor", fl.recall}};
  }
  gen::MonoFlowConfig config(const train::TrainConfig& t) const {
    gen::MonoFlowConfig c = cfg_;
    c.h = gen::mono_h_from_name(h_);
    c.particle_matching = g_loss_ == "particle";
    c.batch = t.batch;
    c.lr_g = t.lr;
    // --lr-decay cosine decays both nets' rates to 0 at --steps (--warmup is not used).
    c.decay_iterations = t.lr_decay == "cosine" ? t.steps : 0;
    c.seed = t.seed;
    if (c.zdim == 0) c.zdim = images() ? 100 : 2;
    c.precision = t.precision_policy();
    c.loss_scaling = t.loss_scaling();
    c.compile = t.compile;
    return c;
  }
  std::string data_ = "8gaussians", h_ = "ns", g_loss_ = "h", data_dir_;
  int64_t ngf_ = 32, ndf_ = 32;
  Tensor images_;  // fashion-mnist: [60000, 784] in [−1, 1]
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
