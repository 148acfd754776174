// Branch-free float math that GCC auto-vectorises (exp/log via exponent tricks and
// polynomials, as Cephes/Sleef do). Max errors over the whole float range, measured by
// tests/test_ops_vector_math.cpp: see there (at most 2.2 ulp for normal results); double
// precision keeps using libm.
//
// The polynomials' steps are written as fused multiply-adds (fmadd below). The code is built
// with -ffp-contract=off, so these are the only FMAs, and every build computes the same
// bits: the reference kernels' x86-64-v3 clones and the generated kernels (-mfma) with the
// instruction, the baseline clone and the x86-64 kernel target with libm's exactly rounded
// fmaf (slow, but only on CPUs without FMA). Written this way the SiLU loop takes 9 instead
// of 12 cycles per 16 values here (AVX-512, Zen 5).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace fx::cpu {

static inline float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
static inline int32_t float_to_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, 4);
  return i;
}

// a * b + c rounded once (GCC turns it into vfmadd where the target has FMA).
static inline float fmadd(float a, float b, float c) { return __builtin_fmaf(a, b, c); }

// exp(x) = 2^n * exp(r), r = x - n ln2 in [-ln2/2, ln2/2], for x already clamped to
// [-104, 88.8] (or NaN).
static inline float exp_of_clamped(float x) {
  // Round to nearest with the 1.5·2^23 trick: plain arithmetic, so it vectorises even
  // on baseline SSE2 (std::nearbyint is a libm call there).
  float n = fmadd(x, 1.44269504088896341f, 12582912.0f) - 12582912.0f;
  float r = fmadd(n, -0.693359375f, x);
  r = fmadd(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = fmadd(p, r, 1.3981999507e-3f);
  p = fmadd(p, r, 8.3334519073e-3f);
  p = fmadd(p, r, 4.1665795894e-2f);
  p = fmadd(p, r, 1.6666665459e-1f);
  p = fmadd(p, r, 5.0000001201e-1f);
  p = fmadd(p * r, r, r) + 1.0f;
  // Split the scale in two so that n down to -150 (subnormal results) stays exact.
  int32_t ni = (int32_t)n;
  // (A shift, not / 2: no sign fix-up; the two factors still multiply to 2^n exactly.)
  int32_t n1 = ni >> 1, n2 = ni - n1;
  return p * bits_to_float((n1 + 127) << 23) * bits_to_float((n2 + 127) << 23);
}

static inline float fast_exp(float x) {
  // Clamp just outside the finite range, so that exp overflows to inf above
  // ln(FLT_MAX) = 88.72284 and underflows to 0 below ln(2^-150) = -103.97208, as libm does.
  x = x > 88.8f ? 88.8f : x;
  x = x < -104.0f ? -104.0f : x;
  return exp_of_clamped(x);
}

// fast_exp for x <= 0 or NaN (sigmoid's exp(-|x|)), which the overflow clamp never
// touches: the same bits, two instructions fewer in the loops that are all sigmoid.
static inline float fast_exp_nonpositive(float x) {
  x = x < -104.0f ? -104.0f : x;
  return exp_of_clamped(x);
}

static inline float fast_log(float x_in) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log x = e ln2 + log m (Cephes logf).
  // Subnormals are scaled into the normal range first.
  bool subnormal = x_in > 0.0f && x_in < 1.17549435e-38f;
  float x = subnormal ? x_in * 8388608.0f : x_in;
  int32_t bits = float_to_bits(x);
  int32_t e = ((bits >> 23) & 0xff) - 126 - (subnormal ? 23 : 0);
  float m = bits_to_float((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  bool small = m < 0.70710678f;
  e = small ? e - 1 : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  float z = m * m;
  float y = 7.0376836292e-2f;
  y = fmadd(y, m, -1.1514610310e-1f);
  y = fmadd(y, m, 1.1676998740e-1f);
  y = fmadd(y, m, -1.2420140846e-1f);
  y = fmadd(y, m, 1.4249322787e-1f);
  y = fmadd(y, m, -1.6668057665e-1f);
  y = fmadd(y, m, 2.0000714765e-1f);
  y = fmadd(y, m, -2.4999993993e-1f);
  y = fmadd(y, m, 3.3333331174e-1f);
  y = y * m * z;
  float fe = (float)e;
  y = fmadd(fe, -2.12194440e-4f, y);
  y = fmadd(-0.5f, z, y);
  float r = fmadd(fe, 0.693359375f, m + y);
  // IEEE special cases, as libm: log(0) = -inf, log(<0) = nan, log(inf) = inf, nan -> nan
  r = x == 0.0f ? -INFINITY : r;
  r = x < 0.0f ? NAN : r;
  r = x == INFINITY ? INFINITY : r;
  r = x != x ? x : r;
  return r;
}

// 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0 (e = exp(-|x|) in both), so
// that tiny results keep full relative precision down to the subnormals and
// sigmoid(-inf) = 0.
static inline float fast_sigmoid(float x) {
  float e = fast_exp_nonpositive(-std::fabs(x));
  float num = x < 0.0f ? e : 1.0f;
  return num / (1.0f + e);
}

// Cephes tanhf: an odd polynomial for |x| < 0.625, where 1 - 2 / (exp(2x) + 1) would
// cancel (hundreds of ulps near 0.005), and that formula with the sign of x above.
static inline float fast_tanh(float x) {
  float ax = std::fabs(x);
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = fmadd(p, z, 2.06390887954e-2f);
  p = fmadd(p, z, -5.37397155531e-2f);
  p = fmadd(p, z, 1.33314422036e-1f);
  p = fmadd(p, z, -3.33332819422e-1f);
  float small = fmadd(x, z * p, x);
  float big = std::copysign(1.0f - 2.0f / (fast_exp(2.0f * ax) + 1.0f), x);
  float r = ax < 0.625f ? small : big;
  return x == 0.0f ? x : r;  // keeps the sign of -0
}

// erf as x * P(x^2) / Q(x^2), a rational minimax fit on [-4, 4] (Eigen's and XLA's f32
// erf); beyond 4, erf rounds to +-1 in float and the clamp gives that. x * (P / Q) rather
// than x * P / Q keeps tiny x out of the subnormals. No libm call, so it vectorises.
static inline float fast_erf(float x) {
  float c = x > 4.0f ? 4.0f : x;
  c = c < -4.0f ? -4.0f : c;
  float z = c * c;
  float p = -2.72614225801306e-10f;
  p = fmadd(p, z, 2.77068142495902e-08f);
  p = fmadd(p, z, -2.10102402082508e-06f);
  p = fmadd(p, z, -5.69250639462346e-05f);
  p = fmadd(p, z, -7.34990630326855e-04f);
  p = fmadd(p, z, -2.95459980854025e-03f);
  p = fmadd(p, z, -1.60960333262415e-02f);
  float q = -1.45660718464996e-05f;
  q = fmadd(q, z, -2.13374055278905e-04f);
  q = fmadd(q, z, -1.68282697438203e-03f);
  q = fmadd(q, z, -7.37332916720468e-03f);
  q = fmadd(q, z, -1.42647390514189e-02f);
  return c * (p / q);
}

}  // namespace fx::cpu
