// DDPM (Ho, Jain & Abbeel 2020, arXiv 2006.11239) and DDIM (Song, Meng & Ermon 2021):
//   q(x_t | x_0) = N(sqrt(ā_t) x_0, (1 − ā_t) I),  ā_t = Π_{s<=t} (1 − β_s),  t = 0..T−1.
// The U-Net predicts ε (L_simple = ‖ε − ε_θ(x_t, t)‖²) or v = sqrt(ā) ε − sqrt(1−ā) x_0
// (Salimans & Ho 2022). Ancestral sampling uses σ_t² = β_t ("fixedlarge") or
// β̃_t = β_t (1−ā_{t−1})/(1−ā_t) ("fixedsmall"); the predicted x_0 is clipped to [−1, 1]
// as in diffusion_utils_2.py; no noise is added at the last step. DDIM walks a
// subsequence of the T steps with η ∈ [0, 1] (η = 0: deterministic).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/amp/precision_policy.h"
#include "fluxion/exec/interpreter.h"
#include "fluxion/nn/unet.h"

namespace fx::gen {

struct DdpmSchedule {
  std::string name;
  std::vector<double> betas, abar;  // length T
  int64_t T() const { return (int64_t)betas.size(); }
  // ā at a real t in [0, T−1]: log((1−ā)/ā) interpolated linearly between integer steps
  // (the continuous-time view the probability-flow ODE needs).
  double abar_at(double t) const;
};

// "linear": β from beta_start to beta_end (the paper: 1e-4..0.02, T = 1000).
// "cosine": ā_t = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008, β clipped
// to 0.999 (Nichol & Dhariwal 2021).
DdpmSchedule make_schedule(const std::string& name, int64_t T = 1000, double beta_start = 1e-4,
                           double beta_end = 0.02);

enum class Prediction { eps, v };
Prediction prediction_from_name(const std::string& name);  // "eps" or "v"

// Mean-squared error of the model's prediction on x_t for t ~ U{0..T−1} and ε ~ N(0, I)
// drawn in the graph from `key` (a third stream of it feeds the U-Net's dropout);
// x0 [B, C, H, W] in [−1, 1].
Var ddpm_loss(const nn::UNet& model, const DdpmSchedule& s, Var x0, Var key, Prediction pred);
// The same for any network (xt, t, dropout key) -> prediction and x0 [B, ...] of any rank
// (points [B, D] with an MLP in the ddpm method).
using NoiseModel = std::function<Var(Var xt, Var t, Var key)>;
Var ddpm_loss(const NoiseModel& model, const DdpmSchedule& s, Var x0, Var key, Prediction pred);

enum class Variance { beta, beta_tilde };
Variance variance_from_name(const std::string& name);  // "beta" (fixedlarge) / "beta-tilde"

struct SamplerOptions {
  std::string method = "ddim";  // "ancestral", "ddim" or "ode" (probability-flow ODE)
  int64_t steps = 50;           // DDIM steps, or fixed-step ODE steps (ancestral uses all T)
  double eta = 0.0;             // DDIM
  double clip = 1.0;            // predicted x0 clipped to [-clip, clip] (0: not, for points)
  Variance variance = Variance::beta;
  uint64_t seed = 0;
  int64_t batch = 64;               // images per network call
  std::string ode_solver = "rk45";  // "ode": euler, heun, rk4 or rk45 (solvers/ode.h)
  double rtol = 1e-3, atol = 1e-3;  // rk45
  amp::PrecisionPolicy precision;   // the network's products (fp32, or bf16/fp16 per policy)
  bool compile = false;             // run the network compiled (bit-identical, fused kernels)
  // Truncation (a sampling bias): the starting noise x_T is drawn from N(0, noise_scale² I);
  // the noise of later ancestral/DDIM steps is not scaled. 1: the model as trained.
  double noise_scale = 1.0;
};

// x *= scale in place (the truncated starting noise); throws unless scale is positive and finite.
void scale_noise(Tensor& x, double scale);

struct SampleStats {
  int64_t network_calls = 0;  // per batch of images, summed over batches
};

// Network output (ε or v) for a batch x at timestep t (integer except on the ODE path).
using Predictor = std::function<Tensor(const Tensor& x, double t)>;
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

// Draws n images of shape [n, batch_shape[1:]] in chunks of batch_shape[0]; the sampler
// itself, independent of the network (tests drive it with closed-form predictors).
Tensor ddpm_sample(const Predictor& f, const Shape& batch_shape, const DdpmSchedule& s,
                   Prediction pred, int64_t n, const SamplerOptions& o,
                   const ProgressFn& progress = nullptr, SampleStats* stats = nullptr);

// The probability-flow ODE (Song et al. 2021) of the same model, in DDIM's variables
// x̄ = x/√ā and σ = √((1−ā)/ā), where it reads dx̄/dσ = ε_θ(x̄/√(1+σ²), t(σ)); solved in
// log σ from t = T−1 down to t = 0 by solvers/ode.h, then one last DDIM step to ā = 1.
// Deterministic given the seed's starting noise. `progress` counts batches.
Tensor ddpm_sample_ode(const Predictor& f, const Shape& batch_shape, const DdpmSchedule& s,
                       Prediction pred, int64_t n, const SamplerOptions& o,
                       const ProgressFn& progress = nullptr, SampleStats* stats = nullptr);

// Draws n images [n, C, S, S] in [−1, 1] with the given weights (e.g. the EMA weights).
// `progress` (optional) is told the number of network calls done out of the total.
// o.method picks ddpm_sample or ddpm_sample_ode.
Tensor ddpm_sample(nn::UNet& model, const std::map<std::string, Tensor>& weights,
                   const DdpmSchedule& s, Prediction pred, int64_t n, const SamplerOptions& o,
                   const ProgressFn& progress = nullptr, SampleStats* stats = nullptr);

}  // namespace fx::gen
