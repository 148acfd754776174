// The smallest method, and the template for new ones: fits a full-covariance Gaussian to
// points by maximum likelihood with Adam, and samples N(μ, shrink·Σ). The model keeps the
// Cholesky factor A of the precision Σ⁻¹ = A·Aᵀ (A lower triangular, positive diagonal), so
// the negative log-likelihood needs no inverse:
//   NLL(x) = ½‖Aᵀ(x − μ)‖² − Σ log A_ii + (d/2)·log 2π,
// and a sample is μ + A⁻ᵀ·ε (one triangular solve).
#include <cmath>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/methods/method.h"
#include "fluxion/methods/point_methods.h"

namespace fx::methods {

namespace {

class GaussianModel : public nn::Module {
 public:
  explicit GaussianModel(int64_t d) : d_(d) {
    mean_ = &register_parameter("mean", Tensor::zeros({d}));
    log_diag_ = &register_parameter("log_diag", Tensor::zeros({d}));
    lower_ = &register_parameter("lower", Tensor::zeros({d, d}));
  }
  // Mean negative log-likelihood of a batch x [B, d].
  Var nll(Var x) const {
    Graph& g = *x.graph;
    Var rows = iota(g, {d_, d_}, 0, DType::f32), cols = iota(g, {d_, d_}, 1, DType::f32);
    Var strictly_lower = cast(gt(rows, cols), DType::f32), eye = cast(eq(rows, cols), DType::f32);
    Var a = lower_->var * strictly_lower + eye * reshape(exp(log_diag_->var), {1, d_});
    Var u = matmul(x - reshape(mean_->var, {1, d_}), a);  // rows of Aᵀ(x − μ)
    double log_2pi = std::log(2 * M_PI);
    return mean(sum(square(u), {1})) * 0.5 - sum(log_diag_->var) + 0.5 * (double)d_ * log_2pi;
  }
  // μ + shrink^½·A⁻ᵀ·ε for n draws of ε, in double on the host.
  Tensor sample(int64_t n, uint64_t seed, double shrink) const {
    auto mu = mean_->value.to_f32_vector(), ld = log_diag_->value.to_f32_vector(),
         lo = lower_->value.to_f32_vector();
    std::vector<double> eps(n * d_);
    philox_normal(seed, 0, eps.data(), (int64_t)eps.size());
    std::vector<float> out(n * d_);
    std::vector<double> y(d_);
    for (int64_t s = 0; s < n; ++s) {
      // Solve Aᵀ y = ε: Aᵀ is upper triangular, (Aᵀ)_ij = A_ji.
      for (int64_t i = d_ - 1; i >= 0; --i) {
        double r = eps[s * d_ + i];
        for (int64_t j = i + 1; j < d_; ++j) r -= lo[j * d_ + i] * y[j];
        y[i] = r / std::exp((double)ld[i]);
      }
      for (int64_t i = 0; i < d_; ++i) out[s * d_ + i] = (float)(mu[i] + std::sqrt(shrink) * y[i]);
    }
    return Tensor::from(std::vector<double>(out.begin(), out.end()), {n, d_});
  }

 private:
  int64_t d_;
  nn::Parameter *mean_, *log_diag_, *lower_;
};

class Gaussian : public Method {
 public:
  std::string name() const override { return "gaussian"; }
  std::string summary() const override {
    return "a full-covariance Gaussian fitted by maximum likelihood (the example method)";
  }
  train::TrainConfig default_train_config() const override {
    train::TrainConfig t;
    t.steps = 500;
    t.batch = 256;
    t.lr = 5e-2;
    return t;
  }
  void declare(train::OptionSet& o) override {
    o.add("data", data_spec_, "points: built-in set or a .csv/.npy file");
  }
  void build(const RunContext& ctx) override {
    data_ = std::make_unique<data::PointSource>(data_spec_, 2);
    model_ = std::make_unique<GaussianModel>(data_->dim());
  }
  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override {
    return model_->named_parameters();
  }
  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override {
    optim::TrainerOptions opts = ctx.train.trainer_options();
    const int64_t B = ctx.train.batch, D = data_->dim();
    const uint64_t seed = ctx.train.seed;
    GaussianModel& m = *model_;
    data::PointSource* points = data_.get();
    auto trainer = std::make_unique<optim::Trainer>(
        m, optim::adam(),
        [&m](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
          return m.nll(b.at("x"));
        },
        std::vector<optim::BatchInput>{{"x", {B, D}}}, opts);
    return std::make_unique<train::TrainerLearner>(std::move(trainer), [=](int64_t s) -> Feeds {
      return {{"x", points->sample(B, data::mix_seed(seed, s, 1))}};
    });
  }
  void after_training(const RunContext& ctx, train::Learner&) override {
    Tensor s = model_->sample(2000, ctx.train.seed + 7, 1.0);
    save_samples_picture(ctx.dir + "/samples.png", "Gaussian fit: samples vs data", s, *data_,
                         ctx.train.seed);
    save_loss_picture(ctx.dir, "Gaussian fit: negative log-likelihood");
  }
  void declare_sampling(train::OptionSet& o) override {
    o.add("shrink", shrink_, "sample N(mean, shrink * covariance); 1 is the fit itself");
  }
  Tensor sample(const RunContext&, int64_t n, uint64_t seed) override {
    FX_CHECK(shrink_ > 0 && std::isfinite(shrink_), "--shrink must be positive, got {}", shrink_);
    return model_->sample(n, seed, shrink_);
  }
  nlohmann::json evaluate(const RunContext& ctx, int64_t n, uint64_t seed) override {
    return score_points(sample(ctx, n, seed), *data_, seed);
  }

 private:
  std::string data_spec_ = "moons";
  double shrink_ = 1.0;
  std::unique_ptr<data::PointSource> data_;
  std::unique_ptr<GaussianModel> model_;
};

}  // namespace

std::unique_ptr<Method> make_gaussian() { return std::make_unique<Gaussian>(); }

}  // namespace fx::methods
