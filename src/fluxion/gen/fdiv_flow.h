// The particle Wasserstein gradient flow of an f-divergence D_f(p‖q) = ∫ q f(p/q):
//   dx/dt = −∇(f(r) − r f'(r)),  r = p/q_t,
// with q_t the law of the particles. Since ∇(f(r) − r f'(r)) = −r² f''(r) ∇log r, the velocity
// is w(d)·∇d with d = log r, and d is the logit of a logistic classifier between target
// samples and the particles (ratio_classifier.h), retrained (warm-started) every step:
//   kl          f = r log r   (KL(p‖q), mode covering)   w(d) = e^d
//   reverse-kl  f = −log r    (KL(q‖p), Langevin's flow)  w(d) = 1
//   js          f = r log r − (1 + r) log((1 + r)/2)       w(d) = σ(d)
// (names after D_f(p‖q), as in METHODS.md §4). The estimated d is unreliable far from both
// clouds, so e^d is capped at e^{max_log_ratio}. With normalize_time each step divides dt by
// the particles' mean weight: a global rescaling of the velocity is only a change of time,
// so q_t follows the same path, but the KL flow no longer stalls while e^d ≪ 1 everywhere
// (a cloud that starts far from the target). max_move caps the largest displacement of a
// step (again by a global rescaling of that step): where the mean weight is tiny, dt/mean(w)
// would otherwise throw the few particles with e^d ≫ mean(w) far past the target. The KL
// flow's e^d favours exactly the particles beyond the target where the classifier's logit
// extrapolates upward: a few percent overshoot (|x| ≈ 10–80) with any of these settings;
// max_log_ratio = 1 keeps it to the fewest (docs/gradient_flows.md).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "fluxion/gen/particles.h"
#include "fluxion/gen/ratio_classifier.h"

namespace fx::gen {

enum class FDivergence { kl, reverse_kl, js };
FDivergence fdivergence_from_name(const std::string& name);  // throws listing the names
std::string fdivergence_name(FDivergence f);
// The velocity weight w(d) above.
double fdiv_weight(FDivergence f, double d, double max_log_ratio = 5.0);

// n samples of the target for a seed.
using TargetSampler = std::function<Tensor(int64_t n, uint64_t seed)>;

struct FDivFlowOptions {
  FDivergence f = FDivergence::kl;
  double dt = 0.1;
  int64_t classifier_steps = 5;  // Adam steps per flow step (warm-started)
  // Extra Adam steps before flow step 1. Off by default: with a trained logit at step 1,
  // mean(e^d) over a cloud far from the target is tiny and normalize_time flings the edge
  // particles out (8 Gaussians from N(0, I): some reach |x| ≈ 800).
  int64_t classifier_warmup = 0;
  double max_log_ratio = 5.0;
  bool normalize_time = true;
  double max_move = 0.0;  // 0: no cap
  uint64_t seed = 0;
};

class FDivFlow {
 public:
  FDivFlow(TargetSampler target, const FDivFlowOptions& o, const RatioClassifierConfig& c);
  // Flow step `step` (1-based) in place: fits the classifier on fresh target samples and a
  // random subset of the particles, then moves every particle by dt·w(d)∇d. Returns the last
  // classifier loss; fails naming the step if the particles diverge.
  double step(Tensor& x, int64_t step);
  RatioClassifier& classifier() { return clf_; }

 private:
  TargetSampler target_;
  FDivFlowOptions o_;
  RatioClassifier clf_;
};

}  // namespace fx::gen
