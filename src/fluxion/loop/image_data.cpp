#include "fluxion/loop/image_data.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"

namespace fx::loop {

bool is_image_data(const std::string& data) { return data == kFashionMnist; }

FmnistTrainSplit::FmnistTrainSplit(const std::string& dir)
    : images_(data::load_fashion_mnist(dir.empty() ? data::default_fashion_mnist_dir() : dir,
                                       /*train=*/true)
                  .images) {}

Tensor FmnistTrainSplit::draw(uint64_t seed, int64_t count) const {
  const int64_t n = size(), per = images_.numel() / n;
  FX_CHECK(count >= 1 && count <= n, "--n: {} real images per draw, the training split has {}",
           count, n);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // A partial Fisher-Yates shuffle: the first `count` positions only, so a smaller count
  // gives a prefix of a larger one.
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<int64_t> pick(i, n - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  Shape s = images_.shape();
  s[0] = count;
  Tensor out(s, DType::f32);
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(out.data<float>() + i * per, images_.data<float>() + order[i] * per,
                per * sizeof(float));
  return out;
}

Tensor images_to_unit_range(const Tensor& images) {
  std::vector<float> v = images.to_f32_vector();
  for (float& x : v) x = std::clamp(0.5f * (x + 1.0f), 0.0f, 1.0f);
  return Tensor::from_f32(v, images.shape());
}

}  // namespace fx::loop
