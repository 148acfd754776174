// Trains the FD-FMNIST feature network (nn/fmnist_classifier.h) on the Fashion-MNIST
// training split: Adam, warm-up then cosine decay, shuffled epochs from a fixed seed, so
// `fluxion train-classifier` reproduces the shipped weights' recipe.
#pragma once
#include <cstdint>
#include <string>

namespace fx::run {

struct ClassifierTrainConfig {
  std::string data_dir;  // "" = data::default_fashion_mnist_dir()
  int64_t epochs = 6;
  int64_t batch = 128;
  double lr = 2e-3;
  int64_t warmup = 100;
  uint64_t seed = 0;
  int64_t limit = -1;  // > 0: first `limit` training images (tests)
};

struct ClassifierTrainResult {
  double test_accuracy = 0;
  int64_t steps = 0;
  double seconds = 0;
};

// Writes the weights to out_path (safetensors, metadata: accuracy, epochs, seed) and
// returns the test accuracy on all 10,000 test images.
ClassifierTrainResult train_fmnist_classifier(const ClassifierTrainConfig& cfg,
                                              const std::string& out_path);

}  // namespace fx::run
