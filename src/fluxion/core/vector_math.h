// log and exp in double written as branch-free arithmetic and bit operations, so that GCC
// vectorises loops that call them (`#pragma omp simd`); libm's std::log / std::exp are calls
// it cannot vectorise without -ffast-math. For the PFGM field target's row pass (one log and
// one exp per charge). Accuracy: vlog within 2 ulp of std::log for normal positive x; vexp
// within 2 ulp of std::exp on [-700, 700]. No NaN/Inf/denormal handling: callers keep the
// arguments in range.
#pragma once
#include <bit>
#include <cstdint>

namespace fx {

// log(x) for a normal, positive, finite x: x = 2^e·m, m in [sqrt(1/2), sqrt(2)), and
// log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| <= 0.1716, as an odd series in s (11 terms).
inline double vlog(double x) {
  uint64_t bits = std::bit_cast<uint64_t>(x);
  // Move m into [sqrt(1/2), sqrt(2)) by biasing the exponent with the top mantissa bits:
  // adding (1 - sqrt(1/2)) worth of mantissa before splitting (the musl/fdlibm trick).
  bits += 0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull;
  const uint64_t e_bits = bits >> 52;  // the exponent e, biased by 1023
  bits = (bits & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull;
  const double m = std::bit_cast<double>(bits);
  // e as a double without an int64 -> double conversion (AVX2 has none): 2^52 + e_bits, exact.
  const double e =
      std::bit_cast<double>(e_bits | 0x4330000000000000ull) - 4503599627370496.0 - 1023.0;
  const double s = (m - 1.0) / (m + 1.0), z = s * s;
  double p = 1.0 / 21;
  p = p * z + 1.0 / 19;
  p = p * z + 1.0 / 17;
  p = p * z + 1.0 / 15;
  p = p * z + 1.0 / 13;
  p = p * z + 1.0 / 11;
  p = p * z + 1.0 / 9;
  p = p * z + 1.0 / 7;
  p = p * z + 1.0 / 5;
  p = p * z + 1.0 / 3;
  const double log_m = 2.0 * s + 2.0 * s * z * p;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  return e * kLn2Hi + (log_m + e * kLn2Lo);
}

// exp(x) for x in [-700, 700]: x = k·ln2 + f, |f| <= ln2/2, e^f by its Taylor series to f^13,
// times 2^k built in the exponent bits.
inline double vexp(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  // k = round(x·log2 e) by the 1.5·2^52 shift: its low mantissa bits then hold k + 1023.
  constexpr double kShift = 6755399441055744.0;  // 1.5·2^52
  const double t = x * kLog2e + (kShift + 1023.0);
  const uint64_t biased = std::bit_cast<uint64_t>(t);
  const double k = (t - kShift) - 1023.0;
  const double f = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * f + 1.0 / 479001600.0;
  p = p * f + 1.0 / 39916800.0;
  p = p * f + 1.0 / 3628800.0;
  p = p * f + 1.0 / 362880.0;
  p = p * f + 1.0 / 40320.0;
  p = p * f + 1.0 / 5040.0;
  p = p * f + 1.0 / 720.0;
  p = p * f + 1.0 / 120.0;
  p = p * f + 1.0 / 24.0;
  p = p * f + 1.0 / 6.0;
  p = p * f + 0.5;
  p = p * f + 1.0;
  p = p * f + 1.0;
  const double scale = std::bit_cast<double>((biased & 0x7ffull) << 52);
  return p * scale;
}

}  // namespace fx
