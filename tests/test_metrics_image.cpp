// FD-FMNIST's parts: the symmetric eigen-solver, the Fréchet distance and k-NN
// precision/recall (against numpy references in fixtures/image_metrics.json, made by
// make_image_metric_fixtures.py), and the shipped classifier's features.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fashion_mnist_test_util.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/metrics/frechet.h"
#include "fluxion/metrics/knn_precision_recall.h"
#include "fluxion/metrics/symmetric_eigen.h"
#include "fluxion/run/image_metrics.h"
#include "op_test_util.h"

using namespace fx;
using optest::error_of;
using ::testing::HasSubstr;

namespace {

Tensor rows_of(const nlohmann::json& j) {
  int64_t n = (int64_t)j.size(), d = (int64_t)j[0].size();
  std::vector<double> v;
  for (const auto& r : j)
    for (double x : r) v.push_back(x);
  return Tensor::from(v, {n, d}, DType::f64);
}

Tensor normal(int64_t n, int64_t d, uint64_t seed, double shift = 0) {
  std::vector<double> v(n * d);
  philox_normal(seed, 0, v.data(), (int64_t)v.size());
  for (double& x : v) x += shift;
  return Tensor::from(v, {n, d}, DType::f64);
}

}  // namespace

TEST(SymmetricEigen, ReconstructsTheMatrixWithOrthonormalVectors) {
  const int64_t n = 7;
  std::vector<double> r(n * n), a(n * n, 0.0);
  philox_normal(3, 0, r.data(), n * n);
  for (int64_t i = 0; i < n; ++i)  // a = r rᵀ + diag: symmetric positive definite
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t k = 0; k < n; ++k) a[i * n + j] += r[i * n + k] * r[j * n + k];
      if (i == j) a[i * n + j] += 0.5;
    }
  metrics::SymmetricEigen e = metrics::symmetric_eigen(a, n);
  for (int64_t j = 1; j < n; ++j) EXPECT_LE(e.values[j - 1], e.values[j]);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double back = 0, dotv = 0;
      for (int64_t k = 0; k < n; ++k) {
        back += e.vectors[i * n + k] * e.values[k] * e.vectors[j * n + k];
        dotv += e.vectors[k * n + i] * e.vectors[k * n + j];
      }
      EXPECT_NEAR(back, a[i * n + j], 1e-10);
      EXPECT_NEAR(dotv, i == j ? 1.0 : 0.0, 1e-12);
    }
  std::vector<double> s = metrics::symmetric_sqrt(a, n);  // s s = a
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sq = 0;
      for (int64_t k = 0; k < n; ++k) sq += s[i * n + k] * s[k * n + j];
      EXPECT_NEAR(sq, a[i * n + j], 1e-9);
    }
  EXPECT_THAT(error_of([] {
                metrics::symmetric_eigen({1, 2, 3, 4}, 2);
              }),
              HasSubstr("not symmetric"));
}

TEST(FrechetDistance, MatchesNumpyReference) {
  std::ifstream in(std::string(FLUXION_FIXTURE_DIR) + "/image_metrics.json");
  ASSERT_TRUE(in) << "run tests/fixtures/make_image_metric_fixtures.py";
  nlohmann::json j = nlohmann::json::parse(in);
  for (const auto& c : j.at("cases")) {
    Tensor a = rows_of(c.at("a")), b = rows_of(c.at("b"));
    double want = c.at("fd");
    EXPECT_NEAR(metrics::frechet_distance(a, b), want, 1e-9 * std::max(1.0, want));
    EXPECT_NEAR(metrics::frechet_distance(b, a), want, 1e-9 * std::max(1.0, want));
    metrics::PrecisionRecall pr = metrics::knn_precision_recall(a, b, c.at("k"));
    EXPECT_DOUBLE_EQ(pr.precision, c.at("precision").get<double>());
    EXPECT_DOUBLE_EQ(pr.recall, c.at("recall").get<double>());
  }
}

TEST(FrechetDistance, ZeroForTheSameSetAndGrowsWithAShift) {
  Tensor a = normal(300, 4, 1);
  EXPECT_NEAR(metrics::frechet_distance(a, a), 0.0, 1e-9);
  // Same distribution, shifted by 1 in every coordinate: FD ≈ ‖Δμ‖² = 4.
  double fd = metrics::frechet_distance(a, normal(300, 4, 2, 1.0));
  EXPECT_NEAR(fd, 4.0, 0.6);
  EXPECT_THAT(error_of([&] { metrics::frechet_distance(a, normal(10, 3, 1)); }),
              HasSubstr("dimensions differ: 4 vs 3"));
  EXPECT_THAT(error_of([] { metrics::fit_gaussian(Tensor::zeros({1, 3})); }), HasSubstr("[N >= 2"));
  Tensor bad = normal(5, 2, 1);
  bad.data<double>()[3] = NAN;
  EXPECT_THAT(error_of([&] { metrics::fit_gaussian(bad); }), HasSubstr("feature 1 of row 1"));
}

TEST(KnnPrecisionRecall, OneForTheSameSetZeroForFarApartSets) {
  Tensor a = normal(200, 3, 5);
  metrics::PrecisionRecall same = metrics::knn_precision_recall(a, a);
  EXPECT_EQ(same.precision, 1.0);
  EXPECT_EQ(same.recall, 1.0);
  metrics::PrecisionRecall far = metrics::knn_precision_recall(a, normal(200, 3, 6, 100.0));
  EXPECT_EQ(far.precision, 0.0);
  EXPECT_EQ(far.recall, 0.0);
  // A generator that collapses onto a tenth of the data: precise, poor recall.
  Tensor collapsed = normal(200, 3, 7);
  double* c = collapsed.data<double>();
  for (int64_t i = 0; i < 200 * 3; ++i) c[i] = 0.1 * c[i];
  metrics::PrecisionRecall mode = metrics::knn_precision_recall(a, collapsed);
  EXPECT_GT(mode.precision, 0.75);
  EXPECT_LT(mode.recall, 0.3);
  EXPECT_LT(mode.recall, mode.precision / 3);
  EXPECT_THAT(error_of([&] { metrics::knn_precision_recall(a, normal(3, 3, 1)); }),
              HasSubstr("k = 3 needs more than k points"));
}

TEST(FmnistFeatures, ShippedClassifierIsAccurateAndTheFloorIsLow) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  run::FmnistFeatures f;
  data::LabeledImages test =
      data::load_fashion_mnist(data::default_fashion_mnist_dir(), false, 500);
  EXPECT_GE(f.accuracy(test.images, test.labels), 0.88);  // 10,000 images: see the README
  Tensor feats = f.features(test.images);
  EXPECT_EQ(feats.shape(), (Shape{500, 64}));
  // Train vs test is the floor; noise images are far above it and off the manifold.
  run::ImageScores floor = run::fmnist_floor(f, 200);
  Tensor noise({200, 1, 28, 28}, DType::f32);
  philox_uniform(9, 0, noise.data<float>(), noise.numel());
  run::ImageScores bad = run::score_against_test(f, noise);
  EXPECT_EQ(floor.n, 200);
  EXPECT_GT(bad.fd, 10 * floor.fd);
  EXPECT_GT(floor.precision, 0.6);
  EXPECT_GT(floor.recall, 0.6);
  // Noise collapses to a few feature values, so it covers almost none of the test images.
  // (Its precision is not a reliable signal: one outlier test image with a wide k-NN ball can
  // contain the whole collapsed cloud, a known weakness of k-NN precision.)
  EXPECT_LT(bad.recall, 0.05) << "precision " << bad.precision;
}

TEST(FmnistFeatures, BadClassifierFileNamesTheFile) {
  std::string p = (std::filesystem::temp_directory_path() /
                   ("fx_bad_classifier_" + std::to_string(::getpid()) + ".safetensors"))
                      .string();
  { std::ofstream(p) << "not a safetensors file"; }
  EXPECT_THAT(error_of([&] { run::FmnistFeatures f(p); }), HasSubstr(p));
  std::filesystem::remove(p);
  EXPECT_THAT(error_of([] { run::FmnistFeatures f("/nonexistent/clf.safetensors"); }),
              HasSubstr("/nonexistent/clf.safetensors"));
}
