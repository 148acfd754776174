// Plots: points land where the axes say, panels and figures have the right size, ticks and
// labels are sensible, text renders, trajectories and curves draw, image grids tile.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/io/font5x7.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/plot.h"

namespace {

using fx::Tensor;
using namespace fx::io;

bool is(const Image& img, int x, int y, Color c, int tol = 40) {
  const uint8_t* p = img.at(x, y);
  return std::abs(p[0] - c[0]) <= tol && std::abs(p[1] - c[1]) <= tol &&
         std::abs(p[2] - c[2]) <= tol;
}

// Pixels of colour c, and how many lie within `radius` of (cx, cy).
std::pair<int, int> count_near(const Image& img, Color c, double cx, double cy, double radius) {
  int all = 0, near = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (is(img, x, y, c)) {
        ++all;
        near += std::hypot(x - cx, y - cy) <= radius;
      }
  return {all, near};
}

TEST(Plot, ScatterPointsLandWhereTheAxesSay) {
  const Color red{220, 20, 20}, blue{20, 20, 220};
  ScatterPanel p;
  p.title = "samples";
  p.limits = Box2{-4, 4, -4, 4};
  p.series.push_back({Tensor::from({3, 3, 3.01, 2.99}, {2, 2}), "", red, 2.0, 1.0f});
  p.series.push_back({Tensor::from({-2, -3}, {1, 2}), "", blue, 2.0, 1.0f});
  Image img = render_panel(p, 400, 300);
  EXPECT_EQ(img.width, 400);
  EXPECT_EQ(img.height, 300);
  Axes a = scatter_axes(p, 400, 300);
  // Equal scale: one data unit is as many pixels horizontally as vertically.
  EXPECT_NEAR((a.px(1) - a.px(0)), -(a.py(1) - a.py(0)), 1e-9);
  EXPECT_LE(a.xmin, -4);
  EXPECT_GE(a.xmax, 4);
  EXPECT_NEAR(a.ymin, -4, 1e-12);  // the height is the tighter side here
  // Every red pixel is within a few pixels of (3, 3), every blue one near (-2, -3).
  auto [red_all, red_near] = count_near(img, red, a.px(3), a.py(3), 4);
  EXPECT_GE(red_all, 5);
  EXPECT_EQ(red_near, red_all);
  auto [blue_all, blue_near] = count_near(img, blue, a.px(-2), a.py(-3), 4);
  EXPECT_GE(blue_all, 5);
  EXPECT_EQ(blue_near, blue_all);
  EXPECT_TRUE(is(img, (int)std::lround(a.px(3)), (int)std::lround(a.py(3)), red));
  // Upper right is right of and above lower left.
  EXPECT_GT(a.px(3), a.px(-2));
  EXPECT_LT(a.py(3), a.py(-3));
}

TEST(Plot, LegendAvoidsTheData) {
  const Color red{220, 20, 20};
  ScatterPanel p;
  p.limits = Box2{-4, 4, -4, 4};
  std::vector<double> v;
  for (int i = 0; i < 200; ++i)
    v.push_back(2.5 + 1.5 * (i % 20) / 20.0), v.push_back(2.5 + 1.5 * (i / 20) / 10.0);
  p.series.push_back({Tensor::from(v, {200, 2}), "generated samples", red, 1.5, 1.0f});
  Image img = render_panel(p, 300, 300);
  Axes a = scatter_axes(p, 300, 300);
  // The top-right corner is full of points: they stay visible, the legend went elsewhere.
  EXPECT_TRUE(is(img, (int)std::lround(a.px(2.95)), (int)std::lround(a.py(2.95)), red));
  auto [all, near] = count_near(img, red, a.px(3.25), a.py(3.25), 40);
  EXPECT_GT(all - near, 10);  // the legend's swatch, away from the points
}

TEST(Plot, AutoLimitsCoverTheDataAndSkipNonFinite) {
  ScatterPanel p;
  ScatterSeries pts;
  pts.points = Tensor::from({10, 20, 30, 60, NAN, 0}, {3, 2});
  p.series.push_back(pts);
  Axes a = scatter_axes(p, 300, 300);
  EXPECT_LT(a.xmin, 10);
  EXPECT_GT(a.xmax, 30);
  EXPECT_LT(a.ymin, 20);
  EXPECT_GT(a.ymax, 60);
  render_panel(p, 300, 300);  // no throw
}

bool greenish(const Image& img, int x, int y) {
  const uint8_t* p = img.at(x, y);
  return p[1] > p[0] + 20 && p[1] > p[2] + 20;
}

TEST(Plot, TrajectoriesAreThinLinesFromStartToEnd) {
  const Color green{30, 160, 30};
  std::vector<Tensor> states;
  for (int t = 0; t <= 10; ++t) states.push_back(Tensor::from({-3 + 0.6 * t, 0.0}, {1, 2}));
  ScatterPanel p;
  p.limits = Box2{-4, 4, -4, 4};
  p.paths.push_back({states, "", green, 10, 1.0f});
  Image img = render_panel(p, 300, 300);
  Axes a = scatter_axes(p, 300, 300);
  int y = (int)std::floor(a.py(0));
  int hits = 0, total = 0;
  for (double x = -2.9; x <= 2.9; x += 0.1, ++total) {
    int px = (int)std::lround(a.px(x));
    hits += greenish(img, px, y) || greenish(img, px, y + 1);
  }
  EXPECT_EQ(hits, total);
  EXPECT_FALSE(greenish(img, (int)std::lround(a.px(0)), y - 3));  // thin
  EXPECT_FALSE(greenish(img, (int)std::lround(a.px(0)), y + 4));
  EXPECT_FALSE(greenish(img, (int)std::lround(a.px(3.3)), y));   // stops at the end
  EXPECT_FALSE(greenish(img, (int)std::lround(a.px(-3.3)), y));  // starts at the start
}

TEST(Plot, LinePanelLogAxisAndFigure) {
  LinePanel loss;
  loss.title = "loss";
  loss.x_label = "step";
  loss.log_y = true;
  Curve c;
  for (int i = 1; i <= 200; ++i) c.y.push_back(10.0 / i), c.x.push_back(i);
  c.y[50] = NAN;  // breaks the line, no throw
  c.label = "train";
  loss.curves.push_back(c);
  Image one = render_panel(loss, 320, 240);
  EXPECT_EQ(one.width, 320);
  ScatterPanel s;
  ScatterSeries pts;
  pts.points = Tensor::from({0, 0, 1, 1}, {2, 2});
  pts.label = "x";
  s.series.push_back(pts);
  Image fig = render_figure({s, loss}, 300, 200, "run 1");
  EXPECT_EQ(fig.width, 600);
  EXPECT_EQ(fig.height, 230);
  char tmpl[] = "/tmp/fluxion-plot-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  save_figure(dir + "/fig.png", {s, loss});
  EXPECT_EQ(read_png(dir + "/fig.png").width, 960);
  EXPECT_THROW(save_figure(dir + "/none/fig.png", {s}), fx::Error);
  std::filesystem::remove_all(dir);
  Curve bad;
  bad.y = {1, 2};
  bad.x = {1};
  loss.curves = {bad};
  EXPECT_THROW(render_panel(loss), fx::Error);
}

TEST(Plot, Ticks) {
  AxisTicks t = linear_ticks(-4.3, 4.3);
  EXPECT_EQ(t.labels, (std::vector<std::string>{"-4", "-2", "0", "2", "4"}));
  EXPECT_EQ(linear_ticks(0, 1).labels,
            (std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  EXPECT_EQ(linear_ticks(0, 0.0003).labels.back(), "0.0003");
  EXPECT_EQ(linear_ticks(0, 3e-5).labels.back(), "3e-5");
  AxisTicks lg = log10_ticks(-3.2, 1.1);
  EXPECT_EQ(lg.labels, (std::vector<std::string>{"0.001", "0.01", "0.1", "1", "10"}));
  EXPECT_EQ(log10_ticks(-8, -6).labels, (std::vector<std::string>{"1e-8", "1e-7", "1e-6"}));
  EXPECT_FALSE(log10_ticks(0.1, 0.2).values.empty());  // within one decade: linear labels
  EXPECT_FALSE(linear_ticks(5, 5).values.empty());     // degenerate range widened
  EXPECT_FALSE(linear_ticks(NAN, 1).values.empty());
}

TEST(Plot, TextUsesTheBitmapFont) {
  Image img(40, 12, 3, 255);
  draw_text(img, 1, 1, "A1", kBlack);
  EXPECT_EQ(text_width("A1"), 11);
  EXPECT_EQ(text_height("A1\nB"), kLineHeight + kGlyphHeight);
  // 'A' row 3 is "#####": five dark pixels at y = 4.
  for (int x = 1; x < 6; ++x) EXPECT_TRUE(is(img, x, 4, kBlack, 10)) << x;
  EXPECT_TRUE(is(img, 6, 4, kWhite, 10));  // spacing column
  // Every printable character has a glyph; '?' stands in for the rest.
  for (int c = 33; c < 127; ++c) {
    const uint8_t* g = glyph_rows((char)c);
    int on = 0;
    for (int r = 0; r < 7; ++r) on += g[r] != 0;
    EXPECT_GT(on, 0) << (char)c;
  }
  EXPECT_EQ(glyph_rows('\x01'), glyph_rows('?'));
}

TEST(ImageGrid, TilesGreyAndRgbInEitherRange) {
  // Two 2x3 grey images: one all -1 (black), one all +1 (white); padding 1, 2 columns.
  std::vector<double> v(12);
  for (int i = 0; i < 6; ++i) v[i] = -1, v[6 + i] = 1;
  GridOptions o;
  o.padding = 1;
  o.pad_value = 128;
  Image g = image_grid(Tensor::from(v, {2, 2, 3}), o);
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.width, 2 * (3 + 1) + 1);
  EXPECT_EQ(g.height, 2 + 2);
  EXPECT_EQ(g.at(0, 0)[0], 128);
  EXPECT_EQ(g.at(1, 1)[0], 0);
  EXPECT_EQ(g.at(5, 2)[0], 255);
  // RGB in [0, 1]: 5 images of 1x1 -> 3 columns, 2 rows, red channel set.
  std::vector<double> rgb(5 * 3, 0.0);
  for (int i = 0; i < 5; ++i) rgb[i * 3] = 1.0, rgb[i * 3 + 2] = 2.0;  // blue clamps to 1
  o.range = PixelRange::zero_to_one;
  o.padding = 0;
  Image c = image_grid(Tensor::from(rgb, {5, 3, 1, 1}), o);
  EXPECT_EQ(c.channels, 3);
  EXPECT_EQ(c.width, 3);
  EXPECT_EQ(c.height, 2);
  EXPECT_EQ(c.at(1, 1)[0], 255);
  EXPECT_EQ(c.at(1, 1)[2], 255);
  EXPECT_EQ(c.at(2, 1)[0], 128);  // the empty sixth cell keeps the pad value
  EXPECT_THROW(image_grid(Tensor::zeros({2, 2, 3, 3})), fx::Error);  // 2 channels
  EXPECT_THROW(image_grid(Tensor::zeros({4, 4})), fx::Error);
}

}  // namespace
