// Labelled sequence sets for the LRU tasks: x is either i64 token ids [N, L] (vocab > 0)
// or f32 features [N, L, d_in]; y is i64 [N]. Generators are seeded with a mt19937_64
// and only its raw 64-bit output (not std:: distributions, whose algorithms differ
// between standard libraries), so a seed gives the same set everywhere.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::data {

struct SequenceSet {
  Tensor x;
  Tensor y;
  int64_t vocab = 0;  // > 0: x holds token ids below vocab
  int64_t n_classes = 0;
  int64_t size() const { return y.numel(); }
  int64_t length() const { return x.dim(1); }
  int64_t d_in() const { return vocab > 0 ? 1 : x.dim(2); }
};

// Rows idx of s, in that order.
SequenceSet take(const SequenceSet& s, const std::vector<int64_t>& idx);

class SeqRng {
 public:
  explicit SeqRng(uint64_t seed) : g_(seed) {}
  int64_t below(int64_t n) { return (int64_t)(g_() % (uint64_t)n); }  // bias < n / 2^64
  double uniform() { return (double)(g_() >> 11) * 0x1.0p-53; }
  uint64_t next() { return g_(); }

 private:
  std::mt19937_64 g_;
};

}  // namespace fx::data
