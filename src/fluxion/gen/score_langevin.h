// Langevin dynamics with a *learned* score (Song & Ermon, "Generative Modeling by Estimating
// Gradients of the Data Distribution", NeurIPS 2019). A noise-conditional network
// s(x, σ) = net([x, log σ]) / σ is trained by denoising score matching on data blurred with
// N(0, σ²), σ log-uniform in [σ_min, σ_max]:
//   loss = E ‖σ·s(x + σε, σ) + ε‖² = E ‖net(x + σε, log σ) + ε‖²
// (the σ²-weighted DSM objective, whose optimum is s = ∇log(p ∗ N(0, σ²))). Sampling runs
// unadjusted Langevin (gen/langevin.h) with s(·, σ) either at one σ or annealed: L levels from
// σ_max down to σ_min (geometric), T steps each with dt_i = ε·σ_i²/σ_min², starting from
// N(0, σ_max²), then optionally one denoising step x + σ_min²·s(x, σ_min) (Tweedie).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>

#include "fluxion/gen/particles.h"
#include "fluxion/gen/rectified_flow.h"

namespace fx::gen {

struct NoiseLevels {
  double sigma_min = 0.05, sigma_max = 5.0;
  void validate() const;  // positive, finite, min < max; errors name the value
};

// The DSM loss of a batch x [B, D]; σ and ε are drawn in the graph from `key`. The network is
// a VelocityMLP whose "time" input is log σ.
Var dsm_loss(const VelocityMLP& net, Var x, Var key, const NoiseLevels& levels);

// s(x, σ): the score of the data blurred with N(0, σ²).
using NoisyScoreFn = std::function<Tensor(const Tensor& x, double sigma)>;

// s(x, σ) of the current weights, on batches of a fixed size (traced once).
class ScoreEvaluator {
 public:
  ScoreEvaluator(VelocityMLP& net, int64_t batch = 2048);
  Tensor operator()(const Tensor& x, double sigma);  // any N; f32 [N, D]
  NoisyScoreFn fn() {
    return [this](const Tensor& x, double sigma) { return (*this)(x, sigma); };
  }

 private:
  VelocityEvaluator eval_;
  int64_t batch_, dim_;
};

struct AnnealedLangevinOptions {
  NoiseLevels levels;
  int64_t num_levels = 10, steps_per_level = 100;
  double eps = 1e-4;  // dt at σ_min; dt_i = eps·σ_i²/σ_min²
  bool denoise = true;
  uint64_t seed = 0;
  void validate() const;
};

// n particles from N(0, σ_max²) annealed to the data; fails naming the step on divergence.
Tensor annealed_langevin(const NoisyScoreFn& score, int64_t n, int64_t dim,
                         const AnnealedLangevinOptions& o);

}  // namespace fx::gen
