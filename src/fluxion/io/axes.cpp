#include "fluxion/io/axes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "fluxion/io/font5x7.h"

namespace fx::io {

namespace {
constexpr Color kFrame{60, 60, 60}, kGrid{232, 232, 232}, kLabel{40, 40, 40};

// "1.5e-05" -> "1.5e-5", "2e+06" -> "2e6": fewer pixels for the same information.
std::string compact_exponent(std::string s) {
  size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mant = s.substr(0, e), exp = s.substr(e + 1);
  bool neg = !exp.empty() && exp[0] == '-';
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) exp.erase(0, 1);
  exp.erase(0, std::min(exp.find_first_not_of('0'), exp.size() - 1));
  return mant + "e" + (neg ? "-" : "") + exp;
}
}  // namespace

void widen_degenerate(double* lo, double* hi) {
  if (!std::isfinite(*lo) || !std::isfinite(*hi) || *lo > *hi) {
    *lo = 0, *hi = 1;
    return;
  }
  double span = *hi - *lo, mag = std::max(std::fabs(*lo), std::fabs(*hi));
  if (span <= 1e-12 * std::max(1.0, mag)) {
    double pad = mag > 0 ? 0.1 * mag : 1.0;
    *lo -= pad, *hi += pad;
  }
}

std::string tick_label(double v, double step) {
  if (std::fabs(v) < step * 1e-6) v = 0;  // no "-0" or "1.2e-17" at the origin
  double mag = std::fabs(v);
  if (mag != 0 && (mag >= 1e5 || mag < 1e-3 || step < 1e-4))
    return compact_exponent(fmt::format("{:.3g}", v));
  int decimals = std::max(0, (int)-std::floor(std::log10(step) + 1e-9));
  return fmt::format("{:.{}f}", v, decimals);
}

AxisTicks linear_ticks(double lo, double hi, int target) {
  widen_degenerate(&lo, &hi);
  double raw = (hi - lo) / std::max(target, 1);
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = p;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) {
      step = m * p;
      break;
    }
  AxisTicks t;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) {
    t.values.push_back(k * step);
    t.labels.push_back(tick_label(k * step, step));
  }
  return t;
}

AxisTicks log10_ticks(double lo, double hi, int target) {
  widen_degenerate(&lo, &hi);
  int first = (int)std::ceil(lo - 1e-9), last = (int)std::floor(hi + 1e-9);
  if (last - first < 1) {  // under two powers of ten visible: label actual values
    AxisTicks lin = linear_ticks(std::pow(10.0, lo), std::pow(10.0, hi), target);
    AxisTicks t;
    for (size_t i = 0; i < lin.values.size(); ++i)
      if (lin.values[i] > 0) {
        t.values.push_back(std::log10(lin.values[i]));
        t.labels.push_back(lin.labels[i]);
      }
    return t;
  }
  int every = std::max(1, (last - first + target) / std::max(target, 1));
  AxisTicks t;
  for (int e = first; e <= last; e += every) {
    t.values.push_back(e);
    t.labels.push_back(e >= -3 && e <= 4 ? tick_label(std::pow(10.0, e), std::pow(10.0, e))
                                         : fmt::format("1e{}", e));
  }
  return t;
}

void draw_axes(Image& img, const Axes& a, const AxisTicks& xt, const AxisTicks& yt, bool grid) {
  auto inside_x = [&](double v) { return v >= a.xmin && v <= a.xmax; };
  auto inside_y = [&](double v) { return v >= a.ymin && v <= a.ymax; };
  for (double v : xt.values)
    if (grid && inside_x(v))
      fill_rect(img, (int)std::lround(a.px(v)), a.top, (int)std::lround(a.px(v)) + 1, a.bottom,
                kGrid);
  for (double v : yt.values)
    if (grid && inside_y(v))
      fill_rect(img, a.left, (int)std::lround(a.py(v)), a.right, (int)std::lround(a.py(v)) + 1,
                kGrid);
  draw_rect(img, a.left - 1, a.top - 1, a.right + 1, a.bottom + 1, kFrame);
  for (size_t i = 0; i < xt.values.size(); ++i) {
    if (!inside_x(xt.values[i])) continue;
    int x = (int)std::lround(a.px(xt.values[i]));
    fill_rect(img, x, a.bottom + 1, x + 1, a.bottom + 5, kFrame);
    int w = text_width(xt.labels[i]);  // centred under the tick, kept inside the image
    draw_text(img, std::clamp(x - w / 2, 0, std::max(0, img.width - w - 1)), a.bottom + 7,
              xt.labels[i], kLabel);
  }
  for (size_t i = 0; i < yt.values.size(); ++i) {
    if (!inside_y(yt.values[i])) continue;
    int y = (int)std::lround(a.py(yt.values[i]));
    fill_rect(img, a.left - 5, y, a.left - 1, y + 1, kFrame);
    draw_text(img, a.left - 7 - text_width(yt.labels[i]), y - kGlyphHeight / 2, yt.labels[i],
              kLabel);
  }
}

}  // namespace fx::io
