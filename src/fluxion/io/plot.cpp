#include "fluxion/io/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "fluxion/core/error.h"
#include "fluxion/io/font5x7.h"

namespace fx::io {

namespace {

constexpr Color kTitle{20, 20, 20};
constexpr int kLeft = 50, kRight = 14, kBottom = 22, kTopNoTitle = 12, kTopTitle = 30;

struct Xy {
  std::vector<double> x, y;  // finite points only
};

// Columns 0 and 1 of an [N, D] tensor, dropping non-finite rows.
Xy columns01(const Tensor& t, const char* what) {
  FX_CHECK(t.defined() && t.rank() == 2 && t.dim(1) >= 2,
           "plot: {} must be [N, D] with D >= 2, got {}", what,
           t.defined() ? shape_str(t.shape()) : "an undefined tensor");
  std::vector<double> v = t.to_vector();
  Xy out;
  int64_t d = t.dim(1);
  for (int64_t i = 0; i < t.dim(0); ++i) {
    double x = v[i * d], y = v[i * d + 1];
    if (std::isfinite(x) && std::isfinite(y)) out.x.push_back(x), out.y.push_back(y);
  }
  return out;
}

void extend(Box2* b, const std::vector<double>& xs, const std::vector<double>& ys) {
  for (double x : xs) b->xmin = std::min(b->xmin, x), b->xmax = std::max(b->xmax, x);
  for (double y : ys) b->ymin = std::min(b->ymin, y), b->ymax = std::max(b->ymax, y);
}

int top_margin(const std::string& title) { return title.empty() ? kTopNoTitle : kTopTitle; }

void draw_title(Image& img, const std::string& title) {
  if (title.empty()) return;
  int scale = text_width(title, 2) <= img.width - 8 ? 2 : 1;
  draw_text(img, (img.width - text_width(title, scale)) / 2, 8, title, kTitle, scale);
}

struct LegendEntry {
  std::string label;
  Color color;
  bool dot;  // a disc (points) or a short line (curves, paths)
};

// The legend goes in whichever corner of the plot area covers the fewest drawn points.
void draw_legend(Image& img, const Axes& a, const std::vector<LegendEntry>& entries,
                 const std::vector<std::pair<double, double>>& drawn) {
  if (entries.empty()) return;
  int w = 0;
  for (const auto& e : entries) w = std::max(w, text_width(e.label));
  int box_w = w + 26, box_h = (int)entries.size() * 12 + 6;
  const int corners[4][2] = {{a.right - box_w - 6, a.top + 6},
                             {a.left + 6, a.top + 6},
                             {a.right - box_w - 6, a.bottom - box_h - 6},
                             {a.left + 6, a.bottom - box_h - 6}};
  int best = 0;
  size_t best_count = SIZE_MAX;
  for (int k = 0; k < 4; ++k) {
    size_t count = 0;
    for (const auto& [x, y] : drawn)
      count += x >= corners[k][0] - 3 && x <= corners[k][0] + box_w + 3 && y >= corners[k][1] - 3 &&
               y <= corners[k][1] + box_h + 3;
    if (count < best_count) best = k, best_count = count;
  }
  int x0 = corners[best][0], y0 = corners[best][1];
  fill_rect(img, x0, y0, x0 + box_w, y0 + box_h, kWhite, 0.85f);
  draw_rect(img, x0, y0, x0 + box_w, y0 + box_h, {200, 200, 200});
  for (size_t i = 0; i < entries.size(); ++i) {
    int cy = y0 + 9 + (int)i * 12;
    if (entries[i].dot)
      draw_disc(img, x0 + 11, cy, 3, entries[i].color);
    else
      fill_rect(img, x0 + 5, cy - 1, x0 + 17, cy + 1, entries[i].color);
    draw_text(img, x0 + 21, cy - kGlyphHeight / 2, entries[i].label, {40, 40, 40});
  }
}

Image render_scatter(const ScatterPanel& p, int width, int height) {
  Image img(width, height, 3, 255);
  Axes a = scatter_axes(p, width, height);
  draw_axes(img, a, linear_ticks(a.xmin, a.xmax, 6), linear_ticks(a.ymin, a.ymax, 6));
  std::vector<LegendEntry> legend;
  std::vector<std::pair<double, double>> drawn;  // pixel positions, for placing the legend
  int index = 0;
  for (const PathSeries& s : p.paths) {
    Color c = s.color.value_or(palette_color(index++));
    std::vector<Xy> states;
    for (size_t t = 0; t < s.states.size(); ++t)
      states.push_back(columns01(s.states[t], "path state"));
    for (size_t t = 1; t < states.size(); ++t) {
      const Xy &u = states[t - 1], &v = states[t];
      int64_t n = std::min<int64_t>({(int64_t)u.x.size(), (int64_t)v.x.size(), s.max_paths});
      for (int64_t i = 0; i < n; ++i) {
        draw_line(img, a.px(u.x[i]), a.py(u.y[i]), a.px(v.x[i]), a.py(v.y[i]), c, s.alpha);
        drawn.emplace_back(a.px(v.x[i]), a.py(v.y[i]));
      }
    }
    if (!s.label.empty()) legend.push_back({s.label, c, false});
  }
  for (const ScatterSeries& s : p.series) {
    Color c = s.color.value_or(palette_color(index++));
    Xy pts = columns01(s.points, "scatter points");
    for (size_t i = 0; i < pts.x.size(); ++i) {
      draw_disc(img, a.px(pts.x[i]), a.py(pts.y[i]), s.radius, c, s.alpha);
      drawn.emplace_back(a.px(pts.x[i]), a.py(pts.y[i]));
    }
    if (!s.label.empty()) legend.push_back({s.label, c, true});
  }
  // Points may spill over the frame by their radius; clear the margins, redraw frame and ticks.
  fill_rect(img, 0, 0, width, a.top - 1, kWhite);
  fill_rect(img, 0, a.bottom + 1, width, height, kWhite);
  fill_rect(img, 0, 0, a.left - 1, height, kWhite);
  fill_rect(img, a.right + 1, 0, width, height, kWhite);
  draw_axes(img, a, linear_ticks(a.xmin, a.xmax, 6), linear_ticks(a.ymin, a.ymax, 6), false);
  draw_legend(img, a, legend, drawn);
  draw_title(img, p.title);
  return img;
}

Image render_lines(const LinePanel& p, int width, int height) {
  Image img(width, height, 3, 255);
  auto tr = [&](double y) { return p.log_y ? (y > 0 ? std::log10(y) : NAN) : y; };
  Box2 box{INFINITY, -INFINITY, INFINITY, -INFINITY};
  for (const Curve& c : p.curves) {
    FX_CHECK(c.x.empty() || c.x.size() == c.y.size(),
             "plot: curve '{}' has {} x values for {} y values", c.label, c.x.size(), c.y.size());
    for (size_t i = 0; i < c.y.size(); ++i) {
      double x = c.x.empty() ? (double)i : c.x[i], y = tr(c.y[i]);
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      box.xmin = std::min(box.xmin, x), box.xmax = std::max(box.xmax, x);
      box.ymin = std::min(box.ymin, y), box.ymax = std::max(box.ymax, y);
    }
  }
  widen_degenerate(&box.xmin, &box.xmax);
  widen_degenerate(&box.ymin, &box.ymax);
  double pad = 0.05 * (box.ymax - box.ymin);
  Axes a;
  a.left = kLeft + (p.y_label.empty() ? 0 : 12), a.right = width - kRight;
  a.top = top_margin(p.title), a.bottom = height - kBottom - (p.x_label.empty() ? 0 : 12);
  a.xmin = box.xmin, a.xmax = box.xmax, a.ymin = box.ymin - pad, a.ymax = box.ymax + pad;
  FX_CHECK(a.right - a.left >= 16 && a.bottom - a.top >= 16, "plot: {}x{} is too small", width,
           height);
  AxisTicks yt = p.log_y ? log10_ticks(a.ymin, a.ymax) : linear_ticks(a.ymin, a.ymax);
  draw_axes(img, a, linear_ticks(a.xmin, a.xmax), yt);
  std::vector<LegendEntry> legend;
  std::vector<std::pair<double, double>> drawn;
  for (size_t k = 0; k < p.curves.size(); ++k) {
    const Curve& c = p.curves[k];
    Color col = c.color.value_or(palette_color((int)k));
    double px = NAN, py = NAN;
    for (size_t i = 0; i < c.y.size(); ++i) {
      double x = a.px(c.x.empty() ? (double)i : c.x[i]), y = a.py(tr(c.y[i]));
      if (std::isfinite(px) && std::isfinite(x) && std::isfinite(y))
        draw_line(img, px, py, x, y, col);
      if (std::isfinite(x) && std::isfinite(y)) drawn.emplace_back(x, y);
      px = x, py = y;
    }
    if (!c.label.empty()) legend.push_back({c.label, col, false});
  }
  draw_legend(img, a, legend, drawn);
  if (!p.x_label.empty())
    draw_text(img, (a.left + a.right - text_width(p.x_label)) / 2, height - 12, p.x_label,
              {40, 40, 40});
  if (!p.y_label.empty())  // no rotated text: stack the letters down the left edge
    for (size_t i = 0; i < p.y_label.size(); ++i)
      draw_text(
          img, 3,
          (a.top + a.bottom) / 2 - (int)p.y_label.size() * kLineHeight / 2 + (int)i * kLineHeight,
          std::string_view(&p.y_label[i], 1), {40, 40, 40});
  draw_title(img, p.title);
  return img;
}

}  // namespace

Axes scatter_axes(const ScatterPanel& p, int width, int height) {
  Axes a;
  a.left = kLeft, a.right = width - kRight, a.top = top_margin(p.title),
  a.bottom = height - kBottom;
  FX_CHECK(a.right - a.left >= 16 && a.bottom - a.top >= 16, "plot: {}x{} is too small", width,
           height);
  Box2 b;
  if (p.limits) {
    b = *p.limits;
  } else {
    b = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (const auto& s : p.series) {
      Xy v = columns01(s.points, "scatter points");
      extend(&b, v.x, v.y);
    }
    for (const auto& s : p.paths)
      for (const Tensor& t : s.states) {
        Xy v = columns01(t, "path state");
        extend(&b, v.x, v.y);
      }
    double mx = 0.05 * (b.xmax - b.xmin), my = 0.05 * (b.ymax - b.ymin);
    if (std::isfinite(mx) && std::isfinite(my))
      b = {b.xmin - mx, b.xmax + mx, b.ymin - my, b.ymax + my};
  }
  widen_degenerate(&b.xmin, &b.xmax);
  widen_degenerate(&b.ymin, &b.ymax);
  // Equal scale on both axes (a circle stays round): widen the range that needs it.
  double sx = (b.xmax - b.xmin) / (a.right - a.left - 1),
         sy = (b.ymax - b.ymin) / (a.bottom - a.top - 1);
  double s = std::max(sx, sy), cx = (b.xmin + b.xmax) / 2, cy = (b.ymin + b.ymax) / 2;
  double hx = s * (a.right - a.left - 1) / 2, hy = s * (a.bottom - a.top - 1) / 2;
  a.xmin = cx - hx, a.xmax = cx + hx, a.ymin = cy - hy, a.ymax = cy + hy;
  return a;
}

Image render_panel(const PlotPanel& panel, int width, int height) {
  if (auto* s = std::get_if<ScatterPanel>(&panel)) return render_scatter(*s, width, height);
  return render_lines(std::get<LinePanel>(panel), width, height);
}

Image render_figure(const std::vector<PlotPanel>& panels, int pw, int ph,
                    const std::string& title) {
  FX_CHECK(!panels.empty(), "plot: a figure needs at least one panel");
  std::vector<Image> images;
  for (const auto& p : panels) images.push_back(render_panel(p, pw, ph));
  Image row = side_by_side(images);
  if (title.empty()) return row;
  int band = 30;
  Image out(row.width, row.height + band, 3, 255);
  std::copy(row.pixels.begin(), row.pixels.end(), out.at(0, band));
  draw_title(out, title);
  return out;
}

void save_figure(const std::string& path, const std::vector<PlotPanel>& panels, int pw, int ph,
                 const std::string& title) {
  write_png(path, render_figure(panels, pw, ph, title));
}

}  // namespace fx::io
