// Long-range recall with a controllable length: step 0 shows one of `symbols` tokens,
// steps 1..L-2 are random distractor tokens, the last step is a query token, and the label
// is the symbol from step 0. A model read out at the last step (pooling "last") must carry
// the symbol across L-1 steps of noise; chance is 1/symbols.
// Tokens: [0, symbols) symbols, [symbols, symbols + distractors) distractors, then query.
#pragma once
#include "fluxion/data/sequence_set.h"

namespace fx::data {

struct RecallOptions {
  int64_t length = 256;
  int64_t symbols = 8;
  int64_t distractors = 8;
};

SequenceSet make_recall(int64_t n, uint64_t seed, const RecallOptions& o = {});

}  // namespace fx::data
