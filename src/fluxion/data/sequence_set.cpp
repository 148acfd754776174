#include "fluxion/data/sequence_set.h"

#include <cstring>

#include "fluxion/core/error.h"

namespace fx::data {

SequenceSet take(const SequenceSet& s, const std::vector<int64_t>& idx) {
  SequenceSet r = s;
  Shape xs = s.x.shape();
  xs[0] = (int64_t)idx.size();
  r.x = Tensor(xs, s.x.dtype());
  r.y = Tensor({(int64_t)idx.size()}, DType::i64);
  const size_t row = s.x.nbytes() / std::max<int64_t>(s.size(), 1);
  for (size_t i = 0; i < idx.size(); ++i) {
    FX_CHECK(idx[i] >= 0 && idx[i] < s.size(), "take: row {} out of range [0, {})", idx[i],
             s.size());
    std::memcpy((char*)r.x.raw() + i * row, (const char*)s.x.raw() + idx[i] * row, row);
    r.y.data<int64_t>()[i] = s.y.data<int64_t>()[idx[i]];
  }
  return r;
}

}  // namespace fx::data
