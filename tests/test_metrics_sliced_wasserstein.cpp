// Sliced Wasserstein-2: exact 1-D quantile matching, the analytic value for a shift,
// symmetry, order invariance, determinism and input errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "fluxion/core/error.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/metrics/sliced_wasserstein.h"

namespace {

using fx::Tensor;
using fx::metrics::sliced_wasserstein;
using fx::metrics::w2_squared_sorted_1d;

Tensor shifted(const Tensor& t, double dx, double dy) {
  auto v = t.to_vector();
  for (size_t i = 0; i < v.size(); i += 2) v[i] += dx, v[i + 1] += dy;
  return Tensor::from(v, t.shape(), fx::DType::f64);
}

TEST(SlicedWasserstein, OneDimensionalQuantileMatching) {
  std::vector<double> a = {0, 1}, b = {0, 0.5, 1};
  // Quantile functions: a = 0 on (0,1/2], 1 on (1/2,1]; b = 0, 0.5, 1 on thirds.
  // Differences: (0,1/3): 0; (1/3,1/2): 0.5; (1/2,2/3): 0.5; (2/3,1): 0 -> 0.25 * 1/3.
  EXPECT_NEAR(w2_squared_sorted_1d(a, b), 0.25 / 3, 1e-15);
  EXPECT_NEAR(w2_squared_sorted_1d(b, a), 0.25 / 3, 1e-15);
  std::vector<double> c = {1, 2, 3}, d = {2, 3, 4};
  EXPECT_NEAR(w2_squared_sorted_1d(c, d), 1.0, 1e-15);
  // Repeating every point k times describes the same distribution.
  std::vector<double> c2 = {1, 1, 2, 2, 3, 3};
  EXPECT_NEAR(w2_squared_sorted_1d(c2, d), 1.0, 1e-15);
}

TEST(SlicedWasserstein, IdenticalSetsGiveZero) {
  Tensor a = fx::data::sample_toy("moons", 1000, 1);
  EXPECT_EQ(sliced_wasserstein(a, a), 0.0);
  EXPECT_EQ(sliced_wasserstein(a, a.to(fx::DType::f64)), 0.0);
}

TEST(SlicedWasserstein, ShiftGivesNormOverSqrt2) {
  // Projections of a shifted copy differ by <δ, θ> exactly; E[<δ, θ>²] = |δ|²/2 on the circle.
  Tensor a = fx::data::sample_toy("gaussian", 1000, 3);
  Tensor b = shifted(a, 3.0, 4.0);  // |δ| = 5
  EXPECT_NEAR(sliced_wasserstein(a, b, 4096, 0), 5 / std::sqrt(2.0), 0.02 * 5 / std::sqrt(2.0));
  EXPECT_NEAR(sliced_wasserstein(a, b), 5 / std::sqrt(2.0), 0.05 * 5 / std::sqrt(2.0));
  // Independent samples of N(0, I) and N(δ, I): the same up to the finite-sample floor.
  Tensor c = shifted(fx::data::sample_toy("gaussian", 3000, 4), 3.0, 4.0);
  EXPECT_NEAR(sliced_wasserstein(a, c, 1024), 5 / std::sqrt(2.0), 0.1);
}

TEST(SlicedWasserstein, SymmetricOrderInvariantDeterministic) {
  Tensor a = fx::data::sample_toy("moons", 700, 1), b = fx::data::sample_toy("8gaussians", 500, 2);
  double ab = sliced_wasserstein(a, b, 256, 9);
  EXPECT_DOUBLE_EQ(ab, sliced_wasserstein(b, a, 256, 9));
  EXPECT_EQ(ab, sliced_wasserstein(a, b, 256, 9));
  EXPECT_NE(ab, sliced_wasserstein(a, b, 256, 10));
  auto v = b.to_vector();
  std::vector<double> r(v.size());
  for (int64_t i = 0; i < 500; ++i)  // reverse the rows
    r[2 * i] = v[2 * (499 - i)], r[2 * i + 1] = v[2 * (499 - i) + 1];
  EXPECT_DOUBLE_EQ(ab, sliced_wasserstein(a, Tensor::from(r, {500, 2}), 256, 9));
  EXPECT_GT(ab, 1.0);  // clearly different distributions
}

TEST(SlicedWasserstein, HigherDimensions) {
  Tensor a = fx::data::sample_toy("gaussian", 500, 1, 8);
  EXPECT_EQ(sliced_wasserstein(a, a), 0.0);
  EXPECT_GT(sliced_wasserstein(a, fx::data::sample_toy("gaussian", 300, 2, 8)), 0.0);
}

TEST(SlicedWasserstein, Errors) {
  Tensor a = fx::data::sample_toy("moons", 10, 1);
  EXPECT_THROW(sliced_wasserstein(a, fx::data::sample_toy("gaussian", 10, 1, 3)), fx::Error);
  EXPECT_THROW(sliced_wasserstein(a, Tensor::zeros({0, 2})), fx::Error);
  EXPECT_THROW(sliced_wasserstein(a, Tensor::zeros({10})), fx::Error);
  EXPECT_THROW(sliced_wasserstein(a, a, 0), fx::Error);
  EXPECT_THROW(sliced_wasserstein(a, Tensor::from({1, NAN}, {1, 2})), fx::Error);
  try {
    sliced_wasserstein(a, Tensor::zeros({4, 3}));
  } catch (const fx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("dimension mismatch"), std::string::npos) << e.what();
  }
}

}  // namespace
