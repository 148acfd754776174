#include "fluxion/run/image_metrics.h"

#include <cstdlib>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/metrics/frechet.h"
#include "fluxion/metrics/knn_precision_recall.h"
#include "fluxion/nn/module_io.h"

#ifndef FLUXION_SOURCE_DIR
#define FLUXION_SOURCE_DIR "."
#endif

namespace fx::run {

std::string default_classifier_path() {
  if (const char* env = std::getenv("FLUXION_CLASSIFIER"); env && *env) return env;
  return std::string(FLUXION_SOURCE_DIR) + "/assets/fmnist_classifier.safetensors";
}

FmnistFeatures::FmnistFeatures(const std::string& path, int64_t batch)
    : FmnistFeatures(io::load_safetensors(path), path, batch) {}

FmnistFeatures::FmnistFeatures(const io::SafetensorsFile& weights, const std::string& name,
                               int64_t batch)
    : batch_(batch), model_(rng_) {
  FX_CHECK(batch >= 1, "FmnistFeatures: batch {} must be positive", batch);
  nn::load_parameters(model_, weights, name);
  model_.bind(graph_);
  Var x = graph_.input("x", {batch, 1, 28, 28});
  Var f = model_.features(x);
  exec_ = std::make_unique<Interpreter>(graph_, std::vector<Var>{f, model_(x)});
  for (auto& [name, p] : model_.named_parameters()) feeds_[name] = p->value;
}

FmnistFeatures::~FmnistFeatures() = default;

Tensor FmnistFeatures::run_chunks(const Tensor& images, int which) {
  FX_CHECK(images.rank() == 4 && images.dim(1) == 1 && images.dim(2) == 28 && images.dim(3) == 28,
           "FD-FMNIST: images must be [N, 1, 28, 28], got {}", shape_str(images.shape()));
  Tensor x01 = images.to(DType::f32);
  const int64_t n = x01.dim(0), per = 28 * 28;
  const int64_t width =
      which == 0 ? nn::FmnistClassifier::kFeatures : nn::FmnistClassifier::kClasses;
  Tensor out({n, width}, DType::f32);
  for (int64_t start = 0; start < n; start += batch_) {
    int64_t keep = std::min(batch_, n - start);
    Tensor chunk = Tensor::zeros({batch_, 1, 28, 28});  // a short last chunk is zero-padded
    std::memcpy(chunk.data<float>(), x01.data<float>() + start * per, keep * per * sizeof(float));
    feeds_["x"] = chunk;
    Tensor r = exec_->run(feeds_)[which];
    std::memcpy(out.data<float>() + start * width, r.data<float>(), keep * width * sizeof(float));
  }
  return out;
}

Tensor FmnistFeatures::features(const Tensor& images01) { return run_chunks(images01, 0); }

double FmnistFeatures::accuracy(const Tensor& images01, const Tensor& labels) {
  FX_CHECK(labels.rank() == 1 && labels.dim(0) == images01.dim(0),
           "accuracy: {} labels for {} images", labels.rank() == 1 ? labels.dim(0) : -1,
           images01.dim(0));
  Tensor logits = run_chunks(images01, 1);
  std::vector<double> y = labels.to_vector();
  const float* l = logits.data<float>();
  const int64_t C = nn::FmnistClassifier::kClasses;
  int64_t right = 0;
  for (int64_t i = 0; i < logits.dim(0); ++i) {
    int64_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (l[i * C + c] > l[i * C + best]) best = c;
    right += best == (int64_t)y[i];
  }
  return double(right) / double(logits.dim(0));
}

ImageScores score_features(const Tensor& reference, const Tensor& generated) {
  ImageScores s;
  s.n = generated.dim(0);
  s.fd = metrics::frechet_distance(reference, generated);
  metrics::PrecisionRecall pr = metrics::knn_precision_recall(reference, generated, 3);
  s.precision = pr.precision;
  s.recall = pr.recall;
  return s;
}

namespace {
// Features of the first n images of the train or test split.
Tensor split_features(FmnistFeatures& f, bool train, int64_t n, const std::string& data_dir) {
  FX_CHECK(n >= 4 && n <= 10000, "FD-FMNIST: {} images; need 4..10,000 (the test split's size)", n);
  std::string dir = data_dir.empty() ? data::default_fashion_mnist_dir() : data_dir;
  return f.features(data::load_fashion_mnist(dir, train, n).images);
}
}  // namespace

ImageScores fmnist_floor(FmnistFeatures& f, int64_t n, const std::string& data_dir) {
  return score_features(split_features(f, false, n, data_dir),
                        split_features(f, true, n, data_dir));
}

ImageScores score_against_test(FmnistFeatures& f, const Tensor& generated01,
                               const std::string& data_dir) {
  return score_features(split_features(f, false, generated01.dim(0), data_dir),
                        f.features(generated01));
}

std::pair<ImageScores, ImageScores> score_with_floor(FmnistFeatures& f, const Tensor& generated01,
                                                     const std::string& data_dir) {
  const int64_t n = generated01.dim(0);
  Tensor test = split_features(f, false, n, data_dir);
  return {score_features(test, f.features(generated01)),
          score_features(test, split_features(f, true, n, data_dir))};
}

}  // namespace fx::run
