// Philox4x32-10 counter-based random numbers (Salmon, Moraes, Dror, Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011). Philox::block is bit-identical to Random123's
// philox4x32_R(10, ctr, key) (checked against its kat_vectors in tests/test_philox.cpp), the
// same block function as cuRAND's Philox4_32_10; the fill layout below is fluxion's own.
//
// A counter-based generator is a pure function block(counter, key) -> 128 random bits, so
// every output element is a function of (seed, offset, index) alone: results do not depend
// on the number of threads, on chunking, or on what was generated before.
//
// Stream layout used by the fill functions (key = seed, counter word 0 is least significant):
//   key     = { seed & 0xffffffff, seed >> 32 }
//   counter = { offset & 0xffffffff, offset >> 32, b & 0xffffffff, b >> 32 }  for block b
//   float  uniform element i: block b = i / 4, word w = i % 4, value (w >> 8) * 2^-24
//   double uniform element i: block b = i / 2, bits = word[2*(i%2)] | word[2*(i%2)+1] << 32,
//                             value (bits >> 11) * 2^-53
// So `offset` selects an independent stream (it is not a skip-ahead): streams with different
// offsets never share a counter, for any n < 2^66 elements. A prefix of a longer fill equals
// a shorter fill with the same (seed, offset).
//
// Normals (Box-Muller): element pair (2p, 2p+1) is built from the uniforms u1 = U[2p],
// u2 = U[2p+1] of the same-precision uniform stream above:
//   r = sqrt(-2 log(1 - u1)),  out[2p] = r cos(2 pi u2),  out[2p+1] = r sin(2 pi u2).
// 1 - u1 lies in (0, 1] and is exact, so the log is always finite. For odd n the last pair's
// sine half is dropped. float normals are computed in float, double normals in double; both
// use the C library's log/sin/cos, so bits can differ between libm versions, never between
// thread counts. Large fills are split over OpenMP threads by block.
#pragma once
#include <array>
#include <cstdint>

namespace fx {

struct Philox {
  static constexpr uint32_t kMul0 = 0xD2511F53u;  // round multipliers
  static constexpr uint32_t kMul1 = 0xCD9E8D57u;
  static constexpr uint32_t kWeyl0 = 0x9E3779B9u;  // key schedule: golden ratio
  static constexpr uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1
  static constexpr int kRounds = 10;

  // One Philox4x32-10 block: 10 rounds, the key bumped by the Weyl constants between rounds.
  static constexpr std::array<uint32_t, 4> block(std::array<uint32_t, 4> counter,
                                                 std::array<uint32_t, 2> key) {
    for (int r = 0; r < kRounds; ++r) {
      if (r > 0) {
        key[0] += kWeyl0;
        key[1] += kWeyl1;
      }
      uint64_t p0 = uint64_t(kMul0) * counter[0];
      uint64_t p1 = uint64_t(kMul1) * counter[2];
      counter = {uint32_t(p1 >> 32) ^ counter[1] ^ key[0], uint32_t(p1),
                 uint32_t(p0 >> 32) ^ counter[3] ^ key[1], uint32_t(p0)};
    }
    return counter;
  }
};

// n uniform floats in [0, 1), 24 random bits each (multiples of 2^-24). n must be >= 0.
void philox_uniform(uint64_t seed, uint64_t offset, float* out, int64_t n);
// n uniform doubles in [0, 1), 53 random bits each (multiples of 2^-53).
void philox_uniform(uint64_t seed, uint64_t offset, double* out, int64_t n);
// Elements [first, first + n) of the double uniform stream above, on the calling thread: the
// same values as those elements of a philox_uniform fill, so callers can split one stream
// over their own threads.
void philox_uniform_range(uint64_t seed, uint64_t offset, int64_t first, double* out, int64_t n);
// n standard normals by Box-Muller (see the layout above).
void philox_normal(uint64_t seed, uint64_t offset, float* out, int64_t n);
void philox_normal(uint64_t seed, uint64_t offset, double* out, int64_t n);

}  // namespace fx
