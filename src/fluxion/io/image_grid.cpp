#include "fluxion/io/image_grid.h"

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.h"

namespace fx::io {

Image image_grid(const Tensor& images, const GridOptions& opt) {
  FX_CHECK(images.defined() && (images.rank() == 3 || images.rank() == 4),
           "image_grid: expected [N, H, W] or [N, C, H, W], got {}",
           images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  const bool chw = images.rank() == 4;
  const int64_t n = images.dim(0), c = chw ? images.dim(1) : 1;
  const int64_t h = images.dim(-2), w = images.dim(-1);
  FX_CHECK(c == 1 || c == 3, "image_grid: {} channels in {}; expected 1 or 3", c,
           shape_str(images.shape()));
  FX_CHECK(n > 0 && h > 0 && w > 0, "image_grid: no pixels in {}", shape_str(images.shape()));
  FX_CHECK(opt.padding >= 0 && opt.columns >= 0, "image_grid: negative padding or columns");
  int64_t cols =
      opt.columns > 0 ? std::min(opt.columns, n) : (int64_t)std::ceil(std::sqrt((double)n) - 1e-9);
  int64_t rows = (n + cols - 1) / cols, pad = opt.padding;
  int64_t gw = cols * (w + pad) + pad, gh = rows * (h + pad) + pad;
  FX_CHECK(gw <= (1 << 15) && gh <= (1 << 15), "image_grid: {}x{} grid is too large", gw, gh);

  Image out((int)gw, (int)gh, (int)c, opt.pad_value);
  std::vector<float> v = images.to_f32_vector();
  const bool signed_range = opt.range == PixelRange::minus_one_to_one;
  for (int64_t i = 0; i < n; ++i) {
    int64_t ox = pad + (i % cols) * (w + pad), oy = pad + (i / cols) * (h + pad);
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          float val = v[((i * c + ch) * h + y) * w + x];
          float unit = signed_range ? (val + 1) * 0.5f : val;
          unit = std::isnan(unit) ? 0.0f : std::clamp(unit, 0.0f, 1.0f);
          out.at((int)(ox + x), (int)(oy + y))[ch] = (uint8_t)std::lround(unit * 255);
        }
  }
  return out;
}

}  // namespace fx::io
