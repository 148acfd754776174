#include "fluxion/io/raster.h"

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/io/font5x7.h"

namespace fx::io {

namespace {

// Liang-Barsky: clips the segment to [lo, hi] in both axes; false if nothing is left.
bool clip_segment(double* x0, double* y0, double* x1, double* y1, double xlo, double xhi,
                  double ylo, double yhi) {
  double t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {*x0 - xlo, xhi - *x0, *y0 - ylo, yhi - *y0};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    double t = q[i] / p[i];
    if (p[i] < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  double ox = *x0, oy = *y0;
  *x0 = ox + t0 * dx, *y0 = oy + t0 * dy;
  *x1 = ox + t1 * dx, *y1 = oy + t1 * dy;
  return true;
}

double frac(double v) { return v - std::floor(v); }

}  // namespace

Color palette_color(int i) {
  static constexpr Color kTab10[10] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return kTab10[((i % 10) + 10) % 10];
}

void blend_pixel(Image& img, int x, int y, Color c, float alpha) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height || !(alpha > 0)) return;
  alpha = std::min(alpha, 1.0f);
  uint8_t* p = img.at(x, y);
  if (img.channels == 1) {
    float v = (c[0] + c[1] + c[2]) / 3.0f;
    p[0] = (uint8_t)std::lround(p[0] + (v - p[0]) * alpha);
    return;
  }
  for (int k = 0; k < 3; ++k) p[k] = (uint8_t)std::lround(p[k] + (c[k] - p[k]) * alpha);
}

void fill_rect(Image& img, int x0, int y0, int x1, int y1, Color c, float alpha) {
  x0 = std::max(x0, 0), y0 = std::max(y0, 0);
  x1 = std::min(x1, img.width), y1 = std::min(y1, img.height);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) blend_pixel(img, x, y, c, alpha);
}

void draw_rect(Image& img, int x0, int y0, int x1, int y1, Color c) {
  fill_rect(img, x0, y0, x1, y0 + 1, c);
  fill_rect(img, x0, y1 - 1, x1, y1, c);
  fill_rect(img, x0, y0, x0 + 1, y1, c);
  fill_rect(img, x1 - 1, y0, x1, y1, c);
}

void draw_line(Image& img, double x0, double y0, double x1, double y1, Color c, float alpha) {
  if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1)) return;
  if (!clip_segment(&x0, &y0, &x1, &y1, -1, img.width, -1, img.height)) return;
  bool steep = std::fabs(y1 - y0) > std::fabs(x1 - x0);
  if (steep) std::swap(x0, y0), std::swap(x1, y1);
  if (x0 > x1) std::swap(x0, x1), std::swap(y0, y1);
  auto plot = [&](int a, int b, double w) {
    if (steep)
      blend_pixel(img, b, a, c, (float)(alpha * w));
    else
      blend_pixel(img, a, b, c, (float)(alpha * w));
  };
  double dx = x1 - x0, gradient = dx == 0 ? 0 : (y1 - y0) / dx;
  int xa = (int)std::lround(x0), xb = (int)std::lround(x1);
  if (xa == xb) {  // shorter than a pixel: a dot weighted by its length
    double y = (y0 + y1) / 2;
    double w = std::max(0.25, dx);
    plot(xa, (int)std::floor(y), (1 - frac(y)) * w);
    plot(xa, (int)std::floor(y) + 1, frac(y) * w);
    return;
  }
  for (int x = xa; x <= xb; ++x) {
    double y = y0 + gradient * (x - x0);
    // End pixels get the fraction of their width the segment covers.
    double cover = x == xa ? 1 - frac(x0 + 0.5) : x == xb ? frac(x1 + 0.5) : 1.0;
    int yi = (int)std::floor(y);
    plot(x, yi, (1 - frac(y)) * cover);
    plot(x, yi + 1, frac(y) * cover);
  }
}

void draw_disc(Image& img, double cx, double cy, double r, Color c, float alpha) {
  if (!std::isfinite(cx) || !std::isfinite(cy) || !(r >= 0)) return;
  r = std::max(r, 0.5);
  if (cx < -r - 1 || cy < -r - 1 || cx > img.width + r || cy > img.height + r) return;
  int x0 = (int)std::floor(cx - r - 0.5), x1 = (int)std::ceil(cx + r + 0.5);
  int y0 = (int)std::floor(cy - r - 0.5), y1 = (int)std::ceil(cy + r + 0.5);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      double d = std::hypot(x - cx, y - cy);
      double cover = std::clamp(r + 0.5 - d, 0.0, 1.0);
      if (cover > 0) blend_pixel(img, x, y, c, (float)(alpha * cover));
    }
}

void draw_text(Image& img, int x, int y, std::string_view text, Color c, int scale) {
  scale = std::max(scale, 1);
  int cx = x;
  for (char ch : text) {
    if (ch == '\n') {
      cx = x;
      y += kLineHeight * scale;
      continue;
    }
    const uint8_t* rows = glyph_rows(ch);
    for (int r = 0; r < kGlyphRows; ++r)
      for (int col = 0; col < kGlyphWidth; ++col)
        if (rows[r] & (0x10 >> col))
          fill_rect(img, cx + col * scale, y + r * scale, cx + (col + 1) * scale,
                    y + (r + 1) * scale, c);
    cx += kGlyphAdvance * scale;
  }
}

int text_width(std::string_view text, int scale) {
  size_t longest = 0, cur = 0;
  for (char ch : text) {
    cur = ch == '\n' ? 0 : cur + 1;
    longest = std::max(longest, cur);
  }
  return longest == 0 ? 0 : (int)(longest * kGlyphAdvance - 1) * std::max(scale, 1);
}

int text_height(std::string_view text, int scale) {
  if (text.empty()) return 0;
  int lines = 1 + (int)std::count(text.begin(), text.end(), '\n');
  return ((lines - 1) * kLineHeight + kGlyphHeight) * std::max(scale, 1);
}

Image side_by_side(const std::vector<Image>& images, int gap, Color background) {
  int w = 0, h = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    FX_CHECK(images[i].channels == 3, "side_by_side: image {} is not RGB", i);
    w += images[i].width + (i ? gap : 0);
    h = std::max(h, images[i].height);
  }
  Image out(w, h, 3);
  fill_rect(out, 0, 0, w, h, background);
  int x0 = 0;
  for (const Image& im : images) {
    if (im.width > 0)
      for (int y = 0; y < im.height; ++y)
        std::copy(im.at(0, y), im.at(0, y) + (size_t)im.width * 3, out.at(x0, y));
    x0 += im.width + gap;
  }
  return out;
}

}  // namespace fx::io
