// Philox fills; the stream layout is documented in philox.h.
#include "fluxion/core/philox.h"

#include <cmath>
#include <numbers>

#include "fluxion/core/error.h"

namespace fx {

namespace {

// Below this many elements a fill runs on the calling thread: starting a parallel region
// (a few microseconds) costs more than generating the numbers. 4,096 doubles take ~25 us here
// (a Philox block ~12 ns), so the toy samplers' 1,024-point batches split over the threads.
constexpr int64_t kParallelMin = int64_t(1) << 12;

std::array<uint32_t, 2> key_of(uint64_t seed) { return {uint32_t(seed), uint32_t(seed >> 32)}; }

std::array<uint32_t, 4> block_at(uint64_t offset, std::array<uint32_t, 2> key, int64_t b) {
  uint64_t ub = uint64_t(b);
  return Philox::block({uint32_t(offset), uint32_t(offset >> 32), uint32_t(ub), uint32_t(ub >> 32)},
                       key);
}

inline float u24(uint32_t w) { return float(w >> 8) * 0x1p-24f; }
inline double u53(uint32_t lo, uint32_t hi) {
  return double(((uint64_t(hi) << 32) | lo) >> 11) * 0x1p-53;
}

// Calls body(b) for every block b in [0, nblocks). The partition among threads cannot change
// any value, since body(b) writes only the elements of block b and reads nothing shared.
template <typename Body>
void for_each_block(int64_t nblocks, int64_t n, Body&& body) {
  if (n >= kParallelMin) {
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nblocks; ++b) body(b);
  } else {
    for (int64_t b = 0; b < nblocks; ++b) body(b);
  }
}

void check_n(int64_t n, const char* what) { FX_CHECK(n >= 0, "{}: negative count {}", what, n); }

}  // namespace

void philox_uniform(uint64_t seed, uint64_t offset, float* out, int64_t n) {
  check_n(n, "philox_uniform");
  auto key = key_of(seed);
  for_each_block((n + 3) / 4, n, [&](int64_t b) {
    auto w = block_at(offset, key, b);
    int64_t i0 = 4 * b;
    if (i0 + 4 <= n) {
      for (int j = 0; j < 4; ++j) out[i0 + j] = u24(w[j]);
    } else {
      for (int j = 0; i0 + j < n; ++j) out[i0 + j] = u24(w[j]);
    }
  });
}

void philox_uniform(uint64_t seed, uint64_t offset, double* out, int64_t n) {
  check_n(n, "philox_uniform");
  auto key = key_of(seed);
  for_each_block((n + 1) / 2, n, [&](int64_t b) {
    auto w = block_at(offset, key, b);
    int64_t i0 = 2 * b;
    out[i0] = u53(w[0], w[1]);
    if (i0 + 1 < n) out[i0 + 1] = u53(w[2], w[3]);
  });
}

void philox_uniform_range(uint64_t seed, uint64_t offset, int64_t first, double* out, int64_t n) {
  check_n(n, "philox_uniform_range");
  FX_CHECK(first >= 0, "philox_uniform_range: negative first element {}", first);
  auto key = key_of(seed);
  for (int64_t k = 0; k < n;) {
    int64_t i = first + k;
    auto w = block_at(offset, key, i / 2);
    if (i % 2 == 0) out[k++] = u53(w[0], w[1]);
    if (k < n) out[k++] = u53(w[2], w[3]);
  }
}

void philox_normal(uint64_t seed, uint64_t offset, float* out, int64_t n) {
  check_n(n, "philox_normal");
  auto key = key_of(seed);
  constexpr float two_pi = 2.0f * std::numbers::pi_v<float>;
  // One block = 4 float uniforms = 2 Box-Muller pairs = elements 4b .. 4b+3.
  for_each_block((n + 3) / 4, n, [&](int64_t b) {
    auto w = block_at(offset, key, b);
    float z[4];
    for (int p = 0; p < 2; ++p) {
      float u1 = u24(w[2 * p]), u2 = u24(w[2 * p + 1]);
      float r = std::sqrt(-2.0f * std::log(1.0f - u1));
      float t = two_pi * u2;
      z[2 * p] = r * std::cos(t);
      z[2 * p + 1] = r * std::sin(t);
    }
    int64_t i0 = 4 * b;
    for (int j = 0; j < 4 && i0 + j < n; ++j) out[i0 + j] = z[j];
  });
}

void philox_normal(uint64_t seed, uint64_t offset, double* out, int64_t n) {
  check_n(n, "philox_normal");
  auto key = key_of(seed);
  constexpr double two_pi = 2.0 * std::numbers::pi;
  // One block = 2 double uniforms = 1 Box-Muller pair = elements 2b, 2b+1.
  for_each_block((n + 1) / 2, n, [&](int64_t b) {
    auto w = block_at(offset, key, b);
    double u1 = u53(w[0], w[1]), u2 = u53(w[2], w[3]);
    double r = std::sqrt(-2.0 * std::log(1.0 - u1));
    double t = two_pi * u2;
    int64_t i0 = 2 * b;
    out[i0] = r * std::cos(t);
    if (i0 + 1 < n) out[i0 + 1] = r * std::sin(t);
  });
}

}  // namespace fx
