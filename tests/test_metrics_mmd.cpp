// Unbiased MMD² with summed RBF kernels: ~0 for equal sets, a closed form for one fixed
// bandwidth, symmetry, order invariance, and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/metrics/mmd.h"

namespace {

using fx::Tensor;
using fx::metrics::mmd_rbf;
using fx::metrics::MmdOptions;

TEST(Mmd, HandComputedFixedBandwidth) {
  // a = {0, 1}, b = {3}... needs >= 2 points: b = {3, 4}. h = 1: k(d) = exp(-d²/2).
  Tensor a = Tensor::from({0, 1}, {2, 1}), b = Tensor::from({3, 4}, {2, 1});
  MmdOptions o;
  o.bandwidths = {1.0};
  auto k = [](double d) { return std::exp(-d * d / 2); };
  double expect = k(1) + k(1) - 2 * (k(3) + k(4) + k(2) + k(3)) / 4;
  EXPECT_NEAR(mmd_rbf(a, b, o), expect, 1e-14);
  o.bandwidths = {1.0, 2.0};
  auto k2 = [](double d) { return std::exp(-d * d / 8); };
  double expect2 = expect + 2 * k2(1) - 2 * (k2(3) + k2(4) + k2(2) + k2(3)) / 4;
  EXPECT_NEAR(mmd_rbf(a, b, o), expect2, 1e-14);
}

TEST(Mmd, SameDistributionNearZeroDifferentClearlyPositive) {
  Tensor a = fx::data::sample_toy("moons", 1500, 1);
  EXPECT_LT(std::fabs(mmd_rbf(a, a)), 6.0 / 1500);  // unbiased: -O(1/N) for identical sets
  Tensor b = fx::data::sample_toy("moons", 1500, 2);
  EXPECT_LT(std::fabs(mmd_rbf(a, b)), 0.01);
  Tensor c = fx::data::sample_toy("8gaussians", 1500, 3);
  EXPECT_GT(mmd_rbf(a, c), 0.1);
}

TEST(Mmd, SymmetricAndOrderInvariant) {
  Tensor a = fx::data::sample_toy("moons", 400, 1), b = fx::data::sample_toy("rings", 300, 2);
  double ab = mmd_rbf(a, b);
  EXPECT_NEAR(ab, mmd_rbf(b, a), 1e-12);
  auto v = a.to_vector();
  std::vector<double> r(v.size());
  for (int64_t i = 0; i < 400; ++i)
    r[2 * i] = v[2 * (399 - i)], r[2 * i + 1] = v[2 * (399 - i) + 1];
  EXPECT_NEAR(ab, mmd_rbf(Tensor::from(r, {400, 2}), b), 1e-12);
  // Subsampling (max_points) is order invariant too.
  MmdOptions o;
  o.max_points = 100;
  EXPECT_NEAR(mmd_rbf(a, b, o), mmd_rbf(Tensor::from(r, {400, 2}), b, o), 1e-12);
}

TEST(Mmd, MedianHeuristic) {
  // Pooled {0, 1, 3}: distances 1, 2, 3 -> median 2.
  EXPECT_DOUBLE_EQ(fx::metrics::median_pairwise_distance(Tensor::from({0, 1}, {2, 1}),
                                                         Tensor::from({3}, {1, 1})),
                   2.0);
  Tensor same = Tensor::zeros({3, 2});
  EXPECT_DOUBLE_EQ(fx::metrics::median_pairwise_distance(same, same), 1.0);
}

TEST(Mmd, Errors) {
  Tensor a = fx::data::sample_toy("moons", 10, 1);
  EXPECT_THROW(mmd_rbf(a, fx::data::sample_toy("gaussian", 10, 1, 3)), fx::Error);
  EXPECT_THROW(mmd_rbf(a, Tensor::zeros({1, 2})), fx::Error);  // unbiased needs 2 points
  EXPECT_THROW(mmd_rbf(a, Tensor::zeros({0, 2})), fx::Error);
  MmdOptions o;
  o.bandwidths = {0.0};
  EXPECT_THROW(mmd_rbf(a, a, o), fx::Error);
  EXPECT_THROW(mmd_rbf(a, Tensor::from({1, 2, INFINITY, 0}, {2, 2})), fx::Error);
}

}  // namespace
