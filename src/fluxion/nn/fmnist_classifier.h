// The small CNN whose penultimate-layer features define FD-FMNIST and the k-NN
// precision/recall of generated Fashion-MNIST images (the Inception network behind FID
// cannot be downloaded here). Trained once with a fixed seed (`fluxion train-classifier`);
// its weights ship in assets/fmnist_classifier.safetensors so every machine and version
// measures in the same feature space.
//   conv 3×3 1→32, ReLU, avg-pool 2 → conv 3×3 32→64, ReLU, avg-pool 2 → flatten 3136
//   → linear 64, ReLU (the features) → linear 10 (logits)
#pragma once
#include "fluxion/nn/conv.h"
#include "fluxion/nn/layers.h"

namespace fx::nn {

class FmnistClassifier : public Module {
 public:
  static constexpr int64_t kFeatures = 64, kClasses = 10;
  explicit FmnistClassifier(InitRng& rng);
  Var features(Var x) const;    // x [N, 1, 28, 28] in [0, 1] -> [N, 64]
  Var operator()(Var x) const;  // logits [N, 10]

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<Linear> fc1_, fc2_;
};

}  // namespace fx::nn
