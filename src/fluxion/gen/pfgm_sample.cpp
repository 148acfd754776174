#include "fluxion/gen/pfgm_sample.h"

#include <cmath>
#include <cstring>

#include "fluxion/core/error.h"

namespace fx::gen {

Tensor pfgm_drift(const Tensor& net, double z, const PfgmConfig& c) {
  FX_CHECK(net.rank() == 2 && net.dim(1) >= 2 && net.dtype() == DType::f32,
           "pfgm drift: network output must be f32 [B, N+1], got {}", shape_str(net.shape()));
  const int64_t B = net.dim(0), D = net.dim(1), N = D - 1;
  const double sqrt_n = std::sqrt(double(N));
  Tensor out({B, N}, DType::f32);
  const float* vp = net.data<float>();
  float* op = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    const float* v = vp + b * D;
    double vz = v[N];
    double n2 = 0;
    for (int64_t i = 0; i < N; ++i) n2 += double(v[i]) * v[i];
    // ‖v_x‖/sqrt(N) = ‖E_x‖/(‖E‖+γ) < 1 for the true field. Far from the data it nears 1
    // and ‖E_x‖ = γ·n/(1−n) magnifies the network's error without bound (in 2-D the
    // prior's long tail puts points there at small z); there the network's own v_z is kept.
    // The reference has no such guard (its high-dimensional data never get there).
    double norm1 = std::sqrt(n2) / sqrt_n;
    if (z < c.z_exp && norm1 < kZExpMaxNorm) {
      double ex = c.gamma * norm1 / (1 - norm1);
      double e = std::sqrt(ex * ex + z * z);
      vz = -sqrt_n * z / (e + c.gamma);
    }
    double k = z / (vz + 1e-5);
    for (int64_t i = 0; i < N; ++i) op[b * N + i] = float(k * v[i]);
  }
  return out;
}

PoissonEvaluator::PoissonEvaluator(PoissonNet& model, int64_t batch,
                                   const runtime::ExecutorOptions& run)
    : model_(model), batch_(batch) {
  model_.bind(graph_);
  Var x = graph_.input("x", {batch, model.dim()});
  Var z = graph_.input("z", {batch, 1});
  exec_ = runtime::make_executor(graph_, {model_(x, z)}, run);
}

Tensor PoissonEvaluator::operator()(const Tensor& x, double z) {
  Feeds f;
  for (auto& [name, p] : model_.named_parameters()) f[name] = p->value;
  f["x"] = x;
  f["z"] = Tensor::full({batch_, 1}, z);
  return exec_.run(f)[0];  // f32: the precision pass keeps outputs in their traced dtype
}

namespace {
bool all_finite(const Tensor& t) {
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}
}  // namespace

solvers::VelocityFn pfgm_velocity(FieldFn field, const PfgmConfig& c, double drift_scale) {
  auto count = std::make_shared<int64_t>(0);
  return [field = std::move(field), c, count, drift_scale](const Tensor& x, double t) {
    double z = std::exp(t);
    int64_t k = ++*count;
    FX_CHECK(all_finite(x),
             "pfgm sampler: the state became non-finite at evaluation {} (z = {:.6g}); the ODE "
             "diverged (try --solver euler or more --ode-steps)",
             k, z);
    Tensor d = pfgm_drift(field(x, z), z, c);
    FX_CHECK(all_finite(d),
             "pfgm sampler: non-finite drift at evaluation {} (z = {:.6g}); the ODE diverged", k,
             z);
    if (drift_scale != 1.0)
      for (int64_t i = 0; i < d.numel(); ++i) d.data<float>()[i] *= float(drift_scale);
    return d;
  };
}

solvers::OdeOptions pfgm_ode_options(const PfgmConfig& c, solvers::OdeOptions o) {
  o.t0 = std::log(c.z_max);
  o.t1 = std::log(c.eps);
  return o;
}

double pfgm_z_step_scale(const PfgmConfig& c, int64_t steps) {
  const double h = (std::log(c.eps) - std::log(c.z_max)) / double(steps);
  return std::expm1(h) / h;
}

solvers::OdeResult pfgm_sample(PoissonNet& model, const Tensor& x, const PfgmConfig& c,
                               const solvers::OdeOptions& base, int64_t chunk, bool steps_in_z,
                               const runtime::ExecutorOptions& run) {
  const int64_t N = model.dim();
  FX_CHECK(x.rank() == 2 && x.dim(1) == N && x.dtype() == DType::f32,
           "pfgm sample: points {} do not match the model's dimension {}", shape_str(x.shape()), N);
  c.validate();
  double scale = 1.0;
  if (steps_in_z) {
    FX_CHECK(base.method == solvers::Method::euler && base.steps > 0,
             "pfgm sample: steps in z need the Euler solver with a step count");
    scale = pfgm_z_step_scale(c, base.steps);
  }
  return solvers::integrate_in_chunks(
      [&](int64_t rows) -> solvers::VelocityFn {
        auto ev = std::make_shared<PoissonEvaluator>(model, rows, run);
        FieldFn f = [ev](const Tensor& xx, double z) { return (*ev)(xx, z); };
        return pfgm_velocity(f, c, scale);
      },
      x, pfgm_ode_options(c, base), chunk);
}

}  // namespace fx::gen
