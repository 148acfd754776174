#include "fluxion/run/ddpm_eval.h"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/png.h"

namespace fx::run {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string sampler_label(const gen::SamplerOptions& o, const DdpmRun& r,
                          const std::string& variance) {
  std::string label =
      o.method == "ddim" ? fmt::format("DDIM {} steps, eta {}", o.steps, o.eta)
      : o.method == "ode"
          ? (o.ode_solver == "rk45" ? fmt::format("PF-ODE RK45 (rtol {}, atol {})", o.rtol, o.atol)
                                    : fmt::format("PF-ODE {} {} steps", o.ode_solver, o.steps))
          : fmt::format("ancestral {} steps, variance {}", r.cfg.timesteps, variance);
  if (o.precision.precision != amp::Precision::fp32)
    label += fmt::format(", {} products{}", amp::precision_name(o.precision.precision),
                         o.precision.measure ? " where faster" : "");
  return label;
}

namespace {

std::string slug_of(const gen::SamplerOptions& o) {
  const std::string low = o.precision.precision == amp::Precision::fp32
                              ? ""
                              : std::string("_") + amp::precision_name(o.precision.precision);
  if (o.method == "ddim") return fmt::format("ddim{}{}", o.steps, low);
  if (o.method == "ode")
    return (o.ode_solver == "rk45" ? "ode_rk45" : fmt::format("ode_{}{}", o.ode_solver, o.steps)) +
           low;
  return "ancestral" + low;
}

void write_report(const std::string& dir) {
  std::ifstream in((fs::path(dir) / "eval.jsonl").string());
  std::string line, md = "# DDPM evaluation\n\n"
                         "FD-FMNIST: Fréchet distance in the 64 penultimate features of fluxion's "
                         "Fashion-MNIST classifier; precision/recall: k-NN (k = 3, Kynkäänniemi "
                         "et al. 2019) in the same features; each against n test images. "
                         "Floor: n training images scored the same way.\n\n"
                         "| sampler | step | weights | n | network calls | FD-FMNIST (floor) | "
                         "precision (floor) | recall (floor) | images/s |\n"
                         "|---|---:|---|---:|---:|---:|---:|---:|---:|\n";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line);
    md += fmt::format(
        "| {} | {} | {} | {} | {} | {:.2f} ({:.2f}) | {:.3f} ({:.3f}) | {:.3f} ({:.3f}) | {:.2f} "
        "|\n",
        j.at("sampler").get<std::string>(), j.at("step").get<int64_t>(),
        j.at("weights").get<std::string>(), j.at("n").get<int64_t>(),
        j.at("network_calls").get<int64_t>(), j.at("fd").get<double>(),
        j.at("fd_floor").get<double>(), j.at("precision").get<double>(),
        j.at("precision_floor").get<double>(), j.at("recall").get<double>(),
        j.at("recall_floor").get<double>(), j.at("images_per_second").get<double>());
  }
  io::write_file_atomic((fs::path(dir) / "eval.md").string(), md);
}
}  // namespace

json DdpmEvalResult::to_json(const DdpmRun& r) const {
  return {{"sampler", sampler},
          {"step", r.step},
          {"weights", uses_ema(r, false) ? "EMA" : "raw"},
          {"n", scores.n},
          {"network_calls", network_calls},
          {"fd", scores.fd},
          {"fd_floor", floor.fd},
          {"precision", scores.precision},
          {"precision_floor", floor.precision},
          {"recall", scores.recall},
          {"recall_floor", floor.recall},
          {"seconds", seconds},
          {"images_per_second", images_per_second},
          {"grid", grid}};
}

DdpmEvalResult evaluate_ddpm(DdpmRun& r, const std::string& dir, const DdpmEvalOptions& o) {
  const nn::UNetConfig& u = r.cfg.unet;
  FX_CHECK(u.in_channels == 1 && u.image_size == 28,
           "eval: FD-FMNIST scores 1x28x28 Fashion-MNIST-like images; the run in {} makes "
           "{}x{}x{}",
           dir, u.in_channels, u.image_size, u.image_size);
  FX_CHECK(o.n >= 4 && o.n <= 10000, "eval: -n {} must be in [4, 10000] (the test split's size)",
           o.n);
  FmnistFeatures features(o.classifier);  // fails early on a bad classifier file
  DdpmEvalResult res;
  res.sampler = sampler_label(o.sampler, r, o.variance);
  gen::SampleStats st;
  auto t0 = std::chrono::steady_clock::now();
  Tensor x = sample_ddpm(r, o.n, o.sampler, false, &st);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.images_per_second = double(o.n) / res.seconds;
  res.network_calls = st.network_calls;
  Tensor x01 = x.clone();
  for (int64_t i = 0; i < x01.numel(); ++i) {
    float& v = x01.data<float>()[i];
    v = (v + 1.0f) * 0.5f;
  }
  std::tie(res.scores, res.floor) = score_with_floor(features, x01, o.data_dir);
  int64_t show = std::min<int64_t>(64, o.n);
  Tensor first({show, 1, 28, 28}, DType::f32);
  std::memcpy(first.data<float>(), x.data<float>(), first.nbytes());
  res.grid = (fs::path(dir) / ("eval_" + slug_of(o.sampler) + ".png")).string();
  io::write_png(res.grid, io::image_grid(first));
  std::string jl = (fs::path(dir) / "eval.jsonl").string();
  std::string old;
  std::error_code ec;
  if (fs::is_regular_file(jl, ec)) old = io::read_file(jl);
  io::write_file_atomic(jl, old + res.to_json(r).dump() + "\n");
  write_report(dir);
  return res;
}

}  // namespace fx::run
