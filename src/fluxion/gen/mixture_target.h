// An analytic Gaussian-mixture target p(x) = Σ_k w_k N(x; μ_k, Σ_k) for particle flows: its
// log-density, its score ∇log p (what Langevin and SVGD follow) and exact samples. Read from a
// small JSON file:
//   {"components": [{"weight": 0.5, "mean": [0, 0], "cov": [[1, 0], [0, 1]]},
//                   {"weight": 0.5, "mean": [4, 0], "std": 0.5}]}   // "std": isotropic
// Construction validates everything (errors name the file and the component index): weights
// positive and summing to 1, means of one dimension, covariances symmetric positive definite.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::gen {

// Limits on what a mixture may ask for, checked before anything is allocated: each component
// keeps three D x D matrices (covariance, Cholesky factor, precision) and costs O(D^3) to set up.
inline constexpr int64_t kMaxMixtureDim = 1024;
inline constexpr int64_t kMaxMixtureMatrixEntries = int64_t(1) << 24;  // Σ_k D² (128 MB each)

struct MixtureComponent {
  double weight = 1.0;
  std::vector<double> mean;  // [D]
  std::vector<double> cov;   // [D, D] row-major
};

class GaussianMixture {
 public:
  // `where` names the source in errors (a file path, "8gaussians").
  explicit GaussianMixture(std::vector<MixtureComponent> components,
                           const std::string& where = "mixture");
  static GaussianMixture from_json(const nlohmann::json& j, const std::string& where);
  static GaussianMixture load(const std::string& path);
  // Built-in targets: "8gaussians" and "25gaussians" (the laws of data::sample_toy),
  // "gaussian" (N(0, I) in `dim` dimensions); anything else is read as a JSON file.
  static bool is_builtin(const std::string& name);
  static GaussianMixture by_name(const std::string& name, int64_t dim = 2);

  int64_t dim() const { return dim_; }
  int64_t size() const { return (int64_t)comps_.size(); }
  const MixtureComponent& component(int64_t k) const { return comps_[k]; }

  // x f32/f64 [N, D] -> log p per row.
  std::vector<double> log_density(const Tensor& x) const;
  // ∇log p(x) = Σ_k γ_k(x) Σ_k⁻¹(μ_k − x), γ the posterior responsibilities; f32 [N, D].
  Tensor score(const Tensor& x) const;
  // Exact samples, f32 [N, D], from Philox (a function of seed and n only).
  Tensor sample(int64_t n, uint64_t seed) const;
  // Mahalanobis distance of point x (D values) to component k.
  double mahalanobis(const double* x, int64_t k) const;

 private:
  struct Cache {
    std::vector<double> chol;  // lower Cholesky factor L of Σ
    std::vector<double> prec;  // Σ⁻¹
    double log_norm = 0;       // log w − ½(D log 2π + log det Σ)
  };
  // log(w_k N_k(x)) for every k, and the per-k Σ⁻¹(μ_k − x) when grad != nullptr; diff is
  // scratch of D doubles.
  void component_terms(const double* x, double* logs, double* grad, double* diff) const;

  int64_t dim_ = 0;
  std::vector<MixtureComponent> comps_;
  std::vector<Cache> cache_;
};

}  // namespace fx::gen
