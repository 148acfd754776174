// The closed-form model of the MAD analysis (kexue.fm/archives/9687): fit μ and the unbiased
// covariance Σ (divide by N − 1, so E[Σ_t] = Σ_{t−1} exactly and the λ^t law has no (N−1)/N
// drift on top), sample N(μ, λΣ). Under a fully synthetic loop the sampling covariance shrinks
// like λ^t and, at λ = 1, μ_t random-walks: E‖μ_t − μ_0‖² = (t/n)·tr Σ_0.
#pragma once
#include <vector>

#include "fluxion/loop/loop_model.h"

namespace fx::loop {

class GaussianLoopModel : public LoopModel {
 public:
  void fit(const Tensor& train_points, uint64_t seed, const std::string& gen_dir,
           const std::string& warm_from = "") override;
  void load(const std::string& gen_dir) override;
  Tensor sample(int64_t n, uint64_t seed, double lambda) override;
  // trace_cov = tr(λΣ_t) (the covariance it samples with), mean_shift2 = ‖μ_t − μ_0‖².
  nlohmann::json model_metrics(const metrics::GaussianFit& real, double lambda) const override;

  const metrics::GaussianFit& fit_result() const { return g_; }
  double trace() const;  // tr Σ_t of the fit (without λ)

 private:
  void set(metrics::GaussianFit g);
  metrics::GaussianFit g_;
  std::vector<double> sqrt_cov_;  // Σ^½ (symmetric): samples are μ + √λ Σ^½ z
};

inline constexpr const char* kGaussianFile = "gaussian.json";

}  // namespace fx::loop
