#include "fluxion/data/seq_fashion_mnist.h"

#include <numeric>

#include "fluxion/data/fashion_mnist.h"

namespace fx::data {

std::vector<int64_t> pixel_permutation(uint64_t seed) {
  std::vector<int64_t> p(784);
  std::iota(p.begin(), p.end(), 0);
  SeqRng rng(seed);
  for (int64_t i = 783; i > 0; --i) std::swap(p[i], p[rng.below(i + 1)]);  // Fisher-Yates
  return p;
}

SequenceSet make_sequential_fashion_mnist(const std::string& dir, bool train, int64_t limit,
                                          bool permuted, uint64_t perm_seed) {
  LabeledImages im = load_fashion_mnist(dir, train, limit);
  const int64_t n = im.labels.numel();
  std::vector<int64_t> order(784);
  if (permuted)
    order = pixel_permutation(perm_seed);
  else
    std::iota(order.begin(), order.end(), 0);
  SequenceSet s;
  s.n_classes = 10;
  s.y = im.labels;
  s.x = Tensor({n, 784, 1}, DType::f32);
  const float* src = im.images.data<float>();
  float* dst = s.x.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < 784; ++t)
      dst[i * 784 + t] = (src[i * 784 + order[t]] - 0.2860f) / 0.3530f;
  return s;
}

}  // namespace fx::data
