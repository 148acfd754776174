// MonoFlow (gen/monoflow): the four generator losses −h(D) against finite differences and
// the recorded PyTorch values, the particle-matching loss's first gradient (2ε times that of
// −h(D)), and a short training run that resumes bit-identically.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fluxion/data/toy2d.h"
#include "fluxion/gen/monoflow.h"
#include "op_test_util.h"

namespace fx::gen {
namespace {

using optest::Args;
using optest::check_grad_fd;
using optest::random_tensor;

const MonoH kAll[] = {MonoH::ns, MonoH::vanilla, MonoH::logit, MonoH::arcsinh};

TEST(MonoFlowLosses, GeneratorLossesMatchFiniteDifferences) {
  for (MonoH h : kAll) {
    SCOPED_TRACE(mono_h_name(h));
    // Logits from −8 to 8, where ns and vanilla saturate differently.
    Tensor d = random_tensor({16}, 3, DType::f64, -8.0, 8.0);
    EXPECT_EQ(
        check_grad_fd([h](const Args& a) { return generator_loss(a["d"], h); }, {{"d", d}}, 5), 16);
  }
}

TEST(MonoFlowLosses, HPrimeIsTheDerivativeOfH) {
  for (MonoH h : kAll) {
    SCOPED_TRACE(mono_h_name(h));
    for (double d : {-7.0, -1.3, -0.2, 0.0, 0.4, 2.5, 9.0}) {
      Graph g;
      Var x = g.input("x", {}, DType::f64);
      Var y = mono_h(x, h);
      Var dy = grad(y, {x})[0];
      Feeds f{{"x", Tensor::scalar(d, DType::f64)}};
      EXPECT_NEAR(evaluate(dy, f).item(), mono_h_prime(d, h), 1e-12);
    }
  }
}

// Values from tests/fixtures/make_monoflow_fixture.py (PyTorch 1.13, float64): the
// generator losses of train_gan.py on fixed logits, and their gradients.
TEST(MonoFlowLosses, MatchPyTorch) {
  const nlohmann::json& fx_ = optest::load_fixture("monoflow_losses.json");
  std::vector<double> dv = fx_.at("d").get<std::vector<double>>();
  Tensor d = Tensor::from(dv, {(int64_t)dv.size()}, DType::f64);
  for (MonoH h : kAll) {
    SCOPED_TRACE(mono_h_name(h));
    const auto& c = fx_.at("losses").at(mono_h_name(h));
    Graph g;
    Var x = g.input("d", d.shape(), DType::f64);
    Var loss = generator_loss(x, h);
    std::vector<Tensor> out = evaluate({loss, grad(loss, {x})[0]}, {{"d", d}});
    EXPECT_NEAR(out[0].item(), c.at("loss").get<double>(), 1e-12);
    EXPECT_TRUE(optest::all_close(out[1].to_vector(), c.at("grad").get<std::vector<double>>(),
                                  optest::kF64Tol));
  }
  // The discriminator's BCE with logits.
  std::vector<double> rv = fx_.at("d_real").get<std::vector<double>>();
  Tensor r = Tensor::from(rv, {(int64_t)rv.size()}, DType::f64);
  Graph g;
  Var a = g.input("r", r.shape(), DType::f64), b = g.input("d", d.shape(), DType::f64);
  EXPECT_NEAR(evaluate(logistic_loss(a, b), {{"r", r}, {"d", d}}).item(),
              fx_.at("disc_loss").get<double>(), 1e-12);
}

// At θ = θ_old, ∇θ ‖g_θ(z) − (g_old(z) + ε∇h(D(g_old(z))))‖²/N = 2ε ∇θ[−mean h(D(g_θ(z)))].
TEST(MonoFlowLosses, ParticleMatchingGradientIsTwoEpsilonTimesTheFlowLoss) {
  const double eps = 0.05;
  // Both nets in one module tree, so that their parameter names differ in the graph.
  struct Pair : nn::Module {
    std::shared_ptr<nn::MLP> g, d;
    explicit Pair(nn::InitRng& rng) {
      g = register_module("gen",
                          std::make_shared<nn::MLP>(2, std::vector<int64_t>{16}, 2, rng, "tanh"));
      d = register_module("disc",
                          std::make_shared<nn::MLP>(2, std::vector<int64_t>{16}, 1, rng, "tanh"));
    }
  };
  nn::InitRng rng(4);
  Pair pair(rng);
  nn::MLP &G = *pair.g, &D = *pair.d;
  Tensor z = random_tensor({8, 2}, 1, DType::f32);
  for (MonoH h : kAll) {
    SCOPED_TRACE(mono_h_name(h));
    Graph g;
    pair.bind(g);
    Var zi = g.input("z", {8, 2});
    Var x = G(zi);
    Var d = D(x);
    Var flow = generator_loss(d, h);
    // The moved particles, computed in the same graph but held fixed.
    Var xs = stop_gradient(x);
    Var dx = grad(sum(mono_h(D(xs), h)), {xs})[0];
    Var pm = particle_matching_loss(x, stop_gradient(xs + eps * dx));
    Feeds f{{"z", z}};
    std::vector<Var> wrt;
    for (auto& [name, p] : pair.named_parameters()) f[name] = p->value;
    for (auto& [name, p] : G.named_parameters()) wrt.push_back(p->var);
    std::vector<Var> a = grad(flow, wrt), b = grad(pm, wrt);
    std::vector<Var> outs = a;
    outs.insert(outs.end(), b.begin(), b.end());
    std::vector<Tensor> r = evaluate(outs, f);
    for (size_t k = 0; k < a.size(); ++k) {
      std::vector<double> want = r[k].to_vector(), got = r[k + a.size()].to_vector();
      for (double& w : want) w *= 2 * eps;
      EXPECT_TRUE(optest::all_close(got, want, {1e-4, 1e-7}));
    }
  }
}

MonoFlowConfig small_config(MonoH h, bool pm) {
  return {.hidden = 32,
          .layers = 2,
          .h = h,
          .particle_matching = pm,
          .n_g = pm ? 3 : 1,
          .batch = 64,
          .lr_d = 1e-3,
          .lr_g = 1e-3,
          .seed = 3};
}

TargetSampler toy(const std::string& name) {
  return [name](int64_t n, uint64_t seed) { return data::sample_toy(name, n, seed); };
}

// Stopping after 5 iterations and restoring weights and moments continues exactly as an
// uninterrupted run (what the spine's resume relies on).
TEST(MonoFlowGan, ResumeIsBitIdentical) {
  for (bool pm : {false, true}) {
    SCOPED_TRACE(pm ? "particle matching" : "-h(D)");
    MonoFlowGAN a(small_config(MonoH::logit, pm), toy("8gaussians"));
    for (int it = 1; it <= 10; ++it) a.step(it);
    MonoFlowGAN b(small_config(MonoH::logit, pm), toy("8gaussians"));
    for (int it = 1; it <= 5; ++it) b.step(it);
    std::map<std::string, Tensor> w;
    for (auto& [k, p] : b.gen().named_parameters()) w["gen." + k] = p->value;
    for (auto& [k, p] : b.disc().named_parameters()) w["disc." + k] = p->value;
    auto st = b.state();
    MonoFlowGAN c(small_config(MonoH::logit, pm), toy("8gaussians"));
    for (auto& [k, p] : c.gen().named_parameters()) p->value = w.at("gen." + k).clone();
    for (auto& [k, p] : c.disc().named_parameters()) p->value = w.at("disc." + k).clone();
    c.set_state(st, 5);
    for (int it = 6; it <= 10; ++it) c.step(it);
    EXPECT_EQ(a.sample(50, 9).to_vector(), c.sample(50, 9).to_vector());
  }
}

TEST(MonoFlowGan, BadConfigIsNamed) {
  MonoFlowConfig c;
  c.n_g = 0;
  EXPECT_THAT(optest::error_of([&] { MonoFlowGAN(c, toy("8gaussians")); }),
              ::testing::HasSubstr("n-g = 0 must be positive"));
  EXPECT_THAT(optest::error_of([] { mono_h_from_name("exp"); }),
              ::testing::HasSubstr("unknown MonoFlow h 'exp' (ns, vanilla, logit, arcsinh)"));
}

}  // namespace
}  // namespace fx::gen
