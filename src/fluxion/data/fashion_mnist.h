// Fashion-MNIST (Xiao et al. 2017) from the gzipped IDX files that Debian's
// `dataset-fashion-mnist` package installs: 60,000 training and 10,000 test images of 28x28
// grey-scale garments in 10 classes.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "fluxion/core/tensor.h"

namespace fx::data {

struct LabeledImages {
  Tensor images;  // f32 [N, 1, H, W], pixel values scaled to [0, 1]
  Tensor labels;  // i64 [N], class indices 0..9
};

// $FLUXION_FASHION_MNIST_DIR if set, else /usr/share/datasets/fashion-mnist.
std::string default_fashion_mnist_dir();

// The class names, in label order (T-shirt/top ... Ankle boot).
const std::array<std::string_view, 10>& fashion_mnist_classes();

// Loads the train (60,000) or test (10,000) split from `dir`, which holds
// {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. `limit` > 0 keeps only the first
// `limit` examples. Throws fx::Error naming the path when a file is missing, truncated, has a
// bad magic number, or images and labels disagree in count or range.
LabeledImages load_fashion_mnist(const std::string& dir, bool train, int64_t limit = -1);

}  // namespace fx::data
