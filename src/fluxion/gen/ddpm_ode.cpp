// The probability-flow ODE of a discrete-time DDPM, sampled with the solvers rectified
// flow uses. In x̄ = x/√ā and σ = √((1−ā)/ā), x = √ā x̄ and ε-prediction give the DDIM ODE
// dx̄/dσ = ε (Song, Meng & Ermon 2021, eq. 14); σ spans 0.01..157 for the linear schedule,
// so it is integrated in s = log σ, where dx̄/ds = σ ε and steps are evenly spread.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/gen/ddpm.h"
#include "fluxion/solvers/ode.h"

namespace fx::gen {

namespace {
double log_sigma2(double abar) { return std::log((1.0 - abar) / abar); }

// Inverse of σ(t) on the schedule's piecewise-linear log σ² (increasing in t).
double t_of_log_sigma2(const DdpmSchedule& s, double l) {
  int64_t T = s.T();
  if (l <= log_sigma2(s.abar[0])) return 0.0;
  if (l >= log_sigma2(s.abar[T - 1])) return double(T - 1);
  int64_t lo = 0, hi = T - 1;  // log_sigma2(abar[lo]) < l <= log_sigma2(abar[hi])
  while (hi - lo > 1) {
    int64_t mid = (lo + hi) / 2;
    (log_sigma2(s.abar[mid]) < l ? lo : hi) = mid;
  }
  double a = log_sigma2(s.abar[lo]), b = log_sigma2(s.abar[hi]);
  return double(lo) + (l - a) / (b - a);
}

// ε from the network output at (x, ā): v = √ā ε − √(1−ā) x0 gives ε = √(1−ā) x + √ā v.
void to_eps(float* out, const float* x, int64_t n, double abar, Prediction pred) {
  if (pred == Prediction::eps) return;
  double sa = std::sqrt(abar), sb = std::sqrt(1.0 - abar);
  for (int64_t i = 0; i < n; ++i) out[i] = float(sb * x[i] + sa * out[i]);
}
}  // namespace

double DdpmSchedule::abar_at(double t) const {
  FX_CHECK(t >= 0 && t <= double(T() - 1), "DDPM schedule: t = {} outside [0, {}]", t, T() - 1);
  int64_t lo = std::min<int64_t>((int64_t)std::floor(t), T() - 2);
  double w = t - double(lo);
  double l = (1 - w) * log_sigma2(abar[lo]) + w * log_sigma2(abar[lo + 1]);
  return 1.0 / (1.0 + std::exp(l));
}

Tensor ddpm_sample_ode(const Predictor& net, const Shape& one, const DdpmSchedule& s,
                       Prediction pred, int64_t n, const SamplerOptions& o,
                       const ProgressFn& progress, SampleStats* stats) {
  FX_CHECK(n > 0, "DDPM sampling: number of images {} must be positive", n);
  FX_CHECK(!one.empty() && one[0] > 0, "DDPM sampling: bad batch shape {}", shape_str(one));
  solvers::OdeOptions ode;
  ode.method = solvers::method_from_name(o.ode_solver);
  ode.steps = (int)o.steps;
  ode.rtol = o.rtol;
  ode.atol = o.atol;
  const int64_t T = s.T(), batch = one[0], per = numel(one) / batch;
  // Time runs from the noisiest step down to t = 0, in log σ.
  ode.t0 = 0.5 * log_sigma2(s.abar[T - 1]);
  ode.t1 = 0.5 * log_sigma2(s.abar[0]);
  Shape rs = one;
  rs[0] = n;
  Tensor result(rs, DType::f32);
  const int64_t chunks = (n + batch - 1) / batch;
  int64_t calls = 0;
  auto eps_at = [&](const Tensor& x, double t, double abar) {
    Tensor out = net(x, t);
    FX_CHECK(out.shape() == one && out.dtype() == DType::f32,
             "DDPM sampling: predictor returned {}{} for a batch {}", dtype_name(out.dtype()),
             shape_str(out.shape()), shape_str(one));
    ++calls;
    to_eps(out.data<float>(), x.data<float>(), out.numel(), abar, pred);
    return out;
  };
  for (int64_t c = 0; c < chunks; ++c) {
    // The same starting noise as ancestral/DDIM sampling with this seed.
    Tensor x(one, DType::f32);
    philox_normal(o.seed, (uint64_t)c << 32, x.data<float>(), x.numel());
    scale_noise(x, o.noise_scale);
    Tensor xbar({batch, per}, DType::f32);
    double scale = std::sqrt(1.0 / s.abar[T - 1]);
    for (int64_t i = 0; i < x.numel(); ++i)
      xbar.data<float>()[i] = float(x.data<float>()[i] * scale);
    solvers::VelocityFn v = [&](const Tensor& xb, double log_sigma) {
      double sigma = std::exp(log_sigma), abar = 1.0 / (1.0 + sigma * sigma);
      double t = t_of_log_sigma2(s, 2.0 * log_sigma);
      Tensor xt(one, DType::f32);
      float r = float(std::sqrt(abar));
      for (int64_t i = 0; i < xt.numel(); ++i) xt.data<float>()[i] = xb.data<float>()[i] * r;
      Tensor eps = eps_at(xt, t, abar);
      Tensor d({batch, per}, DType::f32);
      for (int64_t i = 0; i < d.numel(); ++i)
        d.data<float>()[i] = float(sigma * eps.data<float>()[i]);
      return d;
    };
    Tensor end = solvers::integrate(v, xbar, ode).x;
    // Last step from t = 0 to ā = 1 (as DDIM's): x0 = (x − √(1−ā) ε)/√ā, clipped like the
    // other samplers.
    double ab0 = s.abar[0], sa = std::sqrt(ab0), sb = std::sqrt(1.0 - ab0);
    Tensor x0(one, DType::f32);
    for (int64_t i = 0; i < x0.numel(); ++i) x0.data<float>()[i] = end.data<float>()[i] * (float)sa;
    Tensor eps = eps_at(x0, 0.0, ab0);
    float* out = result.data<float>() + c * batch * per;
    int64_t keep = std::min(batch, n - c * batch);
    for (int64_t i = 0; i < keep * per; ++i) {
      double v = (x0.data<float>()[i] - sb * eps.data<float>()[i]) / sa;
      out[i] = float(o.clip > 0 ? std::clamp(v, -o.clip, o.clip) : v);
    }
    if (progress) progress(c + 1, chunks);
  }
  if (stats) stats->network_calls += calls;
  return result;
}

}  // namespace fx::gen
