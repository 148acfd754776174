#include "fluxion/data/recall.h"

#include "fluxion/core/error.h"

namespace fx::data {

SequenceSet make_recall(int64_t n, uint64_t seed, const RecallOptions& o) {
  FX_CHECK(n > 0, "recall: need a positive number of examples, got {}", n);
  FX_CHECK(o.length >= 2, "recall: length must be at least 2, got {}", o.length);
  FX_CHECK(o.symbols >= 2 && o.distractors >= 1,
           "recall: need >= 2 symbols and >= 1 distractor, got {} and {}", o.symbols,
           o.distractors);
  SeqRng rng(seed);
  SequenceSet s;
  s.vocab = o.symbols + o.distractors + 1;
  s.n_classes = o.symbols;
  s.x = Tensor({n, o.length}, DType::i64);
  s.y = Tensor({n}, DType::i64);
  const int64_t query = o.symbols + o.distractors;
  for (int64_t i = 0; i < n; ++i) {
    int64_t* row = s.x.data<int64_t>() + i * o.length;
    int64_t sym = rng.below(o.symbols);
    row[0] = sym;
    for (int64_t t = 1; t + 1 < o.length; ++t) row[t] = o.symbols + rng.below(o.distractors);
    row[o.length - 1] = query;
    s.y.data<int64_t>()[i] = sym;
  }
  return s;
}

}  // namespace fx::data
