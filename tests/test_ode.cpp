// ODE solvers on dx/dt = -x (exact x(t) = x0·e^{-t}) and a rotation field.
#include <gtest/gtest.h>

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/solvers/ode.h"

using namespace fx;
using namespace fx::solvers;

namespace {
Tensor decay(const Tensor& x, double) {
  Tensor v = x.clone();
  for (int64_t i = 0; i < v.numel(); ++i) v.data<float>()[i] = -x.data<float>()[i];
  return v;
}
double err(const Tensor& x, double expect) {
  double e = 0;
  for (int64_t i = 0; i < x.numel(); ++i) e = std::max(e, std::fabs(x.data<float>()[i] - expect));
  return e;
}
}  // namespace

TEST(Ode, FixedStepMethodsConvergeAtTheirOrder) {
  Tensor x0 = Tensor::full({3, 2}, 1.0);
  double exact = std::exp(-1.0);
  for (auto [m, order] : {std::pair{Method::euler, 1}, {Method::heun, 2}, {Method::rk4, 4}}) {
    OdeOptions o;
    o.method = m;
    o.steps = 10;
    double e10 = err(integrate(decay, x0, o).x, exact);
    o.steps = 20;
    double e20 = err(integrate(decay, x0, o).x, exact);
    double observed = std::log2(e10 / e20);
    if (m != Method::rk4)
      EXPECT_NEAR(observed, order, 0.3) << method_name(m);
    else
      EXPECT_LT(e20, 1e-6);  // at f32 round-off already
  }
}

TEST(Ode, Rk45MeetsToleranceAndCountsEvaluations) {
  Tensor x0 = Tensor::full({4, 2}, 2.0);
  OdeOptions o;
  o.method = Method::rk45;
  o.rtol = o.atol = 1e-6;
  int calls = 0;
  auto v = [&](const Tensor& x, double t) {
    ++calls;
    return decay(x, t);
  };
  OdeResult r = integrate(v, x0, o);
  EXPECT_LT(err(r.x, 2 * std::exp(-1.0)), 2e-5);
  EXPECT_EQ(r.nfe, calls);
  EXPECT_GT(r.accepted, 1);
}

TEST(Ode, BackwardInTimeInvertsForward) {
  Tensor x0 = Tensor::full({2, 2}, 0.5);
  OdeOptions f;
  f.method = Method::rk4;
  f.steps = 50;
  Tensor x1 = integrate(decay, x0, f).x;
  OdeOptions b = f;
  b.t0 = 1.0;
  b.t1 = 0.0;
  EXPECT_LT(err(integrate(decay, x1, b).x, 0.5), 1e-5);
  b.method = Method::rk45;
  EXPECT_LT(err(integrate(decay, x1, b).x, 0.5), 1e-4);
}

TEST(Ode, TrajectoryIsKeptAndBadOptionsAreRejected) {
  OdeOptions o;
  o.steps = 5;
  o.keep_trajectory = true;
  OdeResult r = integrate(decay, Tensor::full({1, 2}, 1.0), o);
  EXPECT_EQ(r.trajectory.size(), 6u);
  EXPECT_DOUBLE_EQ(r.times.back(), 1.0);
  o.steps = 0;
  EXPECT_THROW(integrate(decay, Tensor::full({1, 2}, 1.0), o), Error);
  EXPECT_THROW(method_from_name("rk7"), Error);
}

// A stiff ODE (dx/dt = -1e7 x) would make RK45 shrink its step without end; it stops with an
// error saying where, instead of running for hours.
TEST(OdeRk45, StiffProblemStopsAtTheEvaluationBudget) {
  fx::solvers::OdeOptions o;
  o.method = fx::solvers::Method::rk45;
  o.rtol = o.atol = 1e-9;
  o.max_nfe = 500;
  auto stiff = [](const fx::Tensor& x, double) {
    fx::Tensor v = x.clone();
    for (int64_t i = 0; i < v.numel(); ++i) v.data<float>()[i] *= -1e7f;
    return v;
  };
  try {
    fx::solvers::integrate(stiff, fx::Tensor::full({4, 2}, 1.0), o);
    FAIL() << "no error";
  } catch (const fx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("RK45 stopped after"), std::string::npos) << e.what();
  }
}
