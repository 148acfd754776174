// bf16 / IEEE binary16 <-> f32 conversions.
//
// The scalar functions are the reference rule; the array functions must agree with them
// bit for bit on every input. The rule, for all four directions:
//   * finite values round to nearest, ties to even (narrowing) or convert exactly (widening);
//   * f16 subnormals are exact both ways; f32 -> f16 underflows to a subnormal or a signed
//     zero with the same rounding (2^-25 is a tie and goes to +0, anything above it to 2^-24);
//   * f32 -> f16 overflows to Inf at and above 65520 (the midpoint between 65504 and 2^16,
//     which ties to the even pattern 0x7c00 = Inf); f32 -> bf16 overflows the same way;
//   * Inf stays Inf with its sign;
//   * NaN stays NaN: sign kept, the top payload bits kept (truncated, never rounded, so a
//     NaN can never carry into the exponent and become Inf), and the quiet bit is set.
//     Widening also sets the quiet bit, so a signalling 16-bit NaN becomes a quiet f32 NaN.
//     This is exactly what F16C's vcvtph2ps / vcvtps2ph do, which is why it is the rule.
//
// Array paths: on x86-64 an AVX2+F16C+FMA path (F16C for f16, AVX2 integer ops for bf16)
// is compiled with __attribute__((target(...))) and chosen once at run time with
// __builtin_cpu_supports; on other CPUs (or other architectures) the array functions run
// the scalar rule in a loop. There is no separate AVX-512 path yet: on AVX-512 machines the
// AVX2 path runs, which is already memory-bound for these conversions.
#include "fluxion/core/half.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FX_HALF_X86 1
#else
#define FX_HALF_X86 0
#endif

namespace fx {

namespace {

inline uint32_t f2u(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float u2f(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Scalar reference rule.

float bf16_to_f32(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  if ((u & 0x7fffffffu) > 0x7f800000u) u |= 0x00400000u;  // NaN: set the quiet bit
  return u2f(u);
}

uint16_t f32_to_bf16(float f) {
  uint32_t u = f2u(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    // NaN: truncate the payload (rounding could carry into Inf) and force it quiet.
    return uint16_t((u >> 16) | 0x0040u);
  }
  // Round to nearest even on the 16 dropped bits. Overflow carries into the exponent and
  // lands exactly on Inf (0x7f80), which is the correctly rounded result.
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu;
  uint32_t m = h & 0x3ffu;
  if (e == 0x1f) {  // Inf or NaN
    return u2f(sign | 0x7f800000u | (m ? (0x00400000u | (m << 13)) : 0u));
  }
  if (e == 0) {
    if (m == 0) return u2f(sign);  // signed zero
    // Subnormal m * 2^-24: normalise so the leading 1 sits at bit 10.
    e = 1;
    while (!(m & 0x400u)) {
      m <<= 1;
      --e;
    }
    m &= 0x3ffu;
  }
  // Rebias 15 -> 127 (e may be <= 0 here for subnormals; the sum is still positive).
  return u2f(sign | ((e + 112u) << 23) | (m << 13));
}

uint16_t f32_to_f16(float f) {
  uint32_t u = f2u(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) {  // NaN: keep sign and top payload bits, force quiet
    return uint16_t(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  }
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 (and Inf) -> Inf
  if (a >= 0x38800000u) {
    // Normal f16 range [2^-14, 65520): rebias 127 -> 15, then round the 13 dropped bits to
    // nearest even. A carry out of the mantissa correctly bumps the exponent; it cannot reach
    // 0x7c00 because a < 65520 was checked above.
    a -= 112u << 23;
    a += 0xfffu + ((a >> 13) & 1u);
    return uint16_t(sign | (a >> 13));
  }
  if (a <= 0x33000000u) return sign;  // |f| <= 2^-25 (half the smallest subnormal): ties to 0
  // Subnormal result: |f| = m * 2^(e-150) with the implicit bit in m; in units of 2^-24 that
  // is m >> (126 - e). Shift right with round to nearest even. The result may round up to
  // 0x400, which is exactly the encoding of the smallest normal 2^-14.
  uint32_t e = a >> 23;
  uint32_t m = (a & 0x7fffffu) | 0x800000u;
  uint32_t s = 126u - e;  // 14..24 for 2^-25 < |f| < 2^-14
  uint32_t q = m >> s;
  uint32_t rem = m & ((1u << s) - 1u);
  uint32_t half = 1u << (s - 1u);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return uint16_t(sign | q);
}

// ---------------------------------------------------------------------------------------
// Array paths.

namespace {

void bf16_to_f32_scalar(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}
void f32_to_bf16_scalar(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}
void f16_to_f32_scalar(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}
void f32_to_f16_scalar(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

#if FX_HALF_X86

#define FX_TARGET_AVX2 __attribute__((target("avx2,f16c,fma")))

FX_TARGET_AVX2 void bf16_to_f32_avx2(const uint16_t* src, float* dst, size_t n) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i inf = _mm256_set1_epi32(0x7f800000);
  const __m256i quiet = _mm256_set1_epi32(0x00400000);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    __m256i u = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
    // |u| > Inf as signed ints (|u| is non-negative) <=> NaN; OR in the quiet bit there.
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
    u = _mm256_or_si256(u, _mm256_and_si256(nan, quiet));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), u);
  }
  bf16_to_f32_scalar(src + i, dst + i, n - i);
}

FX_TARGET_AVX2 void f32_to_bf16_avx2(const float* src, uint16_t* dst, size_t n) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i inf = _mm256_set1_epi32(0x7f800000);
  const __m256i quiet = _mm256_set1_epi32(0x00400000);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i bias = _mm256_set1_epi32(0x7fff);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
    __m256i rounded = _mm256_add_epi32(u, _mm256_add_epi32(bias, lsb));
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
    __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(u, quiet), nan);
    r = _mm256_srli_epi32(r, 16);  // each lane now in [0, 0xffff]: packus cannot saturate
    __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), packed);
  }
  f32_to_bf16_scalar(src + i, dst + i, n - i);
}

FX_TARGET_AVX2 void f16_to_f32_avx2(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  f16_to_f32_scalar(src + i, dst + i, n - i);
}

FX_TARGET_AVX2 void f32_to_f16_avx2(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(src + i);
    // The immediate rounding mode overrides MXCSR.RC (bit 2 of imm8 is clear).
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
  }
  f32_to_f16_scalar(src + i, dst + i, n - i);
}

bool cpu_has_avx2_f16c() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") &&
         __builtin_cpu_supports("fma");
}

#endif  // FX_HALF_X86

// 0 = scalar, 1 = AVX2+F16C. Decided once; tests may force the scalar path through
// fx::half_detail::set_isa_for_testing (declared in tests/test_half.cpp, not in half.h).
int detect_isa() {
#if FX_HALF_X86
  return cpu_has_avx2_f16c() ? 1 : 0;
#else
  return 0;
#endif
}
int g_isa = detect_isa();

}  // namespace

namespace half_detail {
// Returns the previous level. Level requests above what the CPU supports are clamped, so a
// test can never make this run an illegal instruction. Not thread-safe; tests only.
int set_isa_for_testing(int isa) {
  int prev = g_isa;
  int best = detect_isa();
  g_isa = isa < 0 ? best : (isa > best ? best : isa);
  return prev;
}
}  // namespace half_detail

void bf16_to_f32(const uint16_t* src, float* dst, size_t n) {
#if FX_HALF_X86
  if (g_isa >= 1) return bf16_to_f32_avx2(src, dst, n);
#endif
  bf16_to_f32_scalar(src, dst, n);
}

void f32_to_bf16(const float* src, uint16_t* dst, size_t n) {
#if FX_HALF_X86
  if (g_isa >= 1) return f32_to_bf16_avx2(src, dst, n);
#endif
  f32_to_bf16_scalar(src, dst, n);
}

void f16_to_f32(const uint16_t* src, float* dst, size_t n) {
#if FX_HALF_X86
  if (g_isa >= 1) return f16_to_f32_avx2(src, dst, n);
#endif
  f16_to_f32_scalar(src, dst, n);
}

void f32_to_f16(const float* src, uint16_t* dst, size_t n) {
#if FX_HALF_X86
  if (g_isa >= 1) return f32_to_f16_avx2(src, dst, n);
#endif
  f32_to_f16_scalar(src, dst, n);
}

}  // namespace fx
