#include "fluxion/run/classifier_train.h"

#include <chrono>
#include <cstring>
#include <numeric>
#include <random>

#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/nn/fmnist_classifier.h"
#include "fluxion/nn/module_io.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/run/image_metrics.h"
#include "fluxion/util/progress.h"

namespace fx::run {

namespace {
// Fisher–Yates with mt19937_64 (fully specified by the standard, unlike std::shuffle),
// so every machine sees the same order.
std::vector<int64_t> permutation(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng() % uint64_t(i + 1)]);
  return p;
}
}  // namespace

ClassifierTrainResult train_fmnist_classifier(const ClassifierTrainConfig& c,
                                              const std::string& out_path) {
  FX_CHECK(c.epochs >= 1 && c.batch >= 1 && c.lr > 0,
           "train-classifier: epochs {} / batch {} / lr {} must be positive", c.epochs, c.batch,
           c.lr);
  std::string dir = c.data_dir.empty() ? data::default_fashion_mnist_dir() : c.data_dir;
  data::LabeledImages train = data::load_fashion_mnist(dir, true, c.limit);
  const int64_t N = train.images.dim(0), B = std::min(c.batch, N), per = 28 * 28;
  const int64_t per_epoch = N / B, total = per_epoch * c.epochs;
  nn::InitRng init(c.seed);
  nn::FmnistClassifier model(init);
  optim::TrainerOptions opts;
  opts.schedule = {c.lr, c.warmup, total, 0.0};
  opts.seed = c.seed;
  optim::Trainer tr(
      model, optim::adam(),
      [&](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
        return cross_entropy(model(b.at("x")), b.at("y"));
      },
      {{"x", {B, 1, 28, 28}}, {"y", {B}, DType::i64}}, opts);

  std::mt19937_64 rng(c.seed ^ 0xc1a55ULL);
  const float* images = train.images.data<float>();
  const int64_t* labels = train.labels.data<int64_t>();
  util::Progress bar("train classifier", total);
  auto t0 = std::chrono::steady_clock::now();
  int64_t step = 0;
  for (int64_t e = 0; e < c.epochs; ++e) {
    std::vector<int64_t> order = permutation(N, rng);
    for (int64_t k = 0; k < per_epoch; ++k) {
      Tensor x({B, 1, 28, 28}, DType::f32), y({B}, DType::i64);
      for (int64_t i = 0; i < B; ++i) {
        int64_t src = order[k * B + i];
        std::memcpy(x.data<float>() + i * per, images + src * per, per * sizeof(float));
        y.data<int64_t>()[i] = labels[src];
      }
      double loss = tr.step({{"x", x}, {"y", y}});
      bar.update(++step, {{"epoch", double(e + 1)}, {"loss", loss}});
    }
  }
  bar.finish();
  ClassifierTrainResult r;
  r.steps = step;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Evaluated from memory, so the file is written once, with the accuracy in its metadata.
  io::SafetensorsFile trained;
  trained.tensors = nn::parameter_tensors(model);
  FmnistFeatures eval(trained, "the trained classifier");
  data::LabeledImages test = data::load_fashion_mnist(dir, false);
  r.test_accuracy = eval.accuracy(test.images, test.labels);
  io::save_safetensors(out_path, trained.tensors,
                       {{"test_accuracy", fmt::format("{:.4f}", r.test_accuracy)},
                        {"epochs", std::to_string(c.epochs)},
                        {"batch", std::to_string(B)},
                        {"lr", fmt::format("{}", c.lr)},
                        {"seed", std::to_string(c.seed)},
                        {"model", "fluxion FmnistClassifier (nn/fmnist_classifier.h)"}});
  return r;
}

}  // namespace fx::run
