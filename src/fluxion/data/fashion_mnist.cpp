#include "fluxion/data/fashion_mnist.h"

#include <sys/stat.h>

#include <cstdlib>

#include "fluxion/core/error.h"
#include "fluxion/data/idx_file.h"

namespace fx::data {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Debian ships the files gzipped; accept unpacked copies too.
std::string find_file(const std::string& dir, const std::string& stem) {
  for (const char* suffix : {".gz", ""}) {
    const std::string path = dir + "/" + stem + suffix;
    if (exists(path)) return path;
  }
  fail(
      "Fashion-MNIST file '{}/{}.gz' not found (install Debian's dataset-fashion-mnist package, "
      "or point --data-dir at a folder holding the four IDX files)",
      dir, stem);
}

}  // namespace

std::string default_fashion_mnist_dir() {
  if (const char* env = std::getenv("FLUXION_FASHION_MNIST_DIR"); env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

const std::array<std::string_view, 10>& fashion_mnist_classes() {
  static const std::array<std::string_view, 10> names = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

LabeledImages load_fashion_mnist(const std::string& dir, bool train, int64_t limit) {
  const std::string split = train ? "train" : "t10k";
  const std::string image_path = find_file(dir, split + "-images-idx3-ubyte");
  const std::string label_path = find_file(dir, split + "-labels-idx1-ubyte");
  const IdxArray images = read_idx_file(image_path);
  const IdxArray labels = read_idx_file(label_path);
  if (images.dims.size() != 3)
    fail("{}: images must be a rank-3 IDX array [N, H, W], got rank {}", image_path,
         images.dims.size());
  if (labels.dims.size() != 1)
    fail("{}: labels must be a rank-1 IDX array [N], got rank {}", label_path, labels.dims.size());
  if (images.dims[0] != labels.dims[0])
    fail("{} holds {} images but {} holds {} labels", image_path, images.dims[0], label_path,
         labels.dims[0]);
  int64_t n = images.dims[0];
  if (limit > 0 && limit < n) n = limit;
  const int64_t h = images.dims[1], w = images.dims[2];

  LabeledImages out{Tensor(Shape{n, 1, h, w}, DType::f32), Tensor(Shape{n}, DType::i64)};
  float* px = out.images.data<float>();
  for (int64_t i = 0; i < n * h * w; ++i) px[i] = images.values[size_t(i)] * (1.0f / 255.0f);
  int64_t* lab = out.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t c = labels.values[size_t(i)];
    if (c >= fashion_mnist_classes().size())
      fail("{}: label {} of example {} is outside the 10 classes", label_path, int(c), i);
    lab[i] = c;
  }
  return out;
}

}  // namespace fx::data
