// core/vector_math.h: vlog and vexp against libm over their ranges, in ulps.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "fluxion/core/philox.h"
#include "fluxion/core/vector_math.h"

namespace {

// Distance in units in the last place of `want`.
double ulps(double got, double want) {
  const double ulp =
      std::nextafter(std::fabs(want), std::numeric_limits<double>::infinity()) - std::fabs(want);
  return std::fabs(got - want) / ulp;
}

}  // namespace

TEST(VectorMath, LogWithinTwoUlpOfLibm) {
  double worst = 0;
  // Powers of two and their neighbours (the exponent split), then random magnitudes.
  for (int e = -1020; e <= 1020; ++e)
    for (double m : {1.0, 0.7071067811865475, 0.7071067811865476, 1.4142135623730951, 1.5}) {
      const double x = std::ldexp(m, e);
      worst = std::max(worst, ulps(fx::vlog(x), std::log(x)));
    }
  std::vector<double> u(200000);
  fx::philox_uniform(7, 0, u.data(), (int64_t)u.size());
  for (double v : u) {
    const double x = std::exp(v * 1400 - 700);
    const double w = ulps(fx::vlog(x), std::log(x));
    ASSERT_LE(w, 2.0) << "x = " << x;
    worst = std::max(worst, w);
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(fx::vlog(1.0), 0.0);
}

TEST(VectorMath, ExpWithinTwoUlpOfLibm) {
  std::vector<double> u(200000);
  fx::philox_uniform(11, 0, u.data(), (int64_t)u.size());
  double worst = 0;
  for (double v : u) {
    const double x = v * 1400 - 700;
    worst = std::max(worst, ulps(fx::vexp(x), std::exp(x)));
  }
  for (double x : {0.0, -60.0, -61.0, 1e-300, -1e-300, 0.34657359027997264, 700.0, -700.0})
    worst = std::max(worst, ulps(fx::vexp(x), std::exp(x)));
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(fx::vexp(0.0), 1.0);
}
