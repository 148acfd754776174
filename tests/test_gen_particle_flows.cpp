// Particle gradient flows (gen/langevin, svgd, fdiv_flow, gradient_descent_flow) on the
// analytic Gaussian-mixture target (gen/mixture_target): closed forms, distances to the
// target against their Monte-Carlo floor, input errors. Fixed seeds throughout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/gen/fdiv_flow.h"
#include "fluxion/gen/flow_metrics.h"
#include "fluxion/gen/gradient_descent_flow.h"
#include "fluxion/gen/langevin.h"
#include "fluxion/gen/mixture_target.h"
#include "fluxion/gen/svgd.h"
#include "fluxion/metrics/sliced_wasserstein.h"

namespace fx::gen {
namespace {

using ::testing::HasSubstr;

template <typename F>
std::string flow_error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Tensor normal_cloud(int64_t n, int64_t d, double mean, double std, uint64_t seed) {
  Tensor x({n, d}, DType::f32);
  philox_normal(seed, 0, x.data<float>(), n * d);
  float* p = x.data<float>();
  for (int64_t i = 0; i < n * d; ++i) p[i] = (float)(mean + std * p[i]);
  return x;
}

void moments(const Tensor& x, double* mean, double* var) {
  std::vector<double> v = x.to_vector();
  double m = 0, s = 0;
  for (double a : v) m += a;
  m /= v.size();
  for (double a : v) s += (a - m) * (a - m);
  *mean = m;
  *var = s / (v.size() - 1);
}

// Fokker–Planck toward N(0, 1) from N(m0, s0²) is Gaussian with m(t) = m0 e^{−t},
// s²(t) = 1 + (s0² − 1) e^{−2t}; 10^4 particles, dt = 1e-3, compared at t = 1, 2, 5 within
// 4 Monte-Carlo standard errors (the Euler–Maruyama bias at this dt is ~1e-3, far below).
TEST(LangevinClosedForm, OrnsteinUhlenbeckMeanAndVariance) {
  const int64_t n = 10000;
  const double m0 = 3.0, s0 = 0.5, dt = 1e-3;
  ScoreFn score = [](const Tensor& x) {
    Tensor g(x.shape(), DType::f32);
    for (int64_t i = 0; i < x.numel(); ++i) g.data<float>()[i] = -x.data<float>()[i];
    return g;
  };
  std::map<int64_t, std::pair<double, double>> seen;
  langevin(normal_cloud(n, 1, m0, s0, 11), score, {.dt = dt, .steps = 5000, .seed = 5},
           [&](int64_t s, const Tensor& x) {
             if (s == 1000 || s == 2000 || s == 5000) moments(x, &seen[s].first, &seen[s].second);
           });
  ASSERT_EQ(seen.size(), 3u);
  for (auto [step, mv] : seen) {
    double t = step * dt;
    double m = m0 * std::exp(-t), v = 1 + (s0 * s0 - 1) * std::exp(-2 * t);
    SCOPED_TRACE(::testing::Message() << "t = " << t);
    EXPECT_NEAR(mv.first, m, 4 * std::sqrt(v / n));
    EXPECT_NEAR(mv.second, v, 4 * v * std::sqrt(2.0 / n));
  }
}

// 8 Gaussians, 5,000 particles from N(0, I), dt = 1e-2, 2,000 steps (the issue's setting):
// sliced-W2 to fresh target samples within 2x the floor (the mean over 8 pairs of target
// samples of the same size, flow_metrics.h).
TEST(LangevinMixture, EightGaussiansWithinTwiceTheFloor) {
  GaussianMixture p = GaussianMixture::by_name("8gaussians");
  const int64_t n = 5000;
  Tensor x = langevin(normal_cloud(n, 2, 0, 1, 3), [&](const Tensor& x) { return p.score(x); },
                      {.dt = 1e-2, .steps = 2000, .seed = 1});
  double floor = sliced_w2_floor(p, n, 7);
  double sw = metrics::sliced_wasserstein(x, p.sample(n, 100), 256, 7);
  EXPECT_LT(sw, 2 * floor) << "floor " << floor;
  ModeCoverage mc = mode_coverage(x, p);
  EXPECT_EQ(mc.covered, 8);
  EXPECT_GT(mc.high_quality, 0.98);
}

TEST(Svgd, MovesParticlesOntoAGaussian) {
  GaussianMixture p = GaussianMixture::by_name("gaussian", 2);
  Tensor x = normal_cloud(200, 2, 3.0, 0.5, 21);
  ScoreFn score = [&](const Tensor& x) { return p.score(x); };
  double before = metrics::sliced_wasserstein(x, p.sample(2000, 1));
  for (int s = 0; s < 1000; ++s) svgd_step(x, score, 0.2);
  double after = metrics::sliced_wasserstein(x, p.sample(2000, 1));
  double m, v;
  moments(x, &m, &v);
  EXPECT_LT(after, 0.1 * before);
  EXPECT_NEAR(m, 0.0, 0.1);
  EXPECT_NEAR(v, 1.0, 0.2);  // the kernel repulsion spreads them; without it they collapse
}

TEST(Svgd, MedianBandwidth) {
  // Two points at distance 2: med² / log(3).
  Tensor x = Tensor::from({0, 0, 2, 0}, {2, 2});
  EXPECT_NEAR(median_bandwidth(x), 4 / std::log(3.0), 1e-12);
}

TEST(MixtureTarget, LogDensityAndScoreOfOneGaussian) {
  nlohmann::json j = {
      {"components",
       {{{"weight", 1.0}, {"mean", {1.0, -2.0}}, {"cov", {{2.0, 0.5}, {0.5, 1.0}}}}}}};
  GaussianMixture p = GaussianMixture::from_json(j, "test");
  Tensor x = Tensor::from({0.3, 0.7, -1.0, 2.0}, {2, 2}, DType::f64);
  std::vector<double> lp = p.log_density(x);
  // Σ⁻¹ = [[1, -0.5], [-0.5, 2]] / 1.75, log det Σ = log 1.75.
  auto want = [](double a, double b) {
    double u = a - 1, v = b + 2;
    double q = (u * u - u * v + 2 * v * v) / 1.75;
    return -0.5 * (q + 2 * std::log(2 * M_PI) + std::log(1.75));
  };
  EXPECT_NEAR(lp[0], want(0.3, 0.7), 1e-12);
  EXPECT_NEAR(lp[1], want(-1.0, 2.0), 1e-12);
}

TEST(MixtureTarget, ScoreMatchesFiniteDifferencesOfLogDensity) {
  GaussianMixture p = GaussianMixture::by_name("8gaussians");
  Tensor x = normal_cloud(20, 2, 0, 3, 9).to(DType::f64);
  Tensor s = p.score(x);
  const double eps = 1e-5;
  for (int64_t i = 0; i < 20; ++i)
    for (int c = 0; c < 2; ++c) {
      Tensor a = x.clone(), b = x.clone();
      a.data<double>()[i * 2 + c] += eps;
      b.data<double>()[i * 2 + c] -= eps;
      double fd = (p.log_density(a)[i] - p.log_density(b)[i]) / (2 * eps);
      EXPECT_NEAR(s.at(i * 2 + c), fd, 1e-4 * (1 + std::fabs(fd)));
    }
}

TEST(MixtureTarget, SamplesMatchTheToySet) {
  GaussianMixture p = GaussianMixture::by_name("8gaussians");
  Tensor a = p.sample(4000, 1), b = data::sample_toy("8gaussians", 4000, 2);
  Tensor c = p.sample(4000, 3);
  EXPECT_LT(metrics::sliced_wasserstein(a, b), 2 * metrics::sliced_wasserstein(a, c) + 0.02);
}

TEST(MixtureTarget, FileErrorsNameTheComponent) {
  auto comp = [](double w, std::vector<std::vector<double>> cov) {
    return nlohmann::json{{"weight", w}, {"mean", {0.0, 0.0}}, {"cov", cov}};
  };
  nlohmann::json id = {{1.0, 0.0}, {0.0, 1.0}};
  EXPECT_THAT(
      flow_error_of([&] {
        GaussianMixture::from_json({{"components", {comp(0.5, id), comp(0.4, id)}}}, "t.json");
      }),
      HasSubstr("t.json: the weights sum to 0.9, not 1"));
  EXPECT_THAT(flow_error_of([&] {
                GaussianMixture::from_json(
                    {{"components", {comp(0.5, id), comp(0.5, {{1.0, 2.0}, {2.0, 1.0}})}}},
                    "t.json");
              }),
              HasSubstr("component 1 has a covariance that is not positive definite"));
  EXPECT_THAT(
      flow_error_of([&] {
        GaussianMixture::from_json({{"components", {comp(-0.5, id), comp(1.5, id)}}}, "t.json");
      }),
      HasSubstr("component 0 has weight -0.5"));
  EXPECT_THAT(flow_error_of([&] {
                GaussianMixture::from_json({{"components", {comp(1.0, {{1.0, 0.3}, {0.0, 1.0}})}}},
                                           "t.json");
              }),
              HasSubstr("component 0 has a non-symmetric covariance"));
  // Sizes are refused before the D x D matrices are allocated (a 180 KB file of 60,000 zeros
  // asked for 29 GB and ended in std::bad_alloc).
  nlohmann::json huge = {{"weight", 1.0}, {"mean", std::vector<double>(60000, 0.0)}, {"std", 1.0}};
  EXPECT_THAT(flow_error_of([&] {
                GaussianMixture::from_json({{"components", {huge}}}, "t.json");
              }),
              HasSubstr("t.json: component 0 has a mean of dimension 60000; at most 1024"));
  nlohmann::json wide = {{"weight", 0.05}, {"mean", std::vector<double>(1024, 0.0)}, {"std", 1.0}};
  EXPECT_THAT(flow_error_of([&] {
                GaussianMixture::from_json({{"components", std::vector<nlohmann::json>(20, wide)}},
                                           "t.json");
              }),
              HasSubstr("t.json: 17 components of dimension 1024 need more than 16777216"));
  EXPECT_THAT(flow_error_of([&] { GaussianMixture::by_name("gaussian", 5000); }),
              HasSubstr("target gaussian: dimension 5000 must be in [1, 1024]"));
  EXPECT_THAT(flow_error_of([&] { GaussianMixture::load("/nonexistent/mix.json"); }),
              HasSubstr("cannot open the mixture file '/nonexistent/mix.json'"));
  // A file on disk with the isotropic shorthand.
  std::string path = ::testing::TempDir() + "/mixture_ok.json";
  std::ofstream(path) << R"({"components": [{"weight": 0.25, "mean": [1, 0], "std": 0.5},
                                           {"weight": 0.75, "mean": [-1, 0], "std": 2}]})";
  GaussianMixture p = GaussianMixture::load(path);
  EXPECT_EQ(p.size(), 2);
  EXPECT_DOUBLE_EQ(p.component(1).cov[3], 4.0);
}

TEST(ParticleFlows, BadInputIsNamed) {
  GaussianMixture p = GaussianMixture::by_name("gaussian", 2);
  ScoreFn score = [&](const Tensor& x) { return p.score(x); };
  Tensor x = normal_cloud(10, 2, 0, 1, 1);
  EXPECT_THAT(flow_error_of([&] { langevin(x, score, {.dt = 0.0}); }),
              HasSubstr("dt = 0 must be positive"));
  EXPECT_THAT(flow_error_of([&] { langevin(x, score, {.dt = -1e-3}); }),
              HasSubstr("dt = -0.001 must be positive"));
  Tensor bad = x.clone();
  bad.data<float>()[7] = NAN;
  EXPECT_THAT(flow_error_of([&] { langevin(bad, score, {}); }),
              HasSubstr("particle 3 has the non-finite coordinate nan (column 1)"));
  EXPECT_THAT(flow_error_of([] { check_count(0, "langevin"); }),
              HasSubstr("particle count 0 must be positive"));
  // A repelling "score" with a big step blows up: the run stops with the step.
  ScoreFn away = [](const Tensor& x) {
    Tensor g = x.clone();
    for (int64_t i = 0; i < g.numel(); ++i) g.data<float>()[i] *= 1e3f;
    return g;
  };
  EXPECT_THAT(flow_error_of([&] { langevin(x, away, {.dt = 1.0, .steps = 100}); }),
              HasSubstr("langevin diverged at step"));
  EXPECT_THAT(flow_error_of([] { fdivergence_from_name("hellinger"); }),
              HasSubstr("unknown f-divergence 'hellinger' (kl, reverse-kl, js)"));
}

TEST(GradientDescentFlow, EnergyFallsAndRk45TracksTheExactFlow) {
  Objective f = objective_by_name("quadratic");
  Tensor x0 = Tensor::from({2.0, 1.0, -1.5, 0.5, 0.3, -2.0}, {3, 2});
  solvers::OdeOptions euler{.method = solvers::Method::euler, .steps = 200, .t0 = 0, .t1 = 2};
  solvers::OdeOptions rk45{
      .method = solvers::Method::rk45, .rtol = 1e-7, .atol = 1e-7, .t0 = 0, .t1 = 2};
  DescentResult e = gradient_descent_flow(f, x0, euler), r = gradient_descent_flow(f, x0, rk45);
  EXPECT_TRUE(e.monotone);
  EXPECT_TRUE(r.monotone);
  std::vector<double> exact = quadratic_exact(x0, 2.0).to_vector();
  std::vector<double> ev = e.ode.x.to_vector(), rv = r.ode.x.to_vector();
  double err_e = 0, err_r = 0;
  for (size_t i = 0; i < exact.size(); ++i) {
    err_e = std::max(err_e, std::fabs(ev[i] - exact[i]));
    err_r = std::max(err_r, std::fabs(rv[i] - exact[i]));
  }
  EXPECT_LT(err_r, 1e-5);
  EXPECT_GT(err_e, 10 * err_r);  // Euler (plain GD, α = 0.01) is first order
  // Rosenbrock: the energy still falls along the curved valley.
  DescentResult ro =
      gradient_descent_flow(objective_by_name("rosenbrock"), Tensor::from({-1.0, 1.0}, {1, 2}),
                            {.method = solvers::Method::rk45, .t0 = 0, .t1 = 5});
  EXPECT_TRUE(ro.monotone);
  EXPECT_LT(ro.energy.back()[0], 0.1 * ro.energy.front()[0]);
  EXPECT_THAT(flow_error_of([] { objective_by_name("banana"); }),
              HasSubstr("unknown objective 'banana' (quadratic, rosenbrock)"));
}

}  // namespace
}  // namespace fx::gen

namespace fx::gen {
namespace {

// The classifier-ratio flows carry a Gaussian cloud onto the 8 Gaussians (1,000 particles,
// 150 steps of dt = 0.3 (KL, JS) or 0.1 (reverse KL), 5 warm-started classifier steps each).
TEST(FDivFlowTest, ClassifierFlowsCoverAllEightModes) {
  GaussianMixture p = GaussianMixture::by_name("8gaussians");
  for (FDivergence f : {FDivergence::kl, FDivergence::reverse_kl, FDivergence::js}) {
    SCOPED_TRACE(fdivergence_name(f));
    FDivFlow flow([&](int64_t n, uint64_t s) { return p.sample(n, s); },
                  {.f = f, .dt = f == FDivergence::reverse_kl ? 0.1 : 0.3, .seed = 2},
                  {.hidden = 64, .layers = 2, .batch = 256, .lr = 2e-3, .seed = 2});
    Tensor x = normal_cloud(1000, 2, 0, 1, 8);
    for (int s = 1; s <= 150; ++s) flow.step(x, s);
    ModeCoverage mc = mode_coverage(x, p);
    EXPECT_EQ(mc.covered, 8);
    EXPECT_GT(mc.high_quality, 0.8);
  }
}

}  // namespace
}  // namespace fx::gen
