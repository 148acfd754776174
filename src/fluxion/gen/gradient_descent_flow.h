// Gradient descent as an ODE: x_{t+1} = x_t − α∇f(x_t) is the Euler discretisation of the
// gradient flow dx/dt = −∇f(x), along which df/dt = −‖∇f‖² ≤ 0. Integrated with solvers/ode.h
// (Euler = plain GD with α = dt, RK45 ≈ the exact flow) on analytic objectives:
//   quadratic   f = ½(x² + 10 y²)          exact flow x(t) = (x0 e^{−t}, y0 e^{−10t})
//   rosenbrock  f = (1 − x)² + 10(y − x²)²  (a curved valley; b = 10, not 100: solvers/ode.h
//               fails on a non-finite trial step instead of shrinking it, and RK45's first
//               trial step of 0.05 overflows f32 on the stiff b = 100 valley)
#pragma once
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"
#include "fluxion/solvers/ode.h"

namespace fx::gen {

struct Objective {
  std::string name;
  // f and ∇f at one 2-D point.
  double (*value)(const double* x);
  void (*grad)(const double* x, double* g);
};

// "quadratic" or "rosenbrock"; anything else is an error listing them.
Objective objective_by_name(const std::string& name);
// f at every row of x (f32/f64 [N, 2]).
std::vector<double> objective_values(const Objective& f, const Tensor& x);
// v(x, t) = −∇f(x), for solvers::integrate.
solvers::VelocityFn descent_velocity(const Objective& f);
// The exact quadratic flow at time t.
Tensor quadratic_exact(const Tensor& x0, double t);

struct DescentResult {
  solvers::OdeResult ode;                   // with the trajectory kept
  std::vector<std::vector<double>> energy;  // f along the trajectory, per state per point
  bool monotone = true;                     // f never rose (beyond 1e-9 relative) for any point
};

DescentResult gradient_descent_flow(const Objective& f, const Tensor& x0, solvers::OdeOptions o);

}  // namespace fx::gen
