#include "fluxion/methods/point_methods.h"

#include <filesystem>

#include "fluxion/gen/flow_metrics.h"
#include "fluxion/gen/mixture_target.h"
#include "fluxion/io/plot.h"
#include "fluxion/metrics/mmd.h"
#include "fluxion/metrics/sliced_wasserstein.h"
#include "fluxion/train/metrics_log.h"

namespace fx::methods {

namespace fs = std::filesystem;

nlohmann::json score_points(const Tensor& samples, const data::PointSource& data, uint64_t seed) {
  const int64_t n = samples.dim(0);
  Tensor ref = data.sample(n, data::mix_seed(seed, 2, 5));
  Tensor ref2 = data.sample(n, data::mix_seed(seed, 3, 5));
  return {{"n", n},
          {"sliced_w2", metrics::sliced_wasserstein(samples, ref, 256, seed)},
          {"sliced_w2_floor", metrics::sliced_wasserstein(ref2, ref, 256, seed)},
          {"mmd", metrics::mmd_rbf(samples, ref)},
          {"mmd_floor", metrics::mmd_rbf(ref2, ref)}};
}

void add_mode_coverage(nlohmann::json& j, const Tensor& samples, const std::string& data) {
  if (!gen::GaussianMixture::is_builtin(data) || data == "gaussian") return;
  gen::ModeCoverage mc = gen::mode_coverage(samples, gen::GaussianMixture::by_name(data));
  j["modes_covered"] = mc.covered;
  j["modes"] = mc.modes;
  j["high_quality"] = mc.high_quality;
}

void save_samples_picture(const std::string& path, const std::string& title, const Tensor& samples,
                          const data::PointSource& data, uint64_t seed) {
  if (samples.dim(1) < 2) return;
  Tensor ref = data.sample(samples.dim(0), data::mix_seed(seed, 8, 6));
  io::Box2 box{-6, 6, -6, 6};
  io::ScatterPanel panel{title, {}, {}, box};
  panel.series.push_back({ref, "data", io::Color{150, 150, 150}});
  panel.series.push_back({samples, "generated"});
  io::save_figure(path, {panel});
}

void save_loss_picture(const std::string& dir, const std::string& title) {
  std::vector<double> steps, losses;
  train::metric_column(train::read_metrics(dir), "loss", steps, losses);
  if (steps.empty()) return;
  io::LinePanel loss{title, "step", "loss", {}, true};
  loss.curves.push_back({losses, steps, "loss (mean per log interval)"});
  io::save_figure((fs::path(dir) / "loss.png").string(), {loss}, 640, 360);
}

}  // namespace fx::methods
