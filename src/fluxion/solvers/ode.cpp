#include "fluxion/solvers/ode.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fluxion/core/error.h"

namespace fx::solvers {

Method method_from_name(const std::string& n) {
  if (n == "euler") return Method::euler;
  if (n == "heun") return Method::heun;
  if (n == "rk4") return Method::rk4;
  if (n == "rk45" || n == "dopri5") return Method::rk45;
  fail("unknown ODE solver '{}' (expected euler, heun, rk4 or rk45)", n);
}

std::string method_name(Method m) {
  switch (m) {
    case Method::euler:
      return "euler";
    case Method::heun:
      return "heun";
    case Method::rk4:
      return "rk4";
    case Method::rk45:
      return "rk45";
  }
  return "?";
}

namespace {

// y = x + sum_k c_k * k_k, all f32 [N, D].
Tensor axpy(const Tensor& x, std::initializer_list<std::pair<double, const Tensor*>> terms) {
  Tensor y = x.clone();
  float* yp = y.data<float>();
  for (auto& [c, k] : terms) {
    if (c == 0.0) continue;
    const float* kp = k->data<float>();
    for (int64_t i = 0; i < y.numel(); ++i) yp[i] += (float)(c * kp[i]);
  }
  return y;
}

struct Recorder {
  const OdeOptions& o;
  OdeResult& r;
  void operator()(const Tensor& x, double t) {
    if (!o.keep_trajectory) return;
    r.trajectory.push_back(x);
    r.times.push_back(t);
  }
};

void fixed_step(const VelocityFn& v, OdeResult& r, const OdeOptions& o) {
  FX_CHECK(o.steps > 0, "ODE solver: steps must be positive, got {}", o.steps);
  Recorder rec{o, r};
  double h = (o.t1 - o.t0) / o.steps;
  Tensor x = r.x;
  rec(x, o.t0);
  for (int s = 0; s < o.steps; ++s) {
    double t = o.t0 + s * h;
    Tensor k1 = v(x, t);
    switch (o.method) {
      case Method::euler:
        x = axpy(x, {{h, &k1}});
        r.nfe += 1;
        break;
      case Method::heun: {
        Tensor k2 = v(axpy(x, {{h, &k1}}), t + h);
        x = axpy(x, {{h / 2, &k1}, {h / 2, &k2}});
        r.nfe += 2;
        break;
      }
      case Method::rk4: {
        Tensor k2 = v(axpy(x, {{h / 2, &k1}}), t + h / 2);
        Tensor k3 = v(axpy(x, {{h / 2, &k2}}), t + h / 2);
        Tensor k4 = v(axpy(x, {{h, &k3}}), t + h);
        x = axpy(x, {{h / 6, &k1}, {h / 3, &k2}, {h / 3, &k3}, {h / 6, &k4}});
        r.nfe += 4;
        break;
      }
      default:
        break;
    }
    r.accepted++;
    rec(x, t + h);
  }
  r.x = x;
}

// Dormand–Prince 5(4) with FSAL and the standard step-size controller (Hairer,
// Nørsett & Wanner, II.4), error measured in the RMS norm over all coordinates.
void dopri5(const VelocityFn& v, OdeResult& r, const OdeOptions& o) {
  static const double c2 = 1 / 5., c3 = 3 / 10., c4 = 4 / 5., c5 = 8 / 9.;
  static const double a21 = 1 / 5.;
  static const double a31 = 3 / 40., a32 = 9 / 40.;
  static const double a41 = 44 / 45., a42 = -56 / 15., a43 = 32 / 9.;
  static const double a51 = 19372 / 6561., a52 = -25360 / 2187., a53 = 64448 / 6561.,
                      a54 = -212 / 729.;
  static const double a61 = 9017 / 3168., a62 = -355 / 33., a63 = 46732 / 5247., a64 = 49 / 176.,
                      a65 = -5103 / 18656.;
  static const double b1 = 35 / 384., b3 = 500 / 1113., b4 = 125 / 192., b5 = -2187 / 6784.,
                      b6 = 11 / 84.;
  // error = 5th-order minus embedded 4th-order weights
  static const double e1 = 71 / 57600., e3 = -71 / 16695., e4 = 71 / 1920., e5 = -17253 / 339200.,
                      e6 = 22 / 525., e7 = -1 / 40.;
  Recorder rec{o, r};
  double dir = o.t1 >= o.t0 ? 1.0 : -1.0, span = std::fabs(o.t1 - o.t0);
  Tensor x = r.x;
  rec(x, o.t0);
  if (span == 0) return;
  double t = o.t0, h = dir * std::min(0.05, span);
  Tensor k1 = v(x, t);
  r.nfe++;
  while (dir * (o.t1 - t) > 1e-12) {
    FX_CHECK(r.nfe < o.max_nfe,
             "RK45 stopped after {} evaluations at t = {:.6g} (step {:.3g}): the ODE is too stiff "
             "for rtol {} / atol {}; use a fixed-step solver (euler, heun, rk4) or looser "
             "tolerances",
             r.nfe, t, h, o.rtol, o.atol);
    if (dir * (t + h - o.t1) > 0) h = o.t1 - t;
    Tensor k2 = v(axpy(x, {{h * a21, &k1}}), t + c2 * h);
    Tensor k3 = v(axpy(x, {{h * a31, &k1}, {h * a32, &k2}}), t + c3 * h);
    Tensor k4 = v(axpy(x, {{h * a41, &k1}, {h * a42, &k2}, {h * a43, &k3}}), t + c4 * h);
    Tensor k5 =
        v(axpy(x, {{h * a51, &k1}, {h * a52, &k2}, {h * a53, &k3}, {h * a54, &k4}}), t + c5 * h);
    Tensor k6 =
        v(axpy(x, {{h * a61, &k1}, {h * a62, &k2}, {h * a63, &k3}, {h * a64, &k4}, {h * a65, &k5}}),
          t + h);
    Tensor xn =
        axpy(x, {{h * b1, &k1}, {h * b3, &k3}, {h * b4, &k4}, {h * b5, &k5}, {h * b6, &k6}});
    Tensor k7 = v(xn, t + h);
    r.nfe += 6;
    const float *xp = x.data<float>(), *np = xn.data<float>();
    const float *p1 = k1.data<float>(), *p3 = k3.data<float>(), *p4 = k4.data<float>(),
                *p5 = k5.data<float>(), *p6 = k6.data<float>(), *p7 = k7.data<float>();
    double err2 = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      double e = h * (e1 * p1[i] + e3 * p3[i] + e4 * p4[i] + e5 * p5[i] + e6 * p6[i] + e7 * p7[i]);
      double sc = o.atol + o.rtol * std::max(std::fabs(xp[i]), std::fabs(np[i]));
      err2 += (e / sc) * (e / sc);
    }
    double err = x.numel() ? std::sqrt(err2 / x.numel()) : 0.0;
    FX_CHECK(std::isfinite(err), "rk45: non-finite state at t = {} (the model diverged)", t);
    double factor = err == 0 ? 5.0 : std::clamp(0.9 * std::pow(err, -0.2), 0.2, 5.0);
    if (err <= 1.0) {
      t += h;
      x = xn;
      k1 = k7;  // first-same-as-last
      r.accepted++;
      rec(x, t);
    } else {
      r.rejected++;
      factor = std::min(factor, 1.0);
    }
    h *= factor;
    FX_CHECK(std::fabs(h) > 1e-10 * std::max(1.0, span), "rk45: step size underflow at t = {}", t);
  }
  r.x = x;
}

}  // namespace

OdeResult integrate(const VelocityFn& v, const Tensor& x0, const OdeOptions& o) {
  FX_CHECK(x0.dtype() == DType::f32, "ODE solver: state must be f32, got {}",
           dtype_name(x0.dtype()));
  OdeResult r;
  r.x = x0;
  if (o.method == Method::rk45)
    dopri5(v, r, o);
  else
    fixed_step(v, r, o);
  return r;
}

OdeResult integrate_in_chunks(const std::function<VelocityFn(int64_t rows)>& velocity_for,
                              const Tensor& x0, const OdeOptions& o, int64_t chunk) {
  FX_CHECK(x0.rank() == 2 && x0.dtype() == DType::f32 && chunk > 0,
           "integrate_in_chunks: x0 must be f32 [N, D] and chunk positive, got {} and {}",
           shape_str(x0.shape()), chunk);
  const int64_t n = x0.dim(0), d = x0.dim(1);
  OdeResult total;
  total.x = Tensor({n, d}, DType::f32);
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t e = std::min(n, b + chunk);
    Tensor part({e - b, d}, DType::f32);
    std::memcpy(part.raw(), x0.data<float>() + b * d, part.nbytes());
    OdeResult r = integrate(velocity_for(e - b), part, o);
    std::memcpy(total.x.data<float>() + b * d, r.x.raw(), r.x.nbytes());
    total.nfe = std::max(total.nfe, r.nfe);
    total.accepted += r.accepted;
    total.rejected += r.rejected;
    if (b == 0) {
      total.trajectory = std::move(r.trajectory);
      total.times = std::move(r.times);
    }
  }
  return total;
}

}  // namespace fx::solvers
