// The U-Net (parameter count of the peer, config errors, gradients) and DDPM (schedules,
// loss, and the samplers driven by closed-form optimal predictors for Gaussian data).
#include <cmath>

#include "fluxion/gen/ddpm.h"
#include "fluxion/nn/module_io.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/run/ddpm_run.h"
#include "op_test_util.h"

namespace fx {
namespace {

using optest::error_of;
using ::testing::HasSubstr;

nn::UNetConfig tiny() {
  nn::UNetConfig c;
  c.image_size = 8;
  c.base_channels = 8;
  c.channel_mult = {1, 2};
  c.attn_resolutions = {4};
  c.norm_groups = 4;
  return c;
}

TEST(UNet, DefaultConfigHasThePeersParameterCount) {
  nn::InitRng rng(0);
  nn::UNet net(nn::UNetConfig{}, rng);
  // sum(p.numel() for p in UNet().parameters()) in shared/peer/ddpm_unet.py.
  EXPECT_EQ(net.parameter_count(), 711329);
  auto names = net.named_parameters();
  EXPECT_EQ(names.front().first, "temb.0.weight");
  EXPECT_EQ(names.back().first, "out.bias");
}

TEST(UNet, ConfigsThatDoNotDivideGiveClearErrors) {
  nn::InitRng rng(0);
  auto err = [&](nn::UNetConfig c) { return error_of([&] { nn::UNet net(c, rng); }); };
  nn::UNetConfig c;
  c.image_size = 30;
  EXPECT_THAT(err(c), HasSubstr("image size 30 is not divisible by 2^2 = 4"));
  c = {};
  c.channel_mult = {1, 2, 2, 2};
  EXPECT_THAT(err(c), HasSubstr("image size 28 is not divisible by 2^3 = 8"));
  c = {};
  c.attn_resolutions = {5};
  EXPECT_THAT(err(c), HasSubstr("attention resolution 5"));
  c = {};
  c.base_channels = 12;
  EXPECT_THAT(err(c), HasSubstr("not divisible into 8 norm groups"));
  c = {};
  c.attn_heads = 3;
  EXPECT_THAT(err(c), HasSubstr("3 attention heads"));
  nn::UNet net(tiny(), rng);
  Graph g;
  net.bind(g);
  EXPECT_THAT(error_of([&] {
                net(g.input("x", {2, 1, 28, 28}), g.input("t", {2}));
              }),
              HasSubstr("do not match the model's [N, 1, 8, 8]"));
}

// Analytic gradients through the whole U-Net (conv, group norm, attention, up-sampling,
// concat, dropout) against central differences, in f64, with respect to the input.
TEST(UNet, InputGradientMatchesFiniteDifferences) {
  nn::InitRng rng(3);
  nn::UNetConfig c = tiny();
  c.image_size = 4;
  c.base_channels = 4;
  c.attn_resolutions = {2};
  c.norm_groups = 2;
  c.dropout = 0.2;
  nn::UNet net(c, rng);
  std::vector<std::pair<std::string, Tensor>> inputs;
  for (auto& [name, p] : net.named_parameters()) p->value = p->value.to(DType::f64);
  // Weights enter as constants so that only x is differentiated.
  auto bind_constants = [&](Graph& g) {
    for (auto& [name, p] : net.named_parameters()) p->var = g.constant(p->value);
  };
  inputs.emplace_back("x", optest::random_tensor({1, 1, 4, 4}, 5));
  EXPECT_EQ(optest::check_grad_fd(
                [&](const optest::Args& a) {
                  bind_constants(*a.g);
                  Var key = a.g->constant(Tensor::from({1, 2}, {2}, DType::i64));
                  Var t = a.g->constant(Tensor::from({700}, {1}, DType::f64));
                  return net(a["x"], t, key);
                },
                inputs, 9, {1e-5, 1e-7}),
            16);
}

TEST(Ddpm, LinearScheduleMatchesThePaper) {
  auto s = gen::make_schedule("linear");
  ASSERT_EQ(s.T(), 1000);
  EXPECT_DOUBLE_EQ(s.betas.front(), 1e-4);
  EXPECT_DOUBLE_EQ(s.betas.back(), 0.02);
  EXPECT_NEAR(s.abar.back(), 4.035829765375676e-05, 1e-15);  // numpy prod(1 - linspace)
  auto c = gen::make_schedule("cosine");
  EXPECT_NEAR(c.abar.front(), 1.0, 1e-3);
  EXPECT_LT(c.abar.back(), 1e-6);
  for (int64_t t = 1; t < c.T(); ++t) ASSERT_LT(c.abar[t], c.abar[t - 1]);
  for (double b : c.betas) ASSERT_LE(b, 0.999);
  EXPECT_THAT(error_of([] { gen::make_schedule("quad"); }), HasSubstr("'quad'"));
  EXPECT_THAT(error_of([] { gen::prediction_from_name("x0"); }), HasSubstr("eps or v"));
}

// Data x0 ~ N(m, sd²) per element: the optimal ε-predictor is
// ε*(x, t) = sqrt(1−ā)(x − sqrt(ā) m) / (ā sd² + 1 − ā). Every sampler must then produce
// samples with mean m and standard deviation sd.
gen::Predictor gaussian_oracle(const gen::DdpmSchedule& s, gen::Prediction pred, double m,
                               double sd) {
  return [=](const Tensor& x, double t) {
    double ab = s.abar_at(t), sa = std::sqrt(ab), sb = std::sqrt(1 - ab);
    Tensor out(x.shape(), DType::f32);
    const float* xp = x.data<float>();
    float* o = out.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      double eps = sb * (xp[i] - sa * m) / (ab * sd * sd + 1 - ab);
      double x0 = (xp[i] - sb * eps) / sa;
      o[i] = float(pred == gen::Prediction::eps ? eps : sa * eps - sb * x0);
    }
    return out;
  };
}

void expect_moments(const Tensor& x, double m, double sd, double tol) {
  double sum = 0, sq = 0;
  auto v = x.to_vector();
  for (double a : v) sum += a;
  double mean = sum / v.size();
  for (double a : v) sq += (a - mean) * (a - mean);
  EXPECT_NEAR(mean, m, tol);
  EXPECT_NEAR(std::sqrt(sq / v.size()), sd, tol);
}

TEST(Ddpm, SamplersReproduceGaussianDataWithTheOptimalPredictor) {
  auto s = gen::make_schedule("linear");
  const double m = 0.2, sd = 0.3;
  for (auto pred : {gen::Prediction::eps, gen::Prediction::v}) {
    gen::SamplerOptions o;
    o.seed = 4;
    Shape b = {500, 1, 2, 2};
    auto f = gaussian_oracle(s, pred, m, sd);
    // With all T steps every sampler is a fine discretisation and must be close. (Coarse
    // DDIM is not: with 50 steps its std is 0.274, as an independent numpy run of the same
    // update rules also gives; see the README.)
    o.method = "ddim";
    o.steps = 1000;
    expect_moments(gen::ddpm_sample(f, b, s, pred, 1000, o), m, sd, 0.015);
    o.eta = 1.0;
    expect_moments(gen::ddpm_sample(f, b, s, pred, 1000, o), m, sd, 0.015);
    o.method = "ancestral";
    o.variance = gen::Variance::beta_tilde;
    expect_moments(gen::ddpm_sample(f, b, s, pred, 1000, o), m, sd, 0.015);
    o.variance = gen::Variance::beta;
    expect_moments(gen::ddpm_sample(f, b, s, pred, 1000, o), m, sd, 0.015);
    // The probability-flow ODE is exact in continuous time: RK45 and 100 Heun steps in
    // log σ both land on the data moments, with far fewer network calls than ancestral.
    o.method = "ode";
    o.ode_solver = "rk45";
    gen::SampleStats st;
    expect_moments(gen::ddpm_sample(f, b, s, pred, 1000, o, nullptr, &st), m, sd, 0.015);
    EXPECT_LT(st.network_calls, 2 * 200);  // two batches of 500
    o.ode_solver = "heun";
    o.steps = 100;
    expect_moments(gen::ddpm_sample(f, b, s, pred, 1000, o), m, sd, 0.015);
  }
  // Deterministic DDIM is a fixed map of the seed's noise; another seed differs.
  gen::SamplerOptions o;
  auto f = gaussian_oracle(s, gen::Prediction::eps, m, sd);
  gen::SampleStats calls;  // counted with or without a progress callback
  Tensor a = gen::ddpm_sample(f, {4, 3}, s, gen::Prediction::eps, 6, o, nullptr, &calls);
  EXPECT_EQ(a.shape(), (Shape{6, 3}));
  EXPECT_EQ(calls.network_calls, 2 * o.steps);  // two batches of 4 for 6 images
  EXPECT_EQ(a.to_vector(), gen::ddpm_sample(f, {4, 3}, s, gen::Prediction::eps, 6, o).to_vector());
  o.seed = 1;
  EXPECT_NE(a.to_vector(), gen::ddpm_sample(f, {4, 3}, s, gen::Prediction::eps, 6, o).to_vector());
  o.method = "ode";  // deterministic too, and from the same starting noise
  Tensor ode = gen::ddpm_sample(f, {4, 3}, s, gen::Prediction::eps, 6, o);
  EXPECT_EQ(ode.to_vector(),
            gen::ddpm_sample(f, {4, 3}, s, gen::Prediction::eps, 6, o).to_vector());
  o.ode_solver = "midpoint";
  EXPECT_THAT(error_of([&] {
                gen::ddpm_sample(f, {4, 3}, s, gen::Prediction::eps, 6, o);
              }),
              HasSubstr("'midpoint'"));
  o.method = "plms";
  EXPECT_THAT(error_of([&] {
                gen::ddpm_sample(f, {4, 3}, s, gen::Prediction::eps, 6, o);
              }),
              HasSubstr("'plms'"));
}

// A tiny U-Net overfits one batch: the ε-loss (with fixed t and noise) goes down, and
// the EMA weights are kept.
TEST(Ddpm, TinyUNetTrainsWithTheTrainer) {
  for (auto pred : {gen::Prediction::eps, gen::Prediction::v}) {
    nn::InitRng rng(1);
    nn::UNet net(tiny(), rng);
    auto s = gen::make_schedule("linear", 100);
    optim::TrainerOptions opts;
    opts.ema_decay = 0.9;
    opts.schedule.base_lr = 3e-3;
    optim::Trainer tr(
        net, optim::adam(),
        [&](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
          Var key = b.at("x").graph->constant(Tensor::from({7, 0}, {2}, DType::i64));
          return gen::ddpm_loss(net, s, b.at("x"), key, pred);
        },
        {{"x", {4, 1, 8, 8}}}, opts);
    Tensor x = optest::random_tensor({4, 1, 8, 8}, 2, DType::f32);
    double first = tr.step({{"x", x}}), last = first;
    for (int i = 0; i < 20; ++i) last = tr.step({{"x", x}});
    EXPECT_LT(last, 0.5 * first) << "prediction " << (int)pred;
    EXPECT_EQ(tr.ema_weights().size(), net.named_parameters().size());
    gen::SamplerOptions o;
    o.steps = 5;
    Tensor img = gen::ddpm_sample(net, tr.ema_weights(), s, pred, 3, o);
    EXPECT_EQ(img.shape(), (Shape{3, 1, 8, 8}));
    for (double v : img.to_vector()) ASSERT_TRUE(std::isfinite(v));
  }
}

// The U-Net's training step compiled (fusion, layout assignment for its convolutions, the
// arena plan): the interpreter's losses bit for bit, and no more peak memory.
TEST(Ddpm, CompiledUNetStepMatchesTheInterpreterWithNoMoreMemory) {
  auto train = [](bool compiled, size_t* peak) {
    nn::InitRng rng(2);
    nn::UNet net(tiny(), rng);
    auto s = gen::make_schedule("linear", 100);
    optim::TrainerOptions opts;
    opts.compile = compiled;
    optim::Trainer tr(
        net, optim::adam(),
        [&](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
          return gen::ddpm_loss(net, s, b.at("x"), key, gen::Prediction::eps);
        },
        {{"x", {4, 1, 8, 8}}}, opts);
    std::vector<double> losses;
    for (int i = 0; i < 3; ++i)
      losses.push_back(tr.step({{"x", optest::random_tensor({4, 1, 8, 8}, 10 + i, DType::f32)}}));
    *peak = tr.peak_bytes();
    return losses;
  };
  size_t compiled_peak = 0, interpreted_peak = 0;
  EXPECT_EQ(train(true, &compiled_peak), train(false, &interpreted_peak));
  EXPECT_GT(compiled_peak, 0u);
  EXPECT_LE(compiled_peak, interpreted_peak);
}

// `SamplerOptions::compile` runs the U-Net through the compiled executor: the images are
// the interpreter's, bit for bit, for DDIM and ancestral sampling (a batch that leaves a
// partial last chunk included).
TEST(Ddpm, CompiledSamplerGivesTheInterpretersImages) {
  nn::InitRng rng(3);
  nn::UNet net(tiny(), rng);
  auto s = gen::make_schedule("linear", 20);
  for (const char* method : {"ddim", "ancestral"}) {
    gen::SamplerOptions o;
    o.method = method;
    o.steps = 4;
    o.batch = 2;
    o.seed = 5;
    Tensor interpreted =
        gen::ddpm_sample(net, nn::parameter_tensors(net), s, gen::Prediction::eps, 3, o);
    o.compile = true;
    Tensor compiled =
        gen::ddpm_sample(net, nn::parameter_tensors(net), s, gen::Prediction::eps, 3, o);
    ASSERT_EQ(compiled.shape(), interpreted.shape());
    EXPECT_EQ(compiled.to_vector(), interpreted.to_vector()) << method;
  }
}

}  // namespace
}  // namespace fx

namespace fx {
namespace {
// Sampling uses the EMA only once it has mostly forgotten the initial weights.
TEST(DdpmRun, UsesEmaOnceItHasForgottenTheInit) {
  run::DdpmRun r;
  r.cfg.ema = 0.999;
  r.step = 5000;
  EXPECT_FALSE(run::uses_ema(r, false));  // no EMA weights
  r.ema["w"] = Tensor::zeros({1});
  EXPECT_TRUE(run::uses_ema(r, false));
  EXPECT_FALSE(run::uses_ema(r, true));
  r.step = 4999;
  EXPECT_FALSE(run::uses_ema(r, false));
}
}  // namespace
}  // namespace fx
