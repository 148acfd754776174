// An RGB canvas with the few drawing primitives run pictures need (points, lines,
// frames), written as PNG through libpng. Captions and numbers go in the report text.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::io {

using Rgb = std::array<uint8_t, 3>;

struct Canvas {
  int width, height;
  std::vector<uint8_t> pixels;  // row-major RGB
  Canvas(int w, int h, Rgb background = {255, 255, 255});
  void set(int x, int y, Rgb c, float alpha = 1.0f);
  void dot(double x, double y, Rgb c, int radius = 1, float alpha = 1.0f);
  void line(double x0, double y0, double x1, double y1, Rgb c, float alpha = 1.0f);
  void rect(int x0, int y0, int x1, int y1, Rgb c);
  void blit(const Canvas& src, int x, int y);
};

void write_png(const std::string& path, const Canvas& c);  // atomic

// A square panel mapping data coordinates [lo, hi]² to pixels.
struct Panel {
  Canvas canvas;
  double lo, hi;
  Panel(int size, double lo, double hi);
  void scatter(const Tensor& pts, Rgb c, int radius = 1, float alpha = 0.6f);
  void paths(const std::vector<Tensor>& trajectory, int max_paths, Rgb c, float alpha = 0.35f);
};

// Curves (e.g. loss) as polylines on a log-y plot with light grid lines at powers of 10.
Canvas curve_plot(const std::vector<std::vector<double>>& ys, const std::vector<Rgb>& colors,
                  int width = 640, int height = 360);

// Panels side by side with a small gap.
Canvas hstack(const std::vector<const Canvas*>& canvases, int gap = 8);

}  // namespace fx::io
