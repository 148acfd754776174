// What the self-consuming loop asks of a model: fit a training set (from scratch or warm), sample
// with a sampling bias λ, and come back from its generation folder after an interruption. The loop
// is generic over models: the closed-form Gaussian (gaussian_loop_model.h) and any sampling
// method of the registry (method_loop_model.h).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fluxion/core/tensor.h"
#include "fluxion/metrics/frechet.h"

namespace fx::loop {

class LoopModel {
 public:
  virtual ~LoopModel() = default;
  // Trains on train_points [N, D] (f32) deterministically from seed: from scratch, or (warm
  // start) from the model that fit() left in the earlier generation folder warm_from. gen_dir
  // (existing, or "" outside a study) holds the same points as train.npy and receives what
  // load() needs.
  virtual void fit(const Tensor& train_points, uint64_t seed, const std::string& gen_dir,
                   const std::string& warm_from = "") = 0;
  // The model of a finished generation, from what fit() left in gen_dir.
  virtual void load(const std::string& gen_dir) = 0;
  // n points [n, D] f32 with sampling bias lambda ∈ (0, 1] (1: the model as fitted).
  virtual Tensor sample(int64_t n, uint64_t seed, double lambda) = 0;
  // Model-specific metrics of a fitted model sampling with bias lambda, against the real
  // distribution's moments (the Gaussian: the trace of its covariance, its mean's drift).
  virtual nlohmann::json model_metrics(const metrics::GaussianFit& real, double lambda) const {
    return nlohmann::json::object();
  }
};

}  // namespace fx::loop
