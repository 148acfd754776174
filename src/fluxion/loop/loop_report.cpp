#include "fluxion/loop/loop_report.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/data/npy_images.h"
#include "fluxion/data/points_file.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/plot.h"
#include "fluxion/io/png.h"
#include "fluxion/loop/loop_data.h"

namespace fx::loop {

namespace {

std::vector<double> column(const LoopResult& r, const std::string& key) {
  std::vector<double> v;
  for (const nlohmann::json& l : r.lines) v.push_back(l.value(key, std::nan("")));
  return v;
}

std::vector<double> generations_of(const LoopResult& r) {
  std::vector<double> v;
  for (const nlohmann::json& l : r.lines) v.push_back(l["generation"].get<double>());
  return v;
}

io::LinePanel panel(const std::vector<LoopResult>& loops, const std::string& key,
                    const std::string& title, bool log_y = false) {
  io::LinePanel p{title, "generation", "", {}, log_y};
  for (size_t i = 0; i < loops.size(); ++i)
    p.curves.push_back({column(loops[i], key), generations_of(loops[i]), loops[i].name,
                        io::palette_color(int(i))});
  return p;
}

// The floor as a flat grey line over the generations of the longest loop.
void add_floor(io::LinePanel& p, const std::vector<LoopResult>& loops, double floor) {
  size_t longest = 0;
  for (size_t i = 0; i < loops.size(); ++i)
    if (loops[i].lines.size() > loops[longest].lines.size()) longest = i;
  std::vector<double> x = generations_of(loops[longest]);
  p.curves.push_back({std::vector<double>(x.size(), floor), x, "real vs real", io::kGrey});
}

std::string fmt_num(const nlohmann::json& l, const std::string& key, const char* f = "{:.3f}") {
  if (!l.contains(key)) return "–";
  return fmt::format(fmt::runtime(f), l[key].get<double>());
}

void write_scatter(const LoopConfig& cfg, const EvalReference& ref, const LoopResult& r) {
  if (r.lines.empty()) return;
  std::vector<double> h = ref.heldout.to_vector();
  const int64_t d = ref.heldout.dim(1);
  io::Box2 box{1e300, -1e300, 1e300, -1e300};
  for (int64_t i = 0; i < ref.heldout.dim(0); ++i) {
    box.xmin = std::min(box.xmin, h[i * d]), box.xmax = std::max(box.xmax, h[i * d]);
    box.ymin = std::min(box.ymin, h[i * d + 1]), box.ymax = std::max(box.ymax, h[i * d + 1]);
  }
  double mx = 0.15 * (box.xmax - box.xmin), my = 0.15 * (box.ymax - box.ymin);
  box = {box.xmin - mx, box.xmax + mx, box.ymin - my, box.ymax + my};
  std::vector<io::PlotPanel> panels;
  for (int64_t t : scatter_generations(int64_t(r.lines.size()))) {
    Tensor s = data::load_points(fmt::format("{}/gen-{:03}/samples.npy", r.dir, t));
    io::ScatterPanel p{fmt::format("generation {}", t), {}, {}, box};
    p.series.push_back({ref.heldout, "real (held out)", io::Color{170, 170, 170}, 1.0, 0.5f});
    p.series.push_back({s, "generated", io::palette_color(0), 1.2, 0.6f});
    panels.push_back(std::move(p));
  }
  io::save_figure(fmt::format("{}/samples-{}.png", cfg.out, r.name), panels, 320, 320,
                  fmt::format("{} ({} {})", r.name, cfg.model, cfg.data));
}

// Images: one row of kGridColumns samples per shown generation, generation 1 at the top.
constexpr int64_t kGridColumns = 8;

void write_image_grid(const LoopConfig& cfg, const LoopResult& r) {
  if (r.lines.empty()) return;
  std::vector<Tensor> rows;
  for (int64_t t : scatter_generations(int64_t(r.lines.size()))) {
    Tensor s = data::load_npy_images(fmt::format("{}/gen-{:03}/samples.npy", r.dir, t));
    const int64_t take = std::min(kGridColumns, s.dim(0)), per = s.numel() / s.dim(0);
    Shape shape = s.shape();
    shape[0] = kGridColumns;
    Tensor row = Tensor::zeros(shape, DType::f32);  // black tiles if fewer samples
    std::memcpy(row.data<float>(), s.data<float>(), take * per * sizeof(float));
    rows.push_back(row);
  }
  io::GridOptions o;
  o.range = io::PixelRange::zero_to_one;
  o.columns = kGridColumns;
  io::write_png(fmt::format("{}/samples-{}.png", cfg.out, r.name),
                io::image_grid(concat_rows(rows), o));
}

}  // namespace

std::vector<int64_t> scatter_generations(int64_t finished) {
  std::vector<int64_t> g;
  if (finished < 1) return g;
  int64_t stride = 2;
  while ((finished - 1) / stride + 1 > 6) stride += 2;
  for (int64_t t = 1; t <= finished; t += stride) g.push_back(t);
  if (g.back() != finished) {
    if (g.size() == 6)
      g.back() = finished;
    else
      g.push_back(finished);
  }
  return g;
}

void write_study_report(const LoopConfig& cfg, const EvalReference& ref,
                        const std::vector<LoopResult>& loops) {
  if (loops.empty()) return;
  const bool gaussian =
      !loops.front().lines.empty() && loops.front().lines[0].contains("trace_cov");
  const bool images = ref.images();
  // The distance to held-out real data: FD-FMNIST for images, else sliced-W2.
  const std::string dist = images ? "fd" : "sliced_w2",
                    dist_label = images ? "FD-FMNIST" : "sliced-W2";
  const double dist_floor = images ? ref.fd_floor : ref.sliced_w2_floor;
  std::vector<io::PlotPanel> panels;
  io::LinePanel p = panel(loops, "precision", "precision (k-NN)");
  add_floor(p, loops, ref.precision_floor);
  panels.push_back(p);
  p = panel(loops, "recall", "recall (k-NN)");
  add_floor(p, loops, ref.recall_floor);
  panels.push_back(p);
  p = panel(loops, dist, dist_label + " to held-out real", true);
  add_floor(p, loops, dist_floor);
  panels.push_back(p);
  if (gaussian) {
    panels.push_back(panel(loops, "trace_cov", "tr(lambda Sigma_t)", true));
    panels.push_back(panel(loops, "mean_shift2", "|mu_t - mu_0|^2"));
  } else if (!images) {
    panels.push_back(panel(loops, "sample_trace_cov", "tr cov of samples"));
  }
  io::save_figure(
      cfg.out + "/curves.png", panels, 400, 360,
      fmt::format("self-consuming loops: {} on {}, n = {}", cfg.model, cfg.data, cfg.n));
  for (const LoopResult& r : loops) images ? write_image_grid(cfg, r) : write_scatter(cfg, ref, r);

  std::string md = fmt::format(
      "# Self-consuming loops: {} on {}\n\n"
      "n = {} per generation, real fraction {} (augmentation, fresh data), history {}, "
      "seed {}, {} held-out real points, k = {}.\n"
      "Floors (real vs real, {} points each{}): precision {:.3f}, recall {:.3f}, {} "
      "{:.4f}.\n\n![curves](curves.png)\n\n"
      "| loop | generations | precision 1 → last | recall 1 → last | {} 1 → last | "
      "seconds |\n|---|---|---|---|---|---|\n",
      cfg.model, cfg.data, cfg.n, cfg.real_fraction, cfg.history, cfg.seed, cfg.eval_n, cfg.k,
      cfg.eval_n, images ? ", in the classifier's feature space" : "", ref.precision_floor,
      ref.recall_floor, dist_label, dist_floor, dist_label);
  for (const LoopResult& r : loops) {
    if (r.lines.empty()) continue;
    const nlohmann::json &a = r.lines.front(), &b = r.lines.back();
    double seconds = 0;
    for (const nlohmann::json& l : r.lines) seconds += l.value("seconds", 0.0);
    md += fmt::format("| {} | {} | {} → {} | {} → {} | {} → {} | {:.1f} |\n", r.name,
                      r.lines.size(), fmt_num(a, "precision"), fmt_num(b, "precision"),
                      fmt_num(a, "recall"), fmt_num(b, "recall"), fmt_num(a, dist, "{:.4f}"),
                      fmt_num(b, dist, "{:.4f}"), seconds);
  }
  for (const LoopResult& r : loops) {
    md += fmt::format("\n## {}\n\n![samples](samples-{}.png)\n\n", r.name, r.name);
    if (images) {
      md +=
          "| t | real | synthetic | precision | recall | FD-FMNIST | seconds |\n"
          "|---|---|---|---|---|---|---|\n";
      for (const nlohmann::json& l : r.lines)
        md += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", l["generation"].get<int64_t>(),
                          l["n_real"].get<int64_t>(), l["n_synthetic"].get<int64_t>(),
                          fmt_num(l, "precision"), fmt_num(l, "recall"), fmt_num(l, "fd", "{:.2f}"),
                          fmt_num(l, "seconds", "{:.0f}"));
      continue;
    }
    // A mixture's covered modes, where the loop measured them.
    const bool modes = r.lines.front().contains("modes_covered");
    md += gaussian ? "| t | real | synthetic | precision | recall | sliced-W2 | tr(λΣ_t) | "
                     "‖μ_t − μ_0‖² |"
                   : "| t | real | synthetic | precision | recall | sliced-W2 | tr cov | "
                     "‖mean − μ_0‖² |";
    md += modes ? " modes |\n|---|---|---|---|---|---|---|---|---|\n"
                : "\n|---|---|---|---|---|---|---|---|\n";
    for (const nlohmann::json& l : r.lines)
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |{}\n",
                        l["generation"].get<int64_t>(), l["n_real"].get<int64_t>(),
                        l["n_synthetic"].get<int64_t>(), fmt_num(l, "precision"),
                        fmt_num(l, "recall"), fmt_num(l, "sliced_w2", "{:.4f}"),
                        fmt_num(l, gaussian ? "trace_cov" : "sample_trace_cov", "{:.4f}"),
                        fmt_num(l, gaussian ? "mean_shift2" : "sample_mean_shift2", "{:.5f}"),
                        modes ? fmt::format(" {} |", l.value("modes_covered", int64_t(0))) : "");
  }
  io::write_file_atomic(cfg.out + "/report.md", md);
}

}  // namespace fx::loop
