// Tests that need Debian's dataset-fashion-mnist skip themselves when it is not installed.
#pragma once
#include <filesystem>

#include "fluxion/data/fashion_mnist.h"

inline bool have_fashion_mnist() {
  const std::string dir = fx::data::default_fashion_mnist_dir();
  return std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz") &&
         std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz");
}
