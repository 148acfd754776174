// Fashion-MNIST as the real distribution of a self-consuming loop: each real draw is a random
// subset of the training split (the first `count` rows of a permutation fixed by the draw's
// seed, so a smaller count is a prefix, as synthetic augmentation needs); the held-out set is
// the test split, scored in the shipped classifier's feature space (FD-FMNIST, k-NN
// precision/recall), as DDPM's own eval does (run/image_metrics.h).
#pragma once
#include <cstdint>
#include <string>

#include "fluxion/core/tensor.h"

namespace fx::loop {

inline constexpr const char* kFashionMnist = "fashion-mnist";

// The loop's image data sets (only Fashion-MNIST).
bool is_image_data(const std::string& data);

class FmnistTrainSplit {
 public:
  // dir "": $FLUXION_FASHION_MNIST_DIR or the Debian package's folder.
  explicit FmnistTrainSplit(const std::string& dir = "");
  // count images f32 [count, 1, 28, 28] in [0, 1], without repeats, from seed.
  Tensor draw(uint64_t seed, int64_t count) const;
  int64_t size() const { return images_.dim(0); }

 private:
  Tensor images_;
};

// Images in [-1, 1] (what a method samples) to [0, 1] (what the loop trains on and scores),
// clamped.
Tensor images_to_unit_range(const Tensor& images);

}  // namespace fx::loop
