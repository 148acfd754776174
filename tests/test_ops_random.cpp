// random_uniform / random_normal: a pure function of (key, index). The same key gives
// bit-identical tensors across runs, graphs and thread counts; another seed or offset
// gives another stream; moments are those of U[0, 1) and N(0, 1).
#include <omp.h>

#include <cstring>

#include "op_test_util.h"

namespace fx::optest {
namespace {

Tensor key(int64_t seed, int64_t offset) {
  return make({(double)seed, (double)offset}, {2}, DType::i64);
}

Tensor draw(bool normal, const Tensor& k, Shape shape, DType d) {
  Graph g;
  Var kv = g.input("key", {2}, DType::i64);
  Var y = normal ? random_normal(kv, shape, d) : random_uniform(kv, shape, d);
  return evaluate(y, {{"key", k}});
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

int64_t count_equal(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.to_vector(), y = b.to_vector();
  int64_t n = 0;
  for (size_t i = 0; i < x.size(); ++i) n += x[i] == y[i];
  return n;
}

TEST(OpsRandom, SameKeyIsBitIdenticalOtherKeyDiffers) {
  for (bool normal : {false, true})
    for (DType d : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
      SCOPED_TRACE(::testing::Message() << (normal ? "normal " : "uniform ") << dtype_name(d));
      Tensor a = draw(normal, key(42, 7), {33, 31}, d);
      EXPECT_EQ(a.dtype(), d);
      EXPECT_EQ(a.shape(), (Shape{33, 31}));
      EXPECT_TRUE(same_bits(a, draw(normal, key(42, 7), {33, 31}, d)));
      // Another seed, another offset: other streams (a 16-bit format may repeat a few
      // values by chance, f32/f64 essentially never).
      int64_t allowed = dtype_size(d) == 2 ? a.numel() / 20 : 2;
      EXPECT_LE(count_equal(a, draw(normal, key(43, 7), {33, 31}, d)), allowed);
      EXPECT_LE(count_equal(a, draw(normal, key(42, 8), {33, 31}, d)), allowed);
      EXPECT_LE(count_equal(a, draw(normal, key(-42, 7), {33, 31}, d)), allowed);
    }
}

// The same key twice in one graph gives the same values; a graph built once and run with
// two keys gives two streams (the key is data, not a trace-time constant).
TEST(OpsRandom, KeyIsData) {
  Graph g;
  Var k = g.input("key", {2}, DType::i64);
  Var u1 = random_uniform(k, {100}), u2 = random_uniform(k, {100});
  Interpreter it(g, {u1, u2});
  auto r1 = it.run({{"key", key(1, 0)}});
  EXPECT_TRUE(same_bits(r1[0], r1[1]));
  auto r2 = it.run({{"key", key(2, 0)}});
  EXPECT_FALSE(same_bits(r1[0], r2[0]));
  EXPECT_TRUE(same_bits(it.run({{"key", key(1, 0)}})[0], r1[0]));
}

// Element i depends only on (key, i): a shorter draw is a prefix of a longer one, and
// the shape only relabels the flat sequence.
TEST(OpsRandom, PrefixAndShapeIndependence) {
  for (bool normal : {false, true}) {
    Tensor long_draw = draw(normal, key(9, 3), {1000}, DType::f32);
    Tensor short_draw = draw(normal, key(9, 3), {100}, DType::f32);
    EXPECT_EQ(std::memcmp(long_draw.raw(), short_draw.raw(), 99 * sizeof(float)), 0);
    Tensor shaped = draw(normal, key(9, 3), {10, 10, 10}, DType::f32);
    EXPECT_EQ(std::memcmp(long_draw.raw(), shaped.raw(), 1000 * sizeof(float)), 0);
  }
}

TEST(OpsRandom, IndependentOfThreadCount) {
  int saved = omp_get_max_threads();
  Tensor many_u = draw(false, key(5, 1), {1 << 20}, DType::f32);
  Tensor many_n = draw(true, key(5, 1), {1 << 20}, DType::f64);
  omp_set_num_threads(1);
  Tensor one_u = draw(false, key(5, 1), {1 << 20}, DType::f32);
  Tensor one_n = draw(true, key(5, 1), {1 << 20}, DType::f64);
  omp_set_num_threads(saved);
  EXPECT_TRUE(same_bits(many_u, one_u));
  EXPECT_TRUE(same_bits(many_n, one_n));
}

struct Moments {
  double mean = 0, var = 0, skew = 0, kurt = 0, min = 1e300, max = -1e300;
};
Moments moments(const Tensor& t) {
  std::vector<double> x = t.to_vector();
  Moments m;
  double n = (double)x.size();
  for (double v : x) {
    m.mean += v / n;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  double m2 = 0, m3 = 0, m4 = 0;
  for (double v : x) {
    double d = v - m.mean;
    m2 += d * d / n;
    m3 += d * d * d / n;
    m4 += d * d * d * d / n;
  }
  m.var = m2;
  m.skew = m3 / std::pow(m2, 1.5);
  m.kurt = m4 / (m2 * m2);
  return m;
}

// Moments of 2^18 samples. The bounds are about 6 standard errors of each estimate, so
// a correct generator fails them with negligible probability (and the draw is fixed).
TEST(OpsRandom, MomentsAreSane) {
  const int64_t n = 1 << 18;
  for (DType d : {DType::f32, DType::f64}) {
    SCOPED_TRACE(dtype_name(d));
    Moments u = moments(draw(false, key(2024, 0), {n}, d));
    EXPECT_NEAR(u.mean, 0.5, 6 * std::sqrt(1.0 / 12 / n));
    EXPECT_NEAR(u.var, 1.0 / 12, 6 * std::sqrt(1.0 / 180 / n));
    EXPECT_NEAR(u.skew, 0.0, 0.02);
    EXPECT_GE(u.min, 0.0);
    EXPECT_LT(u.max, 1.0);
    EXPECT_LT(u.min, 1e-4);
    EXPECT_GT(u.max, 1 - 1e-4);

    Tensor nt = draw(true, key(2024, 1), {n}, d);
    Moments z = moments(nt);
    EXPECT_NEAR(z.mean, 0.0, 6 / std::sqrt((double)n));
    EXPECT_NEAR(z.var, 1.0, 6 * std::sqrt(2.0 / n));
    EXPECT_NEAR(z.skew, 0.0, 6 * std::sqrt(6.0 / n));
    EXPECT_NEAR(z.kurt, 3.0, 6 * std::sqrt(24.0 / n));
    int64_t within1 = 0;
    for (double v : nt.to_vector()) {
      within1 += std::fabs(v) < 1.0;
      ASSERT_TRUE(std::isfinite(v));
    }
    EXPECT_NEAR((double)within1 / n, 0.682689492, 6 * std::sqrt(0.2166 / n));
    EXPECT_GT(z.max, 4.0);  // tails are there: P(max of 2^18 < 4) is about 2e-4
    EXPECT_LT(z.min, -4.0);
  }
}

// Uniform values of neighbouring elements are uncorrelated (lag-1 and lag-4, the latter
// being the next Philox block's same word).
TEST(OpsRandom, NeighboursUncorrelated) {
  const int64_t n = 1 << 16;
  std::vector<double> u = draw(false, key(77, 0), {n}, DType::f32).to_vector();
  for (int lag : {1, 2, 4}) {
    double s = 0;
    for (int64_t i = 0; i + lag < n; ++i) s += (u[i] - 0.5) * (u[i + lag] - 0.5);
    double corr = s / (n - lag) * 12;
    EXPECT_NEAR(corr, 0.0, 6 / std::sqrt((double)n)) << "lag " << lag;
  }
}

TEST(OpsRandom, EmptyAndScalarShapes) {
  EXPECT_EQ(draw(false, key(1, 1), {0, 3}, DType::f32).numel(), 0);
  Tensor s = draw(true, key(1, 1), {}, DType::f64);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_TRUE(std::isfinite(s.item()));
}

// Random values are leaves for autodiff: gradients flow around them, not into the key.
TEST(OpsRandom, GradientTreatsNoiseAsConstant) {
  Graph g;
  Var k = g.input("key", {2}, DType::i64);
  Var x = g.input("x", {5}, DType::f32);
  Var noise = random_normal(k, {5});
  Var gx = grad(sum(x * noise), {x})[0];
  auto r = evaluate({gx, noise}, {{"key", key(3, 4)}, {"x", Tensor::zeros({5})}});
  EXPECT_TRUE(same_bits(r[0], r[1]));
}

}  // namespace
}  // namespace fx::optest
