// Image quality in the shipped Fashion-MNIST classifier's feature space (nn/fmnist_classifier.h):
// FD-FMNIST (Fréchet distance of the 64 penultimate features) and k-NN precision/recall,
// always beside their floor — the same numbers for n training images against n test images,
// i.e. what a perfect generator would score with this many samples.
#pragma once
#include <memory>
#include <string>
#include <utility>

#include "fluxion/exec/interpreter.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/nn/fmnist_classifier.h"

namespace fx::run {

// $FLUXION_CLASSIFIER, else assets/fmnist_classifier.safetensors in the source tree.
std::string default_classifier_path();

// The classifier traced once for a fixed batch; images are fed in chunks.
class FmnistFeatures {
 public:
  explicit FmnistFeatures(const std::string& weights_path = default_classifier_path(),
                          int64_t batch = 250);
  // Weights already in memory; `name` is how errors refer to them.
  FmnistFeatures(const io::SafetensorsFile& weights, const std::string& name, int64_t batch = 250);
  ~FmnistFeatures();
  // images f32 [N, 1, 28, 28] in [0, 1] -> features f32 [N, 64]
  Tensor features(const Tensor& images01);
  // Fraction of images whose arg-max logit equals the label (labels i64 [N]).
  double accuracy(const Tensor& images01, const Tensor& labels);

 private:
  Tensor run_chunks(const Tensor& images01, int which);  // which: 0 features, 1 logits
  int64_t batch_;
  nn::InitRng rng_{0};
  nn::FmnistClassifier model_;
  Graph graph_;
  std::unique_ptr<Interpreter> exec_;
  Feeds feeds_;
};

struct ImageScores {
  int64_t n = 0;  // images on each side
  double fd = 0, precision = 0, recall = 0;
};

// generated and reference features [n, 64] (equal n keeps precision/recall unbiased).
ImageScores score_features(const Tensor& reference, const Tensor& generated);

// The floor for n: the first n training images scored against the first n test images.
ImageScores fmnist_floor(FmnistFeatures& f, int64_t n, const std::string& data_dir = "");
// Generated images [n, 1, 28, 28] in [0, 1] against the first n test images.
ImageScores score_against_test(FmnistFeatures& f, const Tensor& generated01,
                               const std::string& data_dir = "");
// {score_against_test, fmnist_floor for the same n}, reading the test images once.
std::pair<ImageScores, ImageScores> score_with_floor(FmnistFeatures& f, const Tensor& generated01,
                                                     const std::string& data_dir = "");

}  // namespace fx::run
