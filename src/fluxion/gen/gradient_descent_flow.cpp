#include "fluxion/gen/gradient_descent_flow.h"

#include <cmath>

#include "fluxion/core/error.h"

namespace fx::gen {

namespace {
double quad_f(const double* x) { return 0.5 * (x[0] * x[0] + 10 * x[1] * x[1]); }
void quad_g(const double* x, double* g) {
  g[0] = x[0];
  g[1] = 10 * x[1];
}
double rosen_f(const double* x) {
  double a = 1 - x[0], b = x[1] - x[0] * x[0];
  return a * a + 10 * b * b;
}
void rosen_g(const double* x, double* g) {
  double b = x[1] - x[0] * x[0];
  g[0] = -2 * (1 - x[0]) - 40 * x[0] * b;
  g[1] = 20 * b;
}

void check_2d(const Tensor& x, const char* what) {
  FX_CHECK(x.rank() == 2 && x.dim(1) == 2, "gradient descent flow: {} must be [N, 2], got {}", what,
           shape_str(x.shape()));
}
}  // namespace

Objective objective_by_name(const std::string& name) {
  if (name == "quadratic") return {name, quad_f, quad_g};
  if (name == "rosenbrock") return {name, rosen_f, rosen_g};
  fail("unknown objective '{}' (quadratic, rosenbrock)", name);
}

std::vector<double> objective_values(const Objective& f, const Tensor& x) {
  check_2d(x, "points");
  std::vector<double> v = x.to_vector(), out(x.dim(0));
  for (int64_t i = 0; i < x.dim(0); ++i) out[i] = f.value(v.data() + 2 * i);
  return out;
}

solvers::VelocityFn descent_velocity(const Objective& f) {
  return [f](const Tensor& x, double) {
    check_2d(x, "points");
    std::vector<double> v = x.to_vector();
    Tensor out(x.shape(), DType::f32);
    float* o = out.data<float>();
    double g[2];
    for (int64_t i = 0; i < x.dim(0); ++i) {
      f.grad(v.data() + 2 * i, g);
      o[2 * i] = (float)-g[0];
      o[2 * i + 1] = (float)-g[1];
    }
    return out;
  };
}

Tensor quadratic_exact(const Tensor& x0, double t) {
  check_2d(x0, "x0");
  std::vector<double> v = x0.to_vector();
  for (int64_t i = 0; i < x0.dim(0); ++i) {
    v[2 * i] *= std::exp(-t);
    v[2 * i + 1] *= std::exp(-10 * t);
  }
  return Tensor::from(v, x0.shape());
}

DescentResult gradient_descent_flow(const Objective& f, const Tensor& x0, solvers::OdeOptions o) {
  check_2d(x0, "x0");
  o.keep_trajectory = true;
  DescentResult r;
  r.ode = solvers::integrate(descent_velocity(f), x0, o);
  for (const Tensor& x : r.ode.trajectory) r.energy.push_back(objective_values(f, x));
  for (size_t k = 1; k < r.energy.size(); ++k)
    for (size_t i = 0; i < r.energy[k].size(); ++i)
      if (r.energy[k][i] > r.energy[k - 1][i] * (1 + 1e-9) + 1e-12) r.monotone = false;
  return r;
}

}  // namespace fx::gen
