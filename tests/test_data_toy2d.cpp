// Built-in toy distributions: shapes, determinism, the documented geometry, and agreement in
// distribution with the peer PyTorch script (shared/peer/rectified_flow_2d.py).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/data/toy2d.h"

namespace {

using fx::Tensor;
using fx::data::sample_toy;

struct Moments {
  double mx = 0, my = 0, cxx = 0, cxy = 0, cyy = 0, r2 = 0;
};

Moments moments(const Tensor& t) {
  auto v = t.to_vector();
  int64_t n = t.dim(0);
  Moments m;
  for (int64_t i = 0; i < n; ++i) m.mx += v[2 * i] / n, m.my += v[2 * i + 1] / n;
  for (int64_t i = 0; i < n; ++i) {
    double x = v[2 * i] - m.mx, y = v[2 * i + 1] - m.my;
    m.cxx += x * x / n, m.cxy += x * y / n, m.cyy += y * y / n;
    m.r2 += (v[2 * i] * v[2 * i] + v[2 * i + 1] * v[2 * i + 1]) / n;
  }
  return m;
}

TEST(Toy2d, EveryNameGivesF32PointsOfTheRightShape) {
  for (const auto& name : fx::data::toy_names()) {
    Tensor t = sample_toy(name, 100, 1);
    EXPECT_EQ(t.dtype(), fx::DType::f32) << name;
    EXPECT_EQ(t.shape(), (fx::Shape{100, 2})) << name;
    for (double v : t.to_vector()) ASSERT_TRUE(std::isfinite(v)) << name;
    EXPECT_TRUE(fx::data::is_toy(name));
  }
  EXPECT_EQ(sample_toy("gaussian", 7, 0, 5).shape(), (fx::Shape{7, 5}));
  EXPECT_EQ(sample_toy("moons", 0, 0).shape(), (fx::Shape{0, 2}));
}

TEST(Toy2d, DeterministicPrefixStableAndSeedDependent) {
  for (const auto& name : fx::data::toy_names()) {
    Tensor a = sample_toy(name, 301, 42), b = sample_toy(name, 301, 42);
    Tensor c = sample_toy(name, 1000, 42), d = sample_toy(name, 301, 43);
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0) << name;
    EXPECT_EQ(std::memcmp(a.raw(), c.raw(), a.nbytes()), 0) << name << ": not a prefix";
    EXPECT_NE(std::memcmp(a.raw(), d.raw(), a.nbytes()), 0) << name;
  }
}

// A batch large enough to be split over the threads gives the same bits on 1, 2 or 3.
TEST(Toy2d, ThreadCountIndependent) {
  int prev = omp_get_max_threads();
  for (const auto& name : fx::data::toy_names()) {
    omp_set_num_threads(1);
    Tensor one = sample_toy(name, 1001, 5);
    for (int threads : {2, 3}) {
      omp_set_num_threads(threads);
      Tensor many = sample_toy(name, 1001, 5);
      EXPECT_EQ(std::memcmp(one.raw(), many.raw(), one.nbytes()), 0) << name << " " << threads;
    }
  }
  omp_set_num_threads(prev);
}

// Golden values: the same bits must come out on every machine (up to f32 rounding of libm).
TEST(Toy2d, GoldenValues) {
  Tensor m = sample_toy("moons", 2, 0), g = sample_toy("gaussian", 1, 0, 3);
  auto mv = m.to_vector(), gv = g.to_vector();
  const double moons[4] = {4.2726140, -0.2899447, -4.4022660, -0.4209520};
  const double gauss[3] = {1.1481714, 0.6329686, -0.9360313};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(mv[i], moons[i], 1e-6);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(gv[i], gauss[i], 1e-6);
}

TEST(Toy2d, UnknownNameListsTheValidOnes) {
  try {
    sample_toy("mons", 10, 0);
    FAIL() << "no error";
  } catch (const fx::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("'mons'"), std::string::npos) << msg;
    for (const auto& n : fx::data::toy_names()) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
  EXPECT_THROW(sample_toy("moons", 10, 0, 3), fx::Error);
  EXPECT_THROW(sample_toy("moons", -1, 0), fx::Error);
  EXPECT_THROW(sample_toy("gaussian", 10, 0, 0), fx::Error);
}

// Reference moments of the peer's torch samplers (4M points each, see test comment above):
// 8gaussians: cov = diag(8.25, 8.25), E|x|^2 = 16.5; moons: cov [[6.755, -1.740], [., 2.209]].
TEST(Toy2d, MatchesPeerScriptInDistribution) {
  Moments g = moments(sample_toy("8gaussians", 400000, 7));
  EXPECT_NEAR(g.mx, 0, 0.02);
  EXPECT_NEAR(g.my, 0, 0.02);
  EXPECT_NEAR(g.cxx, 8.25, 0.08);
  EXPECT_NEAR(g.cyy, 8.25, 0.08);
  EXPECT_NEAR(g.cxy, 0, 0.05);
  EXPECT_NEAR(g.r2, 16.5, 0.1);
  Moments m = moments(sample_toy("moons", 400000, 7));
  EXPECT_NEAR(m.mx, 0.0007, 0.01);
  EXPECT_NEAR(m.my, -0.001, 0.01);
  EXPECT_NEAR(m.cxx, 6.755, 0.05);
  EXPECT_NEAR(m.cxy, -1.740, 0.03);
  EXPECT_NEAR(m.cyy, 2.209, 0.02);
}

TEST(Toy2d, GaussianIsStandardInEveryDimension) {
  Tensor t = sample_toy("gaussian", 50001, 3, 4);  // odd count: last Box-Muller pair cut
  auto v = t.to_vector();
  for (int k = 0; k < 4; ++k) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < 50001; ++i) mean += v[i * 4 + k] / 50001;
    for (int64_t i = 0; i < 50001; ++i) var += std::pow(v[i * 4 + k] - mean, 2) / 50001;
    EXPECT_NEAR(mean, 0, 0.02);
    EXPECT_NEAR(var, 1, 0.03);
  }
}

TEST(Toy2d, DocumentedGeometry) {
  const int n = 20000;
  auto cb = sample_toy("checkerboard", n, 5).to_vector();
  for (int i = 0; i < n; ++i) {
    double x = cb[2 * i], y = cb[2 * i + 1];
    ASSERT_TRUE(x >= -4 && x < 4 && y >= -4 && y < 4) << x << "," << y;
    int col = (int)std::floor((x + 4) / 2), row = (int)std::floor((y + 4) / 2);
    ASSERT_EQ((col + row) % 2, 0) << x << "," << y;
  }
  auto grid = sample_toy("25gaussians", n, 5).to_vector();
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) {
      double v = grid[2 * i + k], nearest = 2 * std::round(v / 2);
      ASSERT_LE(std::fabs(nearest), 4.0);
      ASSERT_LT(std::fabs(v - nearest), 1.0);  // 5 std
    }
  auto rings = sample_toy("rings", n, 5).to_vector();
  int count[5] = {};
  for (int i = 0; i < n; ++i) {
    double r = std::hypot(rings[2 * i], rings[2 * i + 1]);
    int k = (int)std::lround(r);
    ASSERT_TRUE(k >= 1 && k <= 4 && std::fabs(r - k) < 0.3) << r;
    ++count[k];
  }
  for (int k = 1; k <= 4; ++k) EXPECT_NEAR(count[k] / (double)n, k / 10.0, 0.015);
  auto g8 = sample_toy("8gaussians", n, 5).to_vector();
  int modes[8] = {};
  for (int i = 0; i < n; ++i) {
    double a = std::atan2(g8[2 * i + 1], g8[2 * i]);
    ++modes[((int)std::lround(a / (M_PI / 4)) + 8) % 8];
  }
  for (int k = 0; k < 8; ++k) EXPECT_NEAR(modes[k] / (double)n, 0.125, 0.01);
}

}  // namespace
