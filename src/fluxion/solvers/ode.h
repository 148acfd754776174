// ODE solvers for dx/dt = v(x, t) on batches of points: fixed-step Euler, Heun, RK4, and
// adaptive Dormand–Prince RK45 (error control per step over the whole batch, as
// scipy's RK45 does for one system). Time may run forwards or backwards.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::solvers {

// v(x, t): x is f32 [N, D]; returns f32 [N, D].
using VelocityFn = std::function<Tensor(const Tensor& x, double t)>;

enum class Method { euler, heun, rk4, rk45 };
Method method_from_name(const std::string& name);  // throws naming the value
std::string method_name(Method m);

struct OdeOptions {
  Method method = Method::euler;
  int steps = 100;     // fixed-step methods
  double rtol = 1e-5;  // rk45
  double atol = 1e-5;  // rk45
  double t0 = 0.0, t1 = 1.0;
  bool keep_trajectory = false;  // store x after every accepted step
  // rk45: a stiff or diverging ODE (an untrained network, say) would shrink the step without
  // end; past this many evaluations the solver stops with an error saying where it was.
  int64_t max_nfe = 10000;
};

struct OdeResult {
  Tensor x;         // solution at t1
  int64_t nfe = 0;  // function evaluations
  int64_t accepted = 0, rejected = 0;
  std::vector<Tensor> trajectory;  // x(t0), ..., x(t1) when kept
  std::vector<double> times;
};

OdeResult integrate(const VelocityFn& v, const Tensor& x0, const OdeOptions& o);

// The rows of x0 [N, D] solved `chunk` rows at a time (a network traced for a fixed batch),
// each chunk with the velocity velocity_for(rows) returns, and reported as one solve: x
// stacked, nfe the largest (per sample: every chunk runs the same solver), steps summed, the
// first chunk's trajectory.
OdeResult integrate_in_chunks(const std::function<VelocityFn(int64_t rows)>& velocity_for,
                              const Tensor& x0, const OdeOptions& o, int64_t chunk);

}  // namespace fx::solvers
