// A grid of small images in one picture, for image models: [N, H, W] (grey) or [N, C, H, W]
// with C = 1 (grey) or 3 (RGB), values in [-1, 1] or [0, 1] (clamped; NaN shows as 0).
#pragma once
#include <cstdint>

#include "fluxion/core/tensor.h"
#include "fluxion/io/png.h"

namespace fx::io {

enum class PixelRange { minus_one_to_one, zero_to_one };

struct GridOptions {
  PixelRange range = PixelRange::minus_one_to_one;
  int64_t columns = 0;  // 0: ceil(sqrt(N))
  int padding = 2;      // pixels between and around tiles
  uint8_t pad_value = 255;
};

// Grey input gives a 1-channel image, RGB input a 3-channel one.
Image image_grid(const Tensor& images, const GridOptions& options = {});

}  // namespace fx::io
