// Plot axes: "nice" tick positions and labels (1-2-5 steps, or powers of ten on a log axis),
// the mapping from data to pixels, and drawing the frame, grid, ticks and tick labels.
#pragma once
#include <string>
#include <vector>

#include "fluxion/io/raster.h"

namespace fx::io {

struct AxisTicks {
  std::vector<double> values;  // in axis units (log10 of the value on a log axis)
  std::vector<std::string> labels;
};

// About `target` ticks at multiples of 1, 2 or 5 × 10^k inside [lo, hi].
AxisTicks linear_ticks(double lo, double hi, int target = 5);
// For an axis showing log10(value) over [log_lo, log_hi]: ticks at powers of ten (every k-th
// one when there are many), falling back to linear ticks when less than one decade is shown.
AxisTicks log10_ticks(double log_lo, double log_hi, int target = 5);
// The shortest label that tells ticks `step` apart: "0.25", "-3", "1200", "1.5e-05".
std::string tick_label(double value, double step);
// A range widened to be drawable: non-finite -> [0, 1], empty -> ±1 (or ±10% of its value).
void widen_degenerate(double* lo, double* hi);

// Data rectangle [xmin, xmax] x [ymin, ymax] shown in the pixel rectangle
// [left, right) x [top, bottom), y pointing up.
struct Axes {
  int left = 0, top = 0, right = 0, bottom = 0;
  double xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  double px(double x) const { return left + (x - xmin) / (xmax - xmin) * (right - left - 1); }
  double py(double y) const { return bottom - 1 - (y - ymin) / (ymax - ymin) * (bottom - top - 1); }
};

// Light grid lines at the ticks (unless grid is false), the frame, outward tick marks and
// their labels.
void draw_axes(Image& img, const Axes& axes, const AxisTicks& x_ticks, const AxisTicks& y_ticks,
               bool grid = true);

}  // namespace fx::io
