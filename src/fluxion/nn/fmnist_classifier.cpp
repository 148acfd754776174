#include "fluxion/nn/fmnist_classifier.h"

#include "fluxion/core/error.h"

namespace fx::nn {

FmnistClassifier::FmnistClassifier(InitRng& rng) {
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(1, 32, 3, rng, 1, 1));
  conv2_ = register_module("conv2", std::make_shared<Conv2d>(32, 64, 3, rng, 1, 1));
  fc1_ = register_module("fc1", std::make_shared<Linear>(64 * 7 * 7, kFeatures, rng));
  fc2_ = register_module("fc2", std::make_shared<Linear>(kFeatures, kClasses, rng));
}

Var FmnistClassifier::features(Var x) const {
  FX_CHECK(x.rank() == 4 && x.dim(1) == 1 && x.dim(2) == 28 && x.dim(3) == 28,
           "FmnistClassifier: expects images [N, 1, 28, 28], got {}", shape_str(x.shape()));
  Var h = avg_pool2d(relu((*conv1_)(x * 2.0 - 1.0)), 2);  // centred input
  h = avg_pool2d(relu((*conv2_)(h)), 2);
  return relu((*fc1_)(reshape(h, {x.dim(0), 64 * 7 * 7})));
}

Var FmnistClassifier::operator()(Var x) const { return (*fc2_)(features(x)); }

}  // namespace fx::nn
