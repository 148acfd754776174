#include "fluxion/io/image.h"

#include <png.h>

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"

namespace fx::io {

Canvas::Canvas(int w, int h, Rgb bg) : width(w), height(h), pixels((size_t)w * h * 3) {
  for (size_t i = 0; i < (size_t)w * h; ++i)
    for (int k = 0; k < 3; ++k) pixels[3 * i + k] = bg[k];
}

void Canvas::set(int x, int y, Rgb c, float a) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  uint8_t* p = &pixels[3 * ((size_t)y * width + x)];
  for (int k = 0; k < 3; ++k) p[k] = (uint8_t)std::lround(p[k] * (1 - a) + c[k] * a);
}

void Canvas::dot(double x, double y, Rgb c, int r, float a) {
  int cx = (int)std::lround(x), cy = (int)std::lround(y);
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx)
      if (dx * dx + dy * dy <= r * r + r) set(cx + dx, cy + dy, c, a);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c, float a) {
  double len = std::max(std::fabs(x1 - x0), std::fabs(y1 - y0));
  int n = std::max(1, (int)std::ceil(len));
  if (n > 100000) return;  // far off-canvas: not worth drawing
  for (int i = 0; i <= n; ++i) {
    double t = (double)i / n;
    set((int)std::lround(x0 + t * (x1 - x0)), (int)std::lround(y0 + t * (y1 - y0)), c, a);
  }
}

void Canvas::rect(int x0, int y0, int x1, int y1, Rgb c) {
  line(x0, y0, x1, y0, c);
  line(x1, y0, x1, y1, c);
  line(x1, y1, x0, y1, c);
  line(x0, y1, x0, y0, c);
}

void Canvas::blit(const Canvas& s, int x, int y) {
  for (int j = 0; j < s.height; ++j)
    for (int i = 0; i < s.width; ++i) {
      const uint8_t* p = &s.pixels[3 * ((size_t)j * s.width + i)];
      set(x + i, y + j, {p[0], p[1], p[2]});
    }
}

namespace {
void png_append(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append((const char*)data, n);
}
void png_flush(png_structp) {}
}  // namespace

void write_png(const std::string& path, const Canvas& c) {
  std::string bytes;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  FX_CHECK(png && info, "libpng: out of memory writing '{}'", path);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fail("libpng failed writing '{}'", path);
  }
  png_set_write_fn(png, &bytes, png_append, png_flush);
  png_set_IHDR(png, info, c.width, c.height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < c.height; ++y)
    png_write_row(png, const_cast<png_bytep>(&c.pixels[3 * (size_t)y * c.width]));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  write_file_atomic(path, bytes);
}

Panel::Panel(int size, double lo_, double hi_) : canvas(size, size), lo(lo_), hi(hi_) {
  Rgb grid = {225, 225, 225};
  for (double v = std::ceil(lo); v <= hi; v += 1.0) {
    double p = (v - lo) / (hi - lo) * (size - 1);
    Rgb c = v == 0 ? Rgb{190, 190, 190} : grid;
    canvas.line(p, 0, p, size - 1, c);
    canvas.line(0, p, size - 1, p, c);
  }
  canvas.rect(0, 0, size - 1, size - 1, {120, 120, 120});
}

void Panel::scatter(const Tensor& pts, Rgb c, int radius, float alpha) {
  auto v = pts.to_f32_vector();
  int64_t d = pts.dim(1);
  double s = (canvas.width - 1) / (hi - lo);
  for (int64_t i = 0; i < pts.dim(0); ++i)
    canvas.dot((v[i * d] - lo) * s, (hi - v[i * d + 1]) * s, c, radius, alpha);
}

void Panel::paths(const std::vector<Tensor>& traj, int max_paths, Rgb c, float alpha) {
  if (traj.size() < 2) return;
  double s = (canvas.width - 1) / (hi - lo);
  int64_t n = std::min<int64_t>(max_paths, traj[0].dim(0)), d = traj[0].dim(1);
  for (size_t k = 0; k + 1 < traj.size(); ++k) {
    const float* a = traj[k].data<float>();
    const float* b = traj[k + 1].data<float>();
    for (int64_t i = 0; i < n; ++i)
      canvas.line((a[i * d] - lo) * s, (hi - a[i * d + 1]) * s, (b[i * d] - lo) * s,
                  (hi - b[i * d + 1]) * s, c, alpha);
  }
}

Canvas curve_plot(const std::vector<std::vector<double>>& ys, const std::vector<Rgb>& colors,
                  int width, int height) {
  Canvas c(width, height);
  double lo = INFINITY, hi = -INFINITY;
  size_t n = 0;
  for (const auto& y : ys)
    for (double v : y)
      if (v > 0 && std::isfinite(v)) {
        lo = std::min(lo, std::log10(v));
        hi = std::max(hi, std::log10(v));
        n = std::max(n, y.size());
      }
  if (n < 2 || !(hi >= lo)) return c;
  lo = std::floor(lo);
  hi = std::max(std::ceil(hi), lo + 1);
  int m = 10;
  auto py = [&](double v) { return m + (hi - std::log10(v)) / (hi - lo) * (height - 2 * m); };
  for (double e = lo; e <= hi; e += 1)
    c.line(m, py(std::pow(10, e)), width - m, py(std::pow(10, e)), {220, 220, 220});
  c.rect(m, m, width - m, height - m, {120, 120, 120});
  for (size_t k = 0; k < ys.size(); ++k) {
    const auto& y = ys[k];
    for (size_t i = 1; i < y.size(); ++i)
      if (y[i] > 0 && y[i - 1] > 0)
        c.line(m + (i - 1) * (width - 2.0 * m) / (n - 1), py(y[i - 1]),
               m + i * (width - 2.0 * m) / (n - 1), py(y[i]), colors[k % colors.size()]);
  }
  return c;
}

Canvas hstack(const std::vector<const Canvas*>& cs, int gap) {
  int w = 0, h = 0;
  for (const Canvas* c : cs) {
    w += c->width + gap;
    h = std::max(h, c->height);
  }
  Canvas out(std::max(1, w - gap), h);
  int x = 0;
  for (const Canvas* c : cs) {
    out.blit(*c, x, 0);
    x += c->width + gap;
  }
  return out;
}

}  // namespace fx::io
