// Philox4x32-10: known answers, the documented stream layout, statistics, determinism.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace {

using Block = std::array<uint32_t, 4>;
using Key = std::array<uint32_t, 2>;

// Random123 1.14, tests/kat_vectors, the three "philox4x32 10" lines
// (columns: counter[4] key[2] -> expected[4]).
TEST(Philox, KnownAnswerVectors) {
  struct Kat {
    Block ctr;
    Key key;
    Block expected;
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) EXPECT_EQ(fx::Philox::block(k.ctr, k.key), k.expected);
}

TEST(Philox, BlockIsConstexpr) {
  static_assert(fx::Philox::block({0, 0, 0, 0}, {0, 0})[0] == 0x6627e8d5u);
}

constexpr uint64_t kSeed = 0x0123456789abcdefull;
constexpr uint64_t kOffset = 0xfedcba9876543210ull;

Block block_for(uint64_t seed, uint64_t offset, uint64_t b) {
  return fx::Philox::block(
      {uint32_t(offset), uint32_t(offset >> 32), uint32_t(b), uint32_t(b >> 32)},
      {uint32_t(seed), uint32_t(seed >> 32)});
}

TEST(Philox, FloatUniformLayout) {
  const int64_t n = 103;
  std::vector<float> u(n);
  fx::philox_uniform(kSeed, kOffset, u.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    uint32_t w = block_for(kSeed, kOffset, i / 4)[i % 4];
    ASSERT_EQ(u[i], std::ldexp(float(w >> 8), -24)) << i;
  }
}

TEST(Philox, DoubleUniformLayout) {
  const int64_t n = 51;
  std::vector<double> u(n);
  fx::philox_uniform(kSeed, kOffset, u.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    Block w = block_for(kSeed, kOffset, i / 2);
    uint64_t bits = uint64_t(w[2 * (i % 2)]) | (uint64_t(w[2 * (i % 2) + 1]) << 32);
    ASSERT_EQ(u[i], std::ldexp(double(bits >> 11), -53)) << i;
  }
}

// Box-Muller from the uniform stream, recomputed here in double; the library's float path
// works in float, so compare with a tolerance rather than bits.
TEST(Philox, NormalsAreBoxMullerOfTheUniforms) {
  const int64_t n = 1001;  // odd: the last pair keeps only its cosine half
  std::vector<float> uf(n + 1), zf(n);
  std::vector<double> ud(n + 1), zd(n);
  fx::philox_uniform(kSeed, kOffset, uf.data(), n + 1);
  fx::philox_uniform(kSeed, kOffset, ud.data(), n + 1);
  fx::philox_normal(kSeed, kOffset, zf.data(), n);
  fx::philox_normal(kSeed, kOffset, zd.data(), n);
  const double two_pi = 6.283185307179586;
  for (int64_t i = 0; i < n; ++i) {
    int64_t p = i / 2;
    {
      double r = std::sqrt(-2.0 * std::log(1.0 - double(uf[2 * p])));
      double t = two_pi * double(uf[2 * p + 1]);
      double z = i % 2 ? r * std::sin(t) : r * std::cos(t);
      ASSERT_NEAR(zf[i], z, 2e-5 * (1 + std::fabs(z))) << i;
    }
    {
      double r = std::sqrt(-2.0 * std::log(1.0 - ud[2 * p]));
      double t = two_pi * ud[2 * p + 1];
      double z = i % 2 ? r * std::sin(t) : r * std::cos(t);
      ASSERT_NEAR(zd[i], z, 1e-12 * (1 + std::fabs(z))) << i;
    }
  }
}

struct Moments {
  double mean, var, skew, kurt;
};
template <typename T>
Moments moments(const std::vector<T>& x) {
  double n = double(x.size()), m = 0;
  for (T v : x) m += double(v);
  m /= n;
  double m2 = 0, m3 = 0, m4 = 0;
  for (T v : x) {
    double d = double(v) - m;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return {m, m2, m3 / std::pow(m2, 1.5), m4 / (m2 * m2)};
}

// n = 1e6. Bounds are ~7 standard errors or more: a correct generator essentially never
// fails them, a biased or badly correlated one does.
template <typename T>
void check_uniform_stats(uint64_t seed, uint64_t offset) {
  const int64_t n = 1000000;
  std::vector<T> u(n);
  fx::philox_uniform(seed, offset, u.data(), n);
  std::vector<int64_t> hist(16, 0);
  double lag1 = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_GE(u[i], T(0));
    ASSERT_LT(u[i], T(1));
    hist[int(u[i] * 16)]++;
    if (i > 0) lag1 += (double(u[i]) - 0.5) * (double(u[i - 1]) - 0.5);
  }
  Moments m = moments(u);
  EXPECT_NEAR(m.mean, 0.5, 0.002);            // se 2.9e-4
  EXPECT_NEAR(m.var, 1.0 / 12, 0.0007);       // se 7.5e-5
  EXPECT_NEAR(lag1 / (n - 1) * 12, 0, 0.01);  // lag-1 autocorrelation, se 1e-3
  for (int64_t c : hist) EXPECT_NEAR(double(c) / n, 1.0 / 16, 0.002);  // se 2.4e-4
}

template <typename T>
void check_normal_stats(uint64_t seed, uint64_t offset) {
  const int64_t n = 1000000;
  std::vector<T> z(n);
  fx::philox_normal(seed, offset, z.data(), n);
  int64_t within1 = 0, within2 = 0;
  double pair_corr = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(std::isfinite(z[i])) << i;
    within1 += std::fabs(z[i]) < 1;
    within2 += std::fabs(z[i]) < 2;
    if (i % 2) pair_corr += double(z[i]) * double(z[i - 1]);  // the two halves of a pair
  }
  Moments m = moments(z);
  EXPECT_NEAR(m.mean, 0.0, 0.01);                     // se 1e-3
  EXPECT_NEAR(m.var, 1.0, 0.01);                      // se 1.4e-3
  EXPECT_NEAR(m.skew, 0.0, 0.03);                     // se 2.4e-3
  EXPECT_NEAR(m.kurt, 3.0, 0.06);                     // se 4.9e-3
  EXPECT_NEAR(double(within1) / n, 0.682689, 0.004);  // se 4.7e-4
  EXPECT_NEAR(double(within2) / n, 0.954500, 0.002);  // se 2.1e-4
  EXPECT_NEAR(pair_corr / (n / 2), 0.0, 0.015);       // se 1.4e-3
}

TEST(Philox, UniformFloatStatistics) { check_uniform_stats<float>(42, 0); }
TEST(Philox, UniformDoubleStatistics) { check_uniform_stats<double>(42, 7); }
TEST(Philox, NormalFloatStatistics) { check_normal_stats<float>(1234, 0); }
TEST(Philox, NormalDoubleStatistics) { check_normal_stats<double>(1234, 1); }

template <typename T, typename Fill>
std::vector<T> run_with_threads(int threads, int64_t n, Fill fill) {
  int prev = omp_get_max_threads();
  omp_set_num_threads(threads);
  std::vector<T> out(n);
  fill(out.data(), n);
  omp_set_num_threads(prev);
  return out;
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// n is large enough to take the parallel path; odd so the last block is partial.
TEST(Philox, ThreadCountIndependent) {
  const int64_t n = (int64_t(1) << 20) + 3;
  auto check = [&](auto tag, auto fill) {
    using T = decltype(tag);
    auto one = run_with_threads<T>(1, n, fill);
    auto two = run_with_threads<T>(2, n, fill);
    auto three = run_with_threads<T>(3, n, fill);
    EXPECT_TRUE(same_bits(one, two));
    EXPECT_TRUE(same_bits(one, three));
  };
  check(float{}, [](float* p, int64_t k) { fx::philox_uniform(kSeed, kOffset, p, k); });
  check(double{}, [](double* p, int64_t k) { fx::philox_uniform(kSeed, kOffset, p, k); });
  check(float{}, [](float* p, int64_t k) { fx::philox_normal(kSeed, kOffset, p, k); });
  check(double{}, [](double* p, int64_t k) { fx::philox_normal(kSeed, kOffset, p, k); });
}

// Element i depends only on (seed, offset, i): a short fill is a prefix of a long (parallel)
// one, and repeated calls give the same bits.
TEST(Philox, DeterministicAndPrefixStable) {
  const int64_t big = (int64_t(1) << 17) + 1;
  auto check = [&](auto tag, auto fill) {
    using T = decltype(tag);
    std::vector<T> a(big), b(big);
    fill(a.data(), big);
    fill(b.data(), big);
    EXPECT_TRUE(same_bits(a, b));
    for (int64_t n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 1000}) {
      std::vector<T> s(n + 1, T(-7));
      fill(s.data(), n);
      EXPECT_EQ(0, std::memcmp(s.data(), a.data(), n * sizeof(T))) << "n=" << n;
      EXPECT_EQ(s[n], T(-7)) << "wrote past n=" << n;
    }
  };
  check(float{}, [](float* p, int64_t k) { fx::philox_uniform(kSeed, kOffset, p, k); });
  check(double{}, [](double* p, int64_t k) { fx::philox_uniform(kSeed, kOffset, p, k); });
  check(float{}, [](float* p, int64_t k) { fx::philox_normal(kSeed, kOffset, p, k); });
  check(double{}, [](double* p, int64_t k) { fx::philox_normal(kSeed, kOffset, p, k); });
}

// Different offsets (low and high word) and different seeds (low and high word) give
// unrelated streams: with 24-bit floats, matching elements should be rare coincidences.
TEST(Philox, OffsetsAndSeedsSelectDifferentStreams) {
  const int64_t n = 4096;
  auto fill = [&](uint64_t seed, uint64_t offset) {
    std::vector<float> v(n);
    fx::philox_uniform(seed, offset, v.data(), n);
    return v;
  };
  auto matches = [&](const std::vector<float>& a, const std::vector<float>& b) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; ++i) m += a[i] == b[i];
    return m;
  };
  auto base = fill(5, 0);
  for (auto [seed, offset] : std::vector<std::pair<uint64_t, uint64_t>>{
           {5, 1}, {5, uint64_t(1) << 32}, {6, 0}, {5 + (uint64_t(1) << 32), 0}, {5, 2}}) {
    EXPECT_LE(matches(base, fill(seed, offset)), 3) << seed << " " << offset;
  }
  // Nor is offset a skip-ahead within one stream: offset 1 is not stream 0 shifted.
  auto next = fill(5, 1);
  int64_t shifted = 0;
  for (int64_t i = 0; i + 4 < n; ++i) shifted += next[i] == base[i + 4];
  EXPECT_LE(shifted, 3);
}

// A range of the double stream is that slice of a fill, for even and odd starts and lengths,
// and writes nothing past its n.
TEST(Philox, UniformRangeIsASliceOfTheFill) {
  const int64_t n = 64;
  std::vector<double> all(n);
  fx::philox_uniform(kSeed, kOffset, all.data(), n);
  for (int64_t first : {0, 1, 2, 7, 40})
    for (int64_t len : {0, 1, 2, 3, 4, 5, 9}) {
      std::vector<double> part(len + 1, -7.0);
      fx::philox_uniform_range(kSeed, kOffset, first, part.data(), len);
      EXPECT_EQ(0, std::memcmp(part.data(), all.data() + first, len * sizeof(double)))
          << "first " << first << " n " << len;
      EXPECT_EQ(part[len], -7.0) << "wrote past n=" << len;
    }
}

TEST(Philox, NegativeCountThrows) {
  float f;
  double d;
  EXPECT_THROW(fx::philox_uniform(1, 0, &f, -1), fx::Error);
  EXPECT_THROW(fx::philox_normal(1, 0, &f, -1), fx::Error);
  EXPECT_THROW(fx::philox_uniform_range(1, 0, 0, &d, -1), fx::Error);
  EXPECT_THROW(fx::philox_uniform_range(1, 0, -2, &d, 1), fx::Error);
}

}  // namespace
