#include "fluxion/gen/score_langevin.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/gen/langevin.h"
#include "fluxion/optim/trainer.h"

namespace fx::gen {

void NoiseLevels::validate() const {
  FX_CHECK(std::isfinite(sigma_min) && sigma_min > 0, "--sigma-min must be positive, got {}",
           sigma_min);
  FX_CHECK(std::isfinite(sigma_max) && sigma_max > sigma_min,
           "--sigma-max must be finite and above --sigma-min ({}), got {}", sigma_min, sigma_max);
}

Var dsm_loss(const VelocityMLP& net, Var x, Var key, const NoiseLevels& levels) {
  int64_t b = x.dim(0), d = x.dim(1);
  double lo = std::log(levels.sigma_min), hi = std::log(levels.sigma_max);
  Var log_sigma = random_uniform(optim::fold_in(key, 0), {b, 1}) * (hi - lo) + lo;
  Var eps = random_normal(optim::fold_in(key, 1), {b, d});
  Var noisy = x + exp(log_sigma) * eps;
  return mse_loss(net(noisy, log_sigma), -eps);
}

ScoreEvaluator::ScoreEvaluator(VelocityMLP& net, int64_t batch)
    : eval_(net, batch), batch_(batch), dim_(net.config().dim) {}

Tensor ScoreEvaluator::operator()(const Tensor& x, double sigma) {
  FX_CHECK(x.rank() == 2 && x.dim(1) == dim_ && x.dtype() == DType::f32,
           "score network: points must be f32 [N, {}], got {}{}", dim_, dtype_name(x.dtype()),
           shape_str(x.shape()));
  int64_t n = x.dim(0);
  Tensor out({n, dim_}, DType::f32);
  Tensor chunk({batch_, dim_}, DType::f32);
  const float inv = (float)(1.0 / sigma);
  for (int64_t r = 0; r < n; r += batch_) {
    int64_t rows = std::min(batch_, n - r);
    std::memset(chunk.raw(), 0, chunk.nbytes());
    std::memcpy(chunk.raw(), x.data<float>() + r * dim_, rows * dim_ * sizeof(float));
    Tensor v = eval_(chunk, std::log(sigma));
    const float* src = v.data<float>();
    float* dst = out.data<float>() + r * dim_;
    for (int64_t i = 0; i < rows * dim_; ++i) dst[i] = src[i] * inv;
  }
  return out;
}

void AnnealedLangevinOptions::validate() const {
  levels.validate();
  FX_CHECK(num_levels >= 1, "--levels must be at least 1, got {}", num_levels);
  FX_CHECK(steps_per_level >= 1, "--steps-per-level must be at least 1, got {}", steps_per_level);
  FX_CHECK(std::isfinite(eps) && eps > 0, "--eps must be positive, got {}", eps);
}

Tensor annealed_langevin(const NoisyScoreFn& score, int64_t n, int64_t dim,
                         const AnnealedLangevinOptions& o) {
  o.validate();
  check_count(n, "annealed langevin");
  Tensor x({n, dim}, DType::f32);
  philox_normal(o.seed, 0x414e4e45ull, x.data<float>(), x.numel());
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] *= (float)o.levels.sigma_max;
  double smin = o.levels.sigma_min, smax = o.levels.sigma_max;
  int64_t step = 0;
  for (int64_t l = 0; l < o.num_levels; ++l) {
    double sigma = o.num_levels == 1
                       ? smin
                       : smax * std::pow(smin / smax, (double)l / (double)(o.num_levels - 1));
    double dt = o.eps * sigma * sigma / (smin * smin);
    for (int64_t t = 0; t < o.steps_per_level; ++t) {
      langevin_step(
          x, [&](const Tensor& y) { return score(y, sigma); }, dt, o.seed, ++step);
      check_step(x, "annealed langevin", step);
    }
  }
  if (o.denoise) {
    Tensor s = score(x, smin);
    const float* g = s.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] += (float)(smin * smin) * g[i];
  }
  return x;
}

}  // namespace fx::gen
