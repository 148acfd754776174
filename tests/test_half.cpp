// bf16 / f16 <-> f32 conversions against an independent reference.
//
// The reference here deliberately does not reuse the bit tricks of half.cpp: 16-bit patterns
// are decoded with ldexp arithmetic, and narrowing is done by searching the sorted table of
// all representable values and comparing 2*|x| with the sum of the two neighbours (exact in
// double), ties going to the even pattern. Only NaNs, which have no arithmetic value, are
// specified by bits: sign kept, top payload bits kept, quiet bit set.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/core/half.h"

namespace fx::half_detail {
int set_isa_for_testing(int isa);  // defined in half.cpp: 0 = scalar, -1 = best available
}

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

struct Format {
  const char* name;
  int mant_bits;  // stored mantissa bits
  int exp_bits;
  int bias() const { return (1 << (exp_bits - 1)) - 1; }
  uint16_t inf_bits() const { return uint16_t(((1 << exp_bits) - 1) << mant_bits); }
};
constexpr Format kBF16{"bf16", 7, 8};
constexpr Format kF16{"f16", 10, 5};

// Value of a 16-bit pattern by arithmetic (NaN for NaN patterns).
double ref_decode(uint16_t h, const Format& fmt) {
  bool neg = h & 0x8000;
  int e = (h >> fmt.mant_bits) & ((1 << fmt.exp_bits) - 1);
  int m = h & ((1 << fmt.mant_bits) - 1);
  double v;
  if (e == (1 << fmt.exp_bits) - 1) {
    v = m == 0 ? INFINITY : NAN;
  } else if (e == 0) {
    v = std::ldexp(double(m), 1 - fmt.bias() - fmt.mant_bits);  // subnormal (or zero)
  } else {
    v = std::ldexp(double((1 << fmt.mant_bits) + m), e - fmt.bias() - fmt.mant_bits);
  }
  return neg ? -v : v;
}

// Expected f32 bits of widening the 16-bit pattern h.
uint32_t ref_widen_bits(uint16_t h, const Format& fmt) {
  double v = ref_decode(h, fmt);
  if (std::isnan(v)) {
    uint32_t payload = uint32_t(h & ((1 << fmt.mant_bits) - 1)) << (23 - fmt.mant_bits);
    return (uint32_t(h & 0x8000) << 16) | 0x7f800000u | 0x00400000u | payload;
  }
  float f = float(v);
  EXPECT_EQ(double(f), v) << fmt.name << " value not exact in f32";
  return bits(f);
}

// Sorted table of the non-negative representable values, index == bit pattern, with the Inf
// pattern standing for 2^(emax+1): rounding as if the exponent were unbounded and then
// overflowing is the same as treating that value as one more (even) neighbour.
std::vector<double> value_table(const Format& fmt) {
  std::vector<double> t;
  for (uint32_t k = 0; k < fmt.inf_bits(); ++k) t.push_back(ref_decode(uint16_t(k), fmt));
  t.push_back(std::ldexp(1.0, fmt.bias() + 1));
  for (size_t k = 1; k < t.size(); ++k) EXPECT_LT(t[k - 1], t[k]);
  return t;
}

uint16_t ref_narrow(float x, const Format& fmt, const std::vector<double>& table) {
  uint16_t sign = (bits(x) >> 31) ? 0x8000 : 0;
  if (std::isnan(x)) {
    uint32_t payload = (bits(x) & 0x7fffffu) >> (23 - fmt.mant_bits);
    return uint16_t(sign | fmt.inf_bits() | (1u << (fmt.mant_bits - 1)) | payload);
  }
  double ax = std::fabs(double(x));
  if (ax >= table.back()) return uint16_t(sign | fmt.inf_bits());
  // k: last entry <= ax.
  size_t k = size_t(std::upper_bound(table.begin(), table.end(), ax) - table.begin()) - 1;
  if (table[k] == ax) return uint16_t(sign | k);
  double twice = 2.0 * ax, sum = table[k] + table[k + 1];  // both exact in double
  size_t r = twice < sum ? k : twice > sum ? k + 1 : (k % 2 == 0 ? k : k + 1);
  return uint16_t(sign | r);
}

// Interesting f32 inputs for narrowing to fmt: every representable value, the midpoint of
// every pair of neighbours (including max and the overflow threshold), the floats just
// around each, NaNs with payloads and the usual specials, all with both signs.
std::vector<float> narrowing_inputs(const Format& fmt, const std::vector<double>& table) {
  std::vector<float> v;
  auto add = [&](float f) {
    v.push_back(f);
    v.push_back(-f);
  };
  auto add_around = [&](float f) {
    add(f);
    add(std::nextafter(f, 0.0f));
    add(std::nextafter(f, INFINITY));
  };
  for (size_t k = 0; k + 1 < table.size(); ++k) {
    float val = float(table[k]);
    EXPECT_EQ(double(val), table[k]);
    add_around(val);
    float mid = float((table[k] + table[k + 1]) / 2);
    EXPECT_EQ(double(mid), (table[k] + table[k + 1]) / 2) << "midpoint not exact in f32";
    add_around(mid);
  }
  for (uint32_t u :
       {0x7f800001u, 0x7f800fffu, 0x7f801000u, 0x7f802000u, 0x7f810000u, 0x7fbfffffu, 0x7fc00000u,
        0x7fc00001u, 0x7fd55555u, 0x7fffe000u, 0x7fffffffu, 0x7f8fffffu}) {
    add(from_bits(u));
  }
  for (float f : {0.0f, INFINITY, FLT_MAX, FLT_MIN, FLT_TRUE_MIN, 1.0f, 65504.0f, 65520.0f,
                  65536.0f, 0x1p-14f, 0x1p-24f, 0x1p-25f, 0x1.8p-24f, 0x1p-126f, 0x1p-133f,
                  0x1p-134f, 0x1.fep127f, 0x1.ffp127f}) {
    add_around(f);
  }
  return v;
}

std::string hex(uint32_t u) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", u);
  return buf;
}

// ----------------------------------------------------------------------------------------
// Scalar rule, exhaustive over 16-bit patterns.

TEST(Half, Bf16ToF32AllPatterns) {
  for (uint32_t h = 0; h < 65536; ++h) {
    ASSERT_EQ(bits(fx::bf16_to_f32(uint16_t(h))), ref_widen_bits(uint16_t(h), kBF16))
        << "bf16 " << hex(h);
  }
}

TEST(Half, F16ToF32AllPatterns) {
  for (uint32_t h = 0; h < 65536; ++h) {
    ASSERT_EQ(bits(fx::f16_to_f32(uint16_t(h))), ref_widen_bits(uint16_t(h), kF16))
        << "f16 " << hex(h);
  }
}

TEST(Half, RoundTripOfEveryNonNanPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    uint16_t p = uint16_t(h);
    if (!std::isnan(fx::bf16_to_f32(p))) {
      ASSERT_EQ(fx::f32_to_bf16(fx::bf16_to_f32(p)), p) << hex(h);
    }
    if (!std::isnan(fx::f16_to_f32(p))) {
      ASSERT_EQ(fx::f32_to_f16(fx::f16_to_f32(p)), p) << hex(h);
    }
  }
}

TEST(Half, F32ToBf16AgainstReference) {
  auto table = value_table(kBF16);
  auto in = narrowing_inputs(kBF16, table);
  for (float x : in) {
    ASSERT_EQ(fx::f32_to_bf16(x), ref_narrow(x, kBF16, table)) << "f32 " << hex(bits(x));
  }
  // A strided sweep of all f32 bit patterns (any NaN, Inf, subnormal, huge, tiny).
  for (uint64_t u = 0; u < (1ull << 32); u += 4093) {
    float x = from_bits(uint32_t(u));
    ASSERT_EQ(fx::f32_to_bf16(x), ref_narrow(x, kBF16, table)) << "f32 " << hex(uint32_t(u));
  }
}

TEST(Half, F32ToF16AgainstReference) {
  auto table = value_table(kF16);
  auto in = narrowing_inputs(kF16, table);
  for (float x : in) {
    ASSERT_EQ(fx::f32_to_f16(x), ref_narrow(x, kF16, table)) << "f32 " << hex(bits(x));
  }
  for (uint64_t u = 0; u < (1ull << 32); u += 4093) {
    float x = from_bits(uint32_t(u));
    ASSERT_EQ(fx::f32_to_f16(x), ref_narrow(x, kF16, table)) << "f32 " << hex(uint32_t(u));
  }
}

// Hand-checked cases, readable on their own.
TEST(Half, KnownValues) {
  // f16 overflow boundary: 65504 is max, 65520 is the tie with 2^16 and goes to Inf.
  EXPECT_EQ(fx::f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(fx::f32_to_f16(std::nextafter(65520.0f, 0.0f)), 0x7bff);
  EXPECT_EQ(fx::f32_to_f16(65520.0f), 0x7c00);
  EXPECT_EQ(fx::f32_to_f16(-65520.0f), 0xfc00);
  EXPECT_EQ(fx::f32_to_f16(FLT_MAX), 0x7c00);
  EXPECT_EQ(fx::f32_to_f16(-INFINITY), 0xfc00);
  // f16 underflow: 2^-25 ties to 0, just above it is the smallest subnormal 2^-24,
  // 1.5 * 2^-24 ties to even (2 * 2^-24), subnormals round up into the smallest normal.
  EXPECT_EQ(fx::f32_to_f16(0x1p-25f), 0x0000);
  EXPECT_EQ(fx::f32_to_f16(-0x1p-25f), 0x8000);
  EXPECT_EQ(fx::f32_to_f16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(fx::f32_to_f16(0x1.8p-24f), 0x0002);
  EXPECT_EQ(fx::f32_to_f16(0x1.4p-23f), 0x0002);  // 2.5 * 2^-24 -> 2 (even)
  EXPECT_EQ(fx::f32_to_f16(std::nextafter(0x1p-14f, 0.0f)), 0x0400);
  EXPECT_EQ(fx::f32_to_f16(FLT_TRUE_MIN), 0x0000);
  EXPECT_EQ(fx::f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(fx::f32_to_f16(1.0f + 0x1p-11f), 0x3c00);  // tie, 0x3c00 is even
  EXPECT_EQ(fx::f32_to_f16(1.0f + 0x3p-11f), 0x3c02);  // tie, 0x3c02 is even
  EXPECT_EQ(fx::f16_to_f32(0x0001), 0x1p-24f);
  EXPECT_EQ(fx::f16_to_f32(0x03ff), 1023 * 0x1p-24f);
  EXPECT_EQ(fx::f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(bits(fx::f16_to_f32(0x8000)), 0x80000000u);
  // bf16
  EXPECT_EQ(fx::f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);  // tie -> even
  EXPECT_EQ(fx::f32_to_bf16(1.0f + 0x3p-8f), 0x3f82);  // tie -> even
  EXPECT_EQ(fx::f32_to_bf16(std::nextafter(1.0f + 0x1p-8f, 2.0f)), 0x3f81);
  EXPECT_EQ(fx::f32_to_bf16(FLT_MAX), 0x7f80);  // above the last midpoint: overflows
  EXPECT_EQ(fx::f32_to_bf16(0x1.fep127f), 0x7f7f);
  EXPECT_EQ(fx::f32_to_bf16(FLT_TRUE_MIN), 0x0000);
  EXPECT_EQ(fx::f32_to_bf16(0x1p-133f), 0x0001);  // smallest bf16 subnormal, exact
  // NaNs never become Inf, keep their sign, become quiet.
  EXPECT_EQ(fx::f32_to_bf16(from_bits(0x7fffffffu)), 0x7fff);
  EXPECT_EQ(fx::f32_to_bf16(from_bits(0x7f800001u)), 0x7fc0);
  EXPECT_EQ(fx::f32_to_bf16(from_bits(0xff800001u)), 0xffc0);
  EXPECT_EQ(fx::f32_to_f16(from_bits(0x7f800001u)), 0x7e00);
  EXPECT_EQ(fx::f32_to_f16(from_bits(0xffffffffu)), 0xffff);
  EXPECT_EQ(bits(fx::bf16_to_f32(0xff81)), 0xffc10000u);
  EXPECT_EQ(bits(fx::f16_to_f32(0x7c01)), 0x7fc02000u);
  EXPECT_EQ(bits(fx::f16_to_f32(0xfe00)), 0xffc00000u);
}

// ----------------------------------------------------------------------------------------
// Array versions vs the scalar rule, on every dispatch path this CPU has.

const size_t kLengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 1000};

template <typename Fn>
void for_each_isa(Fn fn) {
  for (int isa : {0, -1}) {  // scalar, then the best the CPU supports
    int prev = fx::half_detail::set_isa_for_testing(isa);
    SCOPED_TRACE(isa == 0 ? "scalar path" : "best path");
    fn();
    fx::half_detail::set_isa_for_testing(prev);
  }
}

// Converts src[off .. off+n) with the array function (so unaligned starts are covered) and
// checks every output against the scalar function, and that nothing past n is written.
void check_widen(const std::vector<uint16_t>& src, size_t off, size_t n,
                 void (*arr)(const uint16_t*, float*, size_t), float (*one)(uint16_t)) {
  std::vector<float> dst(n + 1, from_bits(0x12345678u));
  arr(src.data() + off, dst.data(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(bits(dst[i]), bits(one(src[off + i]))) << "n=" << n << " i=" << i;
  }
  ASSERT_EQ(bits(dst[n]), 0x12345678u) << "wrote past n=" << n;
}

void check_narrow(const std::vector<float>& src, size_t off, size_t n,
                  void (*arr)(const float*, uint16_t*, size_t), uint16_t (*one)(float)) {
  std::vector<uint16_t> dst(n + 1, 0xabcd);
  arr(src.data() + off, dst.data(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(dst[i], one(src[off + i]))
        << "n=" << n << " i=" << i << " x=" << hex(bits(src[off + i]));
  }
  ASSERT_EQ(dst[n], 0xabcd) << "wrote past n=" << n;
}

using WidenArr = void (*)(const uint16_t*, float*, size_t);
using WidenOne = float (*)(uint16_t);
using NarrowArr = void (*)(const float*, uint16_t*, size_t);
using NarrowOne = uint16_t (*)(float);

TEST(Half, ArrayWidenMatchesScalar) {
  std::vector<uint16_t> all(65536 + 3);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i * 40503u);  // odd: a permutation
  std::mt19937 rng(7);
  std::vector<uint16_t> rnd(1003);
  for (auto& h : rnd) h = uint16_t(rng());
  for_each_isa([&] {
    const std::pair<WidenArr, WidenOne> fns[] = {{fx::bf16_to_f32, fx::bf16_to_f32},
                                                 {fx::f16_to_f32, fx::f16_to_f32}};
    for (auto [arr, one] : fns) {
      check_widen(all, 0, 65536, arr, one);
      check_widen(all, 3, 65536, arr, one);
      for (size_t n : kLengths) {
        for (size_t off : {0, 1, 3}) check_widen(rnd, off, n, arr, one);
      }
    }
  });
}

TEST(Half, ArrayNarrowMatchesScalar) {
  std::vector<float> special = narrowing_inputs(kF16, value_table(kF16));
  auto b = narrowing_inputs(kBF16, value_table(kBF16));
  special.insert(special.end(), b.begin(), b.end());
  std::mt19937 rng(11);
  std::shuffle(special.begin(), special.end(), rng);
  // Random inputs: a mix of arbitrary bit patterns (NaNs, Inf, subnormals included) and
  // values in the f16 range where the rounding is most interesting.
  std::vector<float> rnd(1003);
  std::normal_distribution<float> normal(0.0f, 100.0f);
  for (size_t i = 0; i < rnd.size(); ++i) {
    rnd[i] = i % 2 ? from_bits(uint32_t(rng())) : normal(rng);
  }
  std::vector<float> sweep;
  for (uint64_t u = 0; u < (1ull << 32); u += 65521) sweep.push_back(from_bits(uint32_t(u)));
  for_each_isa([&] {
    const std::pair<NarrowArr, NarrowOne> fns[] = {{fx::f32_to_bf16, fx::f32_to_bf16},
                                                   {fx::f32_to_f16, fx::f32_to_f16}};
    for (auto [arr, one] : fns) {
      check_narrow(special, 0, special.size(), arr, one);
      check_narrow(special, 1, special.size() - 1, arr, one);
      check_narrow(sweep, 0, sweep.size(), arr, one);
      for (size_t n : kLengths) {
        for (size_t off : {0, 1, 3}) check_narrow(rnd, off, n, arr, one);
      }
    }
  });
}

}  // namespace
