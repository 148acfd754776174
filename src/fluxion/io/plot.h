// The pictures a run folder needs, drawn without any plotting library:
//   ScatterPanel  point clouds (e.g. generated vs data) in distinct colours, optionally over
//                 ODE trajectories drawn as thin translucent polylines; equal x/y scale.
//   LinePanel     curves such as the loss, optionally on a log-y axis.
// Each panel has axes with tick labels, a title and a legend (entries with a label), in a
// built-in 5x7 font. A figure puts several panels side by side under an optional title.
#pragma once
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "fluxion/core/tensor.h"
#include "fluxion/io/axes.h"
#include "fluxion/io/png.h"
#include "fluxion/io/raster.h"

namespace fx::io {

struct ScatterSeries {
  Tensor points;               // [N, D], D >= 2: columns 0 and 1 are drawn; non-finite rows skipped
  std::string label;           // legend entry; empty for none
  std::optional<Color> color;  // default: palette_color(index of the series in the panel)
  double radius = 1.2;         // pixels
  float alpha = 0.6f;
};

// Paths through successive states: path i visits states[0][i], states[1][i], ... (each state
// is [N, D], D >= 2), e.g. an ODE trajectory from x0 to x1.
struct PathSeries {
  std::vector<Tensor> states;
  std::string label;
  std::optional<Color> color;  // default: palette_color(index of the series in the panel)
  int64_t max_paths = 300;     // the first max_paths rows
  float alpha = 0.3f;
};

struct Box2 {
  double xmin, xmax, ymin, ymax;
};

struct ScatterPanel {
  std::string title;
  std::vector<PathSeries> paths;  // drawn first, under the points
  std::vector<ScatterSeries> series;
  std::optional<Box2> limits;  // default: all points and paths, 5% margin
};

struct Curve {
  std::vector<double> y;  // non-finite values (and values <= 0 on a log axis) break the line
  std::vector<double> x;  // empty: 0, 1, 2, ...
  std::string label;
  std::optional<Color> color;  // default: palette_color(index of the curve)
};

struct LinePanel {
  std::string title, x_label, y_label;
  std::vector<Curve> curves;
  bool log_y = false;
};

using PlotPanel = std::variant<ScatterPanel, LinePanel>;

Image render_panel(const PlotPanel& panel, int width = 480, int height = 480);
// Panels left to right, each width x height, under the title (if any).
Image render_figure(const std::vector<PlotPanel>& panels, int panel_width = 480,
                    int panel_height = 480, const std::string& title = "");
void save_figure(const std::string& path, const std::vector<PlotPanel>& panels,
                 int panel_width = 480, int panel_height = 480, const std::string& title = "");

// The data-to-pixel mapping render_panel uses for this scatter panel (for overlays and tests).
Axes scatter_axes(const ScatterPanel& panel, int width, int height);

}  // namespace fx::io
