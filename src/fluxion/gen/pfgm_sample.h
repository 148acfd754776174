// PFGM sampling (sampling.py, the poisson branch of get_ode_sampler): the backward ODE in
// t' = log z, dx/dt' = z·v_x/v_z, from z_max down to eps, with the reference's +1e-5 on v_z and,
// below z_exp, v_z replaced by its estimate from ‖v_x‖ (paper Appendix B.2.3): the target's
// z-component is −sqrt(N)·z/(‖E‖ + γ) exactly, and ‖E_x‖ follows from ‖v_x‖ = sqrt(N)‖E_x‖/(‖E‖+γ).
#pragma once
#include <cstdint>

#include "fluxion/gen/pfgm.h"
#include "fluxion/runtime/executor.h"
#include "fluxion/solvers/ode.h"

namespace fx::gen {

// Above this ‖v_x‖/sqrt(N) the z_exp substitution is skipped (see pfgm_drift).
inline constexpr double kZExpMaxNorm = 0.9;

// dx/dt' for a batch from the network's output net [B, N+1] at height z; f32 [B, N].
Tensor pfgm_drift(const Tensor& net, double z, const PfgmConfig& c);

// Runs the network at one height z for a fixed batch size (traced once; interpreted, or
// compiled and/or in mixed precision as `run` says, as sample/eval's --compile/--precision).
class PoissonEvaluator {
 public:
  PoissonEvaluator(PoissonNet& model, int64_t batch, const runtime::ExecutorOptions& run = {});
  Tensor operator()(const Tensor& x, double z);  // [B, N] -> [B, N+1]

 private:
  PoissonNet& model_;
  int64_t batch_;
  Graph graph_;
  runtime::Executor exec_;
};

// The drift as a solver velocity in t' = log z, checking every state and drift: a non-finite
// value stops with the evaluation number and z. `field` is the network (or a closed form).
// drift_scale multiplies the drift (see pfgm_sample's steps_in_z).
using FieldFn = std::function<Tensor(const Tensor& x, double z)>;
solvers::VelocityFn pfgm_velocity(FieldFn field, const PfgmConfig& c, double drift_scale = 1.0);

// ODE options for PFGM: t0 = log z_max, t1 = log eps, with the method, steps and tolerances
// of `base`.
solvers::OdeOptions pfgm_ode_options(const PfgmConfig& c, solvers::OdeOptions base);

// Integrates prior points x [n, N] (pfgm_prior) down to z = eps in chunks; NFE per sample.
// steps_in_z (Euler only): each step of h in log z moves x by (e^h − 1)·drift instead of
// h·drift, i.e. Euler in z on the geometric grid z_k, as the reference's `euler_maruyama`
// predictor does with its t_list ("integration over z"); exact where x ∝ z (far from the data).
// The drift scale (e^h − 1)/h that turns Euler in log z into Euler in z, h the log-z step.
double pfgm_z_step_scale(const PfgmConfig& c, int64_t steps);

solvers::OdeResult pfgm_sample(PoissonNet& model, const Tensor& x, const PfgmConfig& c,
                               const solvers::OdeOptions& base, int64_t chunk = 4096,
                               bool steps_in_z = false, const runtime::ExecutorOptions& run = {});

}  // namespace fx::gen
