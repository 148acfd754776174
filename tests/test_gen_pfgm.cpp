// PFGM library checks: the prior radius against numerical integration of its density, the
// empirical field of charges (radial, 1/dist^N, stable for large N), the field target against
// the reference implementation in PyTorch, the loss gradient against finite differences, the
// sampler on an exact field, and the errors for bad options and a diverging ODE.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/gen/pfgm.h"
#include "fluxion/gen/pfgm_prior.h"
#include "fluxion/gen/pfgm_sample.h"
#include "op_test_util.h"

using namespace fx;
using namespace fx::gen;
using ::testing::HasSubstr;

namespace {

// CDF of r with density ∝ r^{N−1}(r² + z²)^{−(N+1)/2}, by the trapezoid rule in u = log r
// (density r·p(r)), in log space so that N = 784 does not overflow.
struct RadiusCdf {
  std::vector<double> u, F;
  RadiusCdf(int64_t N, double z, double lo, double hi, int n = 400000) {
    u.resize(n);
    std::vector<double> lf(n);
    double mx = -1e300;
    for (int i = 0; i < n; ++i) {
      u[i] = lo + (hi - lo) * i / (n - 1);
      lf[i] = N * u[i] - 0.5 * (N + 1) * std::log(std::exp(2 * u[i]) + z * z);
      mx = std::max(mx, lf[i]);
    }
    F.assign(n, 0.0);
    for (int i = 1; i < n; ++i)
      F[i] = F[i - 1] + 0.5 * (std::exp(lf[i] - mx) + std::exp(lf[i - 1] - mx)) * (u[i] - u[i - 1]);
    for (double& f : F) f /= F.back();
  }
  double operator()(double r) const {
    double x = std::log(r);
    if (x <= u.front()) return 0;
    if (x >= u.back()) return 1;
    size_t i = std::upper_bound(u.begin(), u.end(), x) - u.begin();
    double t = (x - u[i - 1]) / (u[i] - u[i - 1]);
    return F[i - 1] + t * (F[i] - F[i - 1]);
  }
};

double ks_statistic(std::vector<double> r, const RadiusCdf& cdf) {
  std::sort(r.begin(), r.end());
  double d = 0, n = double(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    double f = cdf(r[i]);
    d = std::max({d, std::fabs(f - i / n), std::fabs(f - (i + 1) / n)});
  }
  return d;
}

void check_prior_radius(int64_t N) {
  const double z = 40;
  std::vector<double> r = pfgm_prior_radius(100000, N, z, /*upper_norm=*/0, 11);
  RadiusCdf cdf(N, z, std::log(z) - 12, std::log(z) + 25);
  double d = ks_statistic(r, cdf);
  // With 1e5 draws the KS statistic of a correct sampler is ~0.003 (0.0043 at p = 0.05).
  EXPECT_LT(d, 0.01) << "N = " << N;
}

Tensor f32(const std::vector<double>& v, Shape s) { return Tensor::from(v, s, DType::f32); }

std::vector<double> flat(const nlohmann::json& rows) {
  std::vector<double> v;
  for (const auto& r : rows)
    for (double x : r) v.push_back(x);
  return v;
}

nlohmann::json fixture() {
  std::ifstream in(std::string(FLUXION_FIXTURE_DIR) + "/pfgm_target.json");
  EXPECT_TRUE(in.good()) << "run tests/fixtures/make_pfgm_fixture.py";
  return nlohmann::json::parse(in);
}

}  // namespace

TEST(PfgmPrior, RadiusMatchesTheDensityIn2D) { check_prior_radius(2); }
TEST(PfgmPrior, RadiusMatchesTheDensityIn784D) { check_prior_radius(784); }

TEST(PfgmPrior, PointsAreClippedAndDirectionsUniform) {
  Tensor x = pfgm_prior(20000, 2, 40, 300, 3);
  const float* p = x.data<float>();
  double mean_cos = 0, mean_sin = 0;
  for (int64_t i = 0; i < 20000; ++i) {
    double r = std::hypot(p[2 * i], p[2 * i + 1]);
    ASSERT_GE(r, 1 - 1e-4);
    ASSERT_LE(r, 300 * (1 + 1e-6));
    mean_cos += p[2 * i] / r / 20000;
    mean_sin += p[2 * i + 1] / r / 20000;
  }
  EXPECT_LT(std::fabs(mean_cos), 0.03);
  EXPECT_LT(std::fabs(mean_sin), 0.03);
  // Same seed, same points.
  EXPECT_EQ(pfgm_prior(10, 2, 40, 300, 3).to_vector(), pfgm_prior(10, 2, 40, 300, 3).to_vector());
}

TEST(PfgmPrior, GammaSamplerMoments) {
  for (double shape : {0.5, 1.0, 3.5, 392.0}) {
    double m = 0, m2 = 0;
    const int n = 50000;
    for (int i = 0; i < n; ++i) {
      PhiloxStream s(5, 1, i);
      double g = sample_gamma(s, shape);
      m += g / n;
      m2 += g * g / n;
    }
    // mean = var = shape; 6 standard errors.
    EXPECT_NEAR(m, shape, 6 * std::sqrt(shape / n)) << shape;
    EXPECT_NEAR(m2 - m * m, shape, 6 * shape * std::sqrt(2.0 * (shape + 3) / n)) << shape;
  }
}

TEST(PfgmField, OneChargeIsRadialWithMagnitudeInverseDistPowerN) {
  for (int64_t N : {2, 3, 10}) {
    std::vector<double> c(N);
    for (int64_t i = 0; i < N; ++i) c[i] = 0.3 * i - 0.5;
    Tensor charge = f32(c, {1, N});
    for (double dist : {0.1, 1.0, 7.0}) {
      // A point at distance `dist` from the charge, off the plane.
      std::vector<double> p(N + 1, 0.0);
      double zf = 0.6, xf = std::sqrt(1 - zf * zf) / std::sqrt(double(N));
      for (int64_t i = 0; i < N; ++i) p[i] = c[i] + dist * xf;
      p[N] = dist * zf;
      EmpiricalField f = pfgm_empirical_field(f32(p, {1, N + 1}), charge);
      // Unnormalised field = E·exp(log_norm): direction from the point to the charge,
      // magnitude dist^{-N}.
      double scale = std::exp(f.log_norm[0]);
      for (int64_t i = 0; i < N; ++i)
        EXPECT_NEAR(f.E[i] * scale, -xf * dist * std::pow(dist, -double(N + 1)),
                    1e-4 * std::pow(dist, -double(N)))
            << "N " << N << " dist " << dist;
      EXPECT_NEAR(f.E[N] * scale, -zf * std::pow(dist, -double(N)),
                  1e-4 * std::pow(dist, -double(N)));
    }
  }
}

TEST(PfgmField, SuperposesChargesStablyForLargeN) {
  // Two charges 1 and 2 units away in N = 784: dist^{-785} is 0 in double, the log-sum-exp
  // form still gives the weights 2^785 : 1 exactly.
  const int64_t N = 784;
  std::vector<double> data(2 * N, 0.0), p(N + 1, 0.0);
  data[0] = 1.0;   // charge A at e_0
  data[N] = -2.0;  // charge B at −2 e_0
  p[N] = 1e-3;     // the point just above the origin: dist_A ≈ 1, dist_B ≈ 2
  EmpiricalField f = pfgm_empirical_field(f32(p, {1, N + 1}), f32(data, {2, N}));
  double dA = std::hypot(1.0, 1e-3), dB = std::hypot(2.0, 1e-3);
  double wB = std::exp(-(N + 1) * (std::log(dB) - std::log(dA)));
  EXPECT_NEAR(f.E[0], (1.0 - 2.0 * wB) / (1 + wB), 1e-12);
  EXPECT_NEAR(f.log_norm[0], -(N + 1) * std::log(dA) + std::log1p(wB), 1e-9);
  EXPECT_TRUE(std::isfinite(f.log_norm[0]));
}

// Image-like charges in [-1, 1] (smooth random patterns, as Fashion-MNIST pixels are) and
// points perturbed from them at every scale of forward_pz, plus a point on a charge and one
// far out: the GEMM form of the field must give the direct form's target.
void check_gemm_form_against_direct(int64_t N, int64_t L, int64_t B) {
  std::vector<double> u(L * 3);
  philox_uniform(5, 0, u.data(), L * 3);
  std::vector<double> data(L * N);
  for (int64_t j = 0; j < L; ++j)
    for (int64_t i = 0; i < N; ++i)
      data[j * N + i] =
          std::tanh(2 * std::sin(6.0 * u[3 * j] * i / N + 6 * u[3 * j + 1]) - 0.8 + u[3 * j + 2]);
  Tensor charges = f32(data, {L, N});
  PfgmConfig c;
  c.z_max = 40;
  Tensor x0 = f32(std::vector<double>(data.begin(), data.begin() + B * N), {B, N});
  Tensor at = pfgm_perturb(x0, c, 9);
  float* a = at.data<float>();
  for (int64_t i = 0; i < N; ++i) a[i] = float(data[i]);  // row 0: on charge 0
  a[N] = 1e-10f;
  for (int64_t i = 0; i <= N; ++i) a[(N + 1) + i] = 300.0f;  // row 1: far out
  EmpiricalField direct = pfgm_empirical_field_direct(at, charges);
  EmpiricalField gemm = pfgm_empirical_field_gemm(at, charges);
  std::vector<double> td = pfgm_target_from_field(direct, 5).to_vector();
  std::vector<double> tg = pfgm_target_from_field(gemm, 5).to_vector();
  double worst = 0;
  for (size_t i = 0; i < td.size(); ++i) worst = std::max(worst, std::fabs(td[i] - tg[i]));
  // The target's entries are up to sqrt(N) in size; the reference's own f32 rounding of
  // (min_dist/dist)^(N+1) is ~1e-4 relative at N = 784.
  EXPECT_LT(worst, 2e-5 * std::sqrt(double(N))) << "N " << N;
  // log Σ w: the f32 cross term leaves each log weight up to 0.05 uncertain by its bound
  // (0.01 seen); the target above cancels most of it (weights are normalised).
  for (int64_t b = 0; b < B; ++b)
    EXPECT_NEAR(direct.log_norm[b], gemm.log_norm[b], 0.05) << "N " << N << " row " << b;
}

TEST(PfgmField, GemmFormMatchesTheDirectOneOn784D) { check_gemm_form_against_direct(784, 512, 64); }
TEST(PfgmField, GemmFormMatchesTheDirectOneOn40D) { check_gemm_form_against_direct(40, 1024, 128); }

TEST(PfgmTarget, MatchesTheReferenceImplementationInPyTorch) {
  nlohmann::json fx_json = fixture();
  for (const auto& c : fx_json.at("cases")) {
    int64_t L = c.at("data").size(), N = c.at("data")[0].size(), B = c.at("perturbed").size();
    Tensor data = f32(flat(c.at("data")), {L, N});
    Tensor at = f32(flat(c.at("perturbed")), {B, N + 1});
    Tensor t = pfgm_field_target(at, data, c.at("gamma").get<double>());
    EXPECT_TRUE(optest::all_close(t.to_vector(), flat(c.at("target")), {1e-4, 1e-5}))
        << c.at("name").get<std::string>();
    // The loss on the fixture's own target and a fixed "network output", in f64.
    Graph g;
    Var net = g.input("net", {B, N + 1}, DType::f64);
    Var tg = g.input("target", {B, N + 1}, DType::f64);
    Var loss = pfgm_loss(net, tg);
    Feeds feeds{{"net", Tensor::from(flat(c.at("net")), {B, N + 1}, DType::f64)},
                {"target", Tensor::from(flat(c.at("target")), {B, N + 1}, DType::f64)}};
    EXPECT_NEAR(Interpreter(g, {loss}).run(feeds)[0].item(), c.at("loss").get<double>(), 1e-10);
  }
}

TEST(PfgmLoss, GradientMatchesFiniteDifferences) {
  // loss(tanh([x, log z] W), target): the network's log-z input and the loss, in f64.
  optest::Builder f = [](const optest::Args& a) {
    Var h = tanh(dot(concat({a["x"], log(a["z"])}, 1), a["w"]));
    return pfgm_loss(h, a["target"]);
  };
  int n = optest::check_grad_fd(f,
                                {{"x", optest::random_tensor({4, 2}, 1)},
                                 {"z", optest::random_tensor({4, 1}, 2, DType::f64, 0.1, 3.0)},
                                 {"w", optest::random_tensor({3, 3}, 3)},
                                 {"target", optest::random_tensor({4, 3}, 4)}},
                                5);
  EXPECT_EQ(n, 8 + 4 + 9 + 12);
}

TEST(PfgmLoss, NetworkLossTrainsThroughGrad) {
  // The module version: finite loss and gradients for every parameter.
  nn::InitRng rng(1);
  PoissonMLP net({.dim = 2, .hidden = 16, .layers = 2}, rng);
  Graph g;
  net.bind(g);
  Var xz = g.input("xz", {8, 3});
  Var tg = g.input("target", {8, 3});
  Var loss = pfgm_loss(net, xz, tg);
  std::vector<Var> wrt;
  Feeds feeds;
  for (auto& [name, p] : net.named_parameters()) {
    wrt.push_back(p->var);
    feeds[name] = p->value;
  }
  PfgmConfig c;
  Tensor data = f32(optest::uniform_values(32 * 2, 9), {32, 2});
  Tensor x0 = f32(optest::uniform_values(8 * 2, 10), {8, 2});
  feeds["xz"] = pfgm_perturb(x0, c, 3);
  feeds["target"] = pfgm_field_target(feeds["xz"], data, c.gamma);
  std::vector<Var> outs = grad(loss, wrt);
  outs.insert(outs.begin(), loss);
  auto res = Interpreter(g, outs).run(feeds);
  EXPECT_TRUE(std::isfinite(res[0].item()));
  for (size_t i = 1; i < res.size(); ++i)
    for (double v : res[i].to_vector()) ASSERT_TRUE(std::isfinite(v));
}

TEST(PfgmPerturb, BoundsAndDeterminism) {
  PfgmConfig c;
  c.z_max = 40;
  Tensor x0 = f32(optest::uniform_values(4000 * 2, 1), {4000, 2});
  Tensor p = pfgm_perturb(x0, c, 7);
  EXPECT_EQ(p.to_vector(), pfgm_perturb(x0, c, 7).to_vector());
  const float* pp = p.data<float>();
  const double top = std::pow(1 + c.tau, c.resolved_M());
  EXPECT_NEAR(c.sigma * top, c.z_max, 1e-9);  // the automatic M reaches z_max
  double zmax_seen = 0;
  for (int64_t i = 0; i < 4000; ++i) {
    double z = pp[3 * i + 2];
    ASSERT_GT(z, 0);
    // |ε_z| < 5σ with overwhelming probability for 4000 draws.
    ASSERT_LT(z, 5 * c.sigma * top);
    zmax_seen = std::max(zmax_seen, z);
  }
  EXPECT_GT(zmax_seen, 0.5 * c.z_max);  // the top of the range is reached
}

TEST(PfgmSample, ExactFieldOfOneChargeLeadsToIt) {
  // With the exact normalised field of one charge, every field line from the prior ends at
  // the charge: checks the sign and the change of variables of the ODE, for all solvers.
  Tensor charge = f32({0.5, -1.0}, {1, 2});
  PfgmConfig c;
  c.z_max = 20;
  c.upper_norm = 200;
  FieldFn field = [&](const Tensor& x, double z) {
    int64_t B = x.dim(0);
    Tensor xz({B, 3}, DType::f32);
    for (int64_t b = 0; b < B; ++b) {
      xz.data<float>()[3 * b] = x.data<float>()[2 * b];
      xz.data<float>()[3 * b + 1] = x.data<float>()[2 * b + 1];
      xz.data<float>()[3 * b + 2] = float(z);
    }
    return pfgm_field_target(xz, charge, c.gamma);
  };
  Tensor x = pfgm_prior(64, 2, c.z_max, c.upper_norm, 1);
  for (auto [m, steps] : {std::pair{solvers::Method::rk45, 0},
                          {solvers::Method::euler, 100},
                          {solvers::Method::heun, 50}}) {
    solvers::OdeOptions o;
    o.method = m;
    o.steps = steps;
    o.rtol = o.atol = 1e-5;
    solvers::OdeResult r = solvers::integrate(pfgm_velocity(field, c), x, pfgm_ode_options(c, o));
    double worst = 0;
    for (int64_t b = 0; b < 64; ++b)
      worst = std::max(
          worst, std::hypot(r.x.data<float>()[2 * b] - 0.5, r.x.data<float>()[2 * b + 1] + 1.0));
    EXPECT_LT(worst, m == solvers::Method::euler ? 0.2 : 0.02) << solvers::method_name(m);
    EXPECT_GT(r.nfe, 0);
  }
}

TEST(PfgmSample, EulerStepsInZFollowARadialFieldLineExactly) {
  // One charge at the origin: its field lines are rays, x ∝ z, so dx/d(log z) = x. Euler in
  // log z scales x by (1 + h) per step, Euler in z by e^h (exact).
  PfgmConfig c;
  c.z_max = 40;
  c.z_exp = 1e-9;  // the network-free field has its own exact v_z
  Tensor charge = f32({0.0, 0.0}, {1, 2});
  FieldFn field = [&](const Tensor& x, double z) {
    Tensor xz({x.dim(0), 3}, DType::f32);
    for (int64_t b = 0; b < x.dim(0); ++b) {
      xz.data<float>()[3 * b] = x.data<float>()[2 * b];
      xz.data<float>()[3 * b + 1] = x.data<float>()[2 * b + 1];
      xz.data<float>()[3 * b + 2] = float(z);
    }
    return pfgm_field_target(xz, charge, c.gamma);
  };
  Tensor x = f32({30.0, -20.0}, {1, 2});
  solvers::OdeOptions o;
  o.method = solvers::Method::euler;
  o.steps = 5;
  c.eps = 1.0;  // 5 steps of h = -log(40)/5
  const double h = -std::log(40.0) / 5;
  auto end = [&](double scale) {
    return solvers::integrate(pfgm_velocity(field, c, scale), x, pfgm_ode_options(c, o)).x;
  };
  Tensor in_log = end(1.0), in_z = end(pfgm_z_step_scale(c, 5));
  // v_z + 1e-5 in the drift perturbs the ray by ~1e-5 relative.
  EXPECT_NEAR(in_z.data<float>()[0], 30.0 / 40.0, 1e-3);
  EXPECT_NEAR(in_z.data<float>()[1], -20.0 / 40.0, 1e-3);
  EXPECT_NEAR(in_log.data<float>()[0], 30.0 * std::pow(1 + h, 5), 1e-3);
}

TEST(PfgmSample, DivergingOdeStopsWithTheStepAndZ) {
  PfgmConfig c;
  c.z_max = 40;
  // A field that blows up below z = 10.
  FieldFn field = [](const Tensor& x, double z) {
    Tensor v = Tensor::full({x.dim(0), 3}, z < 10 ? std::nan("") : -1.0);
    return v;
  };
  solvers::OdeOptions o;
  o.method = solvers::Method::euler;
  o.steps = 20;
  Tensor x = pfgm_prior(4, 2, 40, 100, 1);
  try {
    solvers::integrate(pfgm_velocity(field, c), x, pfgm_ode_options(c, o));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    // Euler steps are uniform in log z from log 40 to log 1e-3: z < 10 first at step 4.
    EXPECT_THAT(e.what(), HasSubstr("evaluation 4"));
    EXPECT_THAT(e.what(), HasSubstr("z = "));
    EXPECT_THAT(e.what(), HasSubstr("diverged"));
  }
}

TEST(PfgmConfig, BadOptionsNameTheOptionAndValue) {
  auto expect_error = [](auto set, const std::string& a, const std::string& b) {
    PfgmConfig c;
    set(c);
    try {
      c.validate();
      FAIL() << "expected an error mentioning " << a;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(a));
      EXPECT_THAT(e.what(), HasSubstr(b));
    }
  };
  expect_error([](PfgmConfig& c) { c.sigma = 0; }, "--sigma", "0");
  expect_error([](PfgmConfig& c) { c.sigma = -0.5; }, "--sigma", "-0.5");
  expect_error([](PfgmConfig& c) { c.tau = -1; }, "--tau", "-1");
  expect_error([](PfgmConfig& c) { c.gamma = 0; }, "--gamma", "0");
  expect_error([](PfgmConfig& c) { c.z_max = -3; }, "--z-max", "-3");
  expect_error([](PfgmConfig& c) { c.small_batch = 0; }, "--batch", "0");
  expect_error([](PfgmConfig& c) { c.large_batch = -2; }, "--large-batch", "-2");
  expect_error([](PfgmConfig& c) { c.large_batch = 64; }, "--large-batch", "64");
  expect_error([](PfgmConfig& c) { c.upper_norm = 0.5; }, "--upper-norm", "0.5");
  expect_error([](PfgmConfig& c) { c.sigma = std::nan(""); }, "--sigma", "nan");
  EXPECT_NO_THROW(PfgmConfig{}.validate());
}

TEST(PfgmSample, ZExpSubstitutionReplacesABadVz) {
  // One charge at the origin, the point (0.3, 0) at z = 0.01: the exact target with v_z
  // spoilt. Below z_exp the drift z·v_x/v_z is still x − charge = (0.3, 0) (moving backwards
  // in log z); above it the spoilt v_z is used as it is.
  PfgmConfig c;
  Tensor charge = f32({0.0, 0.0}, {1, 2});
  for (double z : {0.01, 7.0}) {
    Tensor v = pfgm_field_target(f32({0.3, 0.0, z}, {1, 3}), charge, c.gamma);
    float exact_vz = v.data<float>()[2];
    v.data<float>()[2] = 0.5f;  // wrong sign and size
    Tensor d = pfgm_drift(v, z, c);
    if (z < c.z_exp) {
      EXPECT_NEAR(d.data<float>()[0], 0.3, 0.3 * 0.01);
    } else {
      EXPECT_NEAR(d.data<float>()[0], z * v.data<float>()[0] / (0.5 + 1e-5), 1e-5);
      EXPECT_LT(exact_vz, 0);
    }
    EXPECT_NEAR(d.data<float>()[1], 0.0, 1e-6);
  }
  // Far from the data (‖v_x‖/sqrt(N) above kZExpMaxNorm) the network's v_z is kept.
  Tensor far = f32({1.35, 0.0, -0.2}, {1, 3});
  EXPECT_NEAR(pfgm_drift(far, 1.0, c).data<float>()[0], 1.35 / (-0.2 + 1e-5), 1e-4);
}
