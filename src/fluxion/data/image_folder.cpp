#include "fluxion/data/image_folder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/io/png.h"

namespace fx::data {

namespace fs = std::filesystem;

namespace {

// One channel plane (w x h floats) resampled to s x s: area averaging when shrinking,
// bilinear when growing (per axis).
std::vector<float> resize_plane(const std::vector<float>& src, int w, int h, int64_t s) {
  auto axis = [](int n, int64_t s, int64_t o, std::vector<std::pair<int, double>>& taps) {
    taps.clear();
    double scale = double(n) / double(s);
    if (scale >= 1.0) {  // area: source interval [o*scale, (o+1)*scale)
      double a = o * scale, b = (o + 1) * scale;
      for (int i = (int)std::floor(a); i < std::min<double>(n, std::ceil(b)); ++i) {
        double wgt = std::min<double>(b, i + 1) - std::max<double>(a, i);
        if (wgt > 0) taps.emplace_back(i, wgt / scale);
      }
    } else {  // bilinear on pixel centres
      double c = std::clamp((o + 0.5) * scale - 0.5, 0.0, double(n - 1));
      int i0 = (int)std::floor(c), i1 = std::min(i0 + 1, n - 1);
      taps.emplace_back(i0, 1.0 - (c - i0));
      if (i1 != i0) taps.emplace_back(i1, c - i0);
    }
  };
  std::vector<float> out(s * s);
  std::vector<std::pair<int, double>> ty, tx;
  for (int64_t oy = 0; oy < s; ++oy) {
    axis(h, s, oy, ty);
    for (int64_t ox = 0; ox < s; ++ox) {
      axis(w, s, ox, tx);
      double acc = 0;
      for (auto [y, wy] : ty)
        for (auto [x, wx] : tx) acc += wy * wx * src[(size_t)y * w + x];
      out[oy * s + ox] = (float)acc;
    }
  }
  return out;
}

}  // namespace

Tensor image_to_tensor(const io::Image& img, int64_t size, int64_t channels, bool crop,
                       const std::string& name) {
  FX_CHECK(size >= 1 && size <= 4096, "image folder: size {} must be in [1, 4096]", size);
  FX_CHECK(channels == 1 || channels == 3, "image folder: channels {} must be 1 or 3", channels);
  int w = img.width, h = img.height, x0 = 0, y0 = 0;
  FX_CHECK(w > 0 && h > 0 && img.pixels.size() == (size_t)w * h * img.channels,
           "image '{}' is empty or inconsistent ({}x{}x{})", name, w, h, img.channels);
  if (w != h) {
    FX_CHECK(crop,
             "image '{}' is {}x{}, not square: crop or pad it, or pass --crop to use the centred "
             "square",
             name, w, h);
    int m = std::min(w, h);
    x0 = (w - m) / 2;
    y0 = (h - m) / 2;
    w = h = m;
  }
  int64_t plane = size * size;
  Tensor out({channels, size, size}, DType::f32);
  for (int64_t c = 0; c < channels; ++c) {
    std::vector<float> p((size_t)w * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const uint8_t* px = img.at(x0 + x, y0 + y);
        double v;
        if (img.channels == 1)
          v = px[0];
        else if (channels == 3)
          v = px[c];
        else
          v = 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];  // ITU-R BT.601 luma
        p[(size_t)y * w + x] = float(v / 255.0);
      }
    std::vector<float> r = resize_plane(p, w, h, size);
    std::memcpy(out.data<float>() + c * plane, r.data(), plane * sizeof(float));
  }
  return out;
}

Tensor load_png_folder(const std::string& dir, int64_t size, int64_t channels, bool crop) {
  FX_CHECK(size >= 1 && size <= 4096, "image folder: size {} must be in [1, 4096]", size);
  FX_CHECK(channels == 1 || channels == 3, "image folder: channels {} must be 1 or 3", channels);
  std::error_code ec;
  FX_CHECK(fs::is_directory(dir, ec), "image folder '{}' does not exist or is not a folder", dir);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (e.is_regular_file() && ext == ".png") files.push_back(e.path());
  }
  FX_CHECK(!ec, "cannot list image folder '{}': {}", dir, ec.message());
  FX_CHECK(!files.empty(), "image folder '{}' holds no .png files", dir);
  std::sort(files.begin(), files.end());
  int64_t plane = size * size;
  Tensor out;
  try {
    out = Tensor({(int64_t)files.size(), channels, size, size}, DType::f32);
  } catch (const Error& e) {  // name the folder and the sizes that asked for the memory
    fail("image folder '{}': {} images of {}x{}x{}: {}", dir, files.size(), channels, size, size,
         e.what());
  }
  float* o = out.data<float>();
  for (size_t k = 0; k < files.size(); ++k) {
    Tensor one =
        image_to_tensor(io::read_png(files[k].string()), size, channels, crop, files[k].string());
    std::memcpy(o + (int64_t)k * channels * plane, one.raw(), one.nbytes());
  }
  return out;
}

ImageBatches::ImageBatches(const Tensor& images) {
  FX_CHECK(images.rank() == 4 && images.dtype() == DType::f32 && images.dim(0) > 0,
           "image batches: need f32 [N, C, H, W] images, got {}{}", dtype_name(images.dtype()),
           shape_str(images.shape()));
  images_ = images.clone();
  float* p = images_.data<float>();
  for (int64_t i = 0; i < images_.numel(); ++i) p[i] = 2.0f * p[i] - 1.0f;
}

Tensor ImageBatches::batch(int64_t size, uint64_t seed, int64_t index, bool flip) const {
  const Shape& s = images_.shape();
  int64_t C = s[1], H = s[2], W = s[3], per = C * H * W, N = s[0];
  std::vector<double> u(2 * size);
  philox_uniform(seed, (uint64_t)index, u.data(), (int64_t)u.size());
  Tensor out({size, C, H, W}, DType::f32);
  const float* src = images_.data<float>();
  float* dst = out.data<float>();
  for (int64_t b = 0; b < size; ++b) {
    int64_t row = std::min<int64_t>(N - 1, (int64_t)(u[2 * b] * N));
    const float* a = src + row * per;
    float* d = dst + b * per;
    if (flip && u[2 * b + 1] < 0.5) {
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) d[(c * H + y) * W + x] = a[(c * H + y) * W + (W - 1 - x)];
    } else {
      std::memcpy(d, a, per * sizeof(float));
    }
  }
  return out;
}

}  // namespace fx::data
