#include "fluxion/run/ddpm_run.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/image_folder.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/plot.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/nn/module_io.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/util/progress.h"

namespace fx::run {

namespace fs = std::filesystem;
using json = nlohmann::json;

json DdpmRunConfig::to_json() const {
  return {{"method", method},
          {"data", data},
          {"data_dir", data_dir},
          {"limit", limit},
          {"crop", crop},
          {"flip", flip},
          {"steps", steps},
          {"batch", batch},
          {"lr", lr},
          {"warmup", warmup},
          {"lr_decay", lr_decay},
          {"compile", compile},
          {"precision", precision},
          {"precision_measure", precision_measure},
          {"loss_scale", loss_scale},
          {"clip", clip},
          {"ema", ema},
          {"seed", seed},
          {"schedule", schedule},
          {"timesteps", timesteps},
          {"prediction", prediction},
          {"checkpoint_every", checkpoint_every},
          {"unet",
           {{"image_size", unet.image_size},
            {"in_channels", unet.in_channels},
            {"base_channels", unet.base_channels},
            {"channel_mult", unet.channel_mult},
            {"res_blocks", unet.res_blocks},
            {"attn_resolutions", unet.attn_resolutions},
            {"attn_heads", unet.attn_heads},
            {"norm_groups", unet.norm_groups},
            {"dropout", unet.dropout}}}};
}

DdpmRunConfig DdpmRunConfig::from_json(const json& j, const std::string& file) {
  DdpmRunConfig c;
  try {
    c.method = j.at("method");
    FX_CHECK(c.method == "ddpm", "{}: method is '{}', not ddpm", file, c.method);
    c.data = j.at("data");
    c.data_dir = j.at("data_dir");
    c.limit = j.at("limit");
    c.crop = j.at("crop");
    c.flip = j.at("flip");
    c.steps = j.at("steps");
    c.batch = j.at("batch");
    c.lr = j.at("lr");
    c.warmup = j.at("warmup");
    c.lr_decay = j.value("lr_decay", "constant");  // runs written before these fields existed
    c.compile = j.value("compile", false);
    c.precision = j.value("precision", "fp32");
    c.precision_measure = j.value("precision_measure", true);
    c.loss_scale = j.value("loss_scale", "auto");
    c.clip = j.at("clip");
    c.ema = j.at("ema");
    c.seed = j.at("seed");
    c.schedule = j.at("schedule");
    c.timesteps = j.at("timesteps");
    c.prediction = j.at("prediction");
    c.checkpoint_every = j.at("checkpoint_every");
    const json& u = j.at("unet");
    c.unet.image_size = u.at("image_size");
    c.unet.in_channels = u.at("in_channels");
    c.unet.base_channels = u.at("base_channels");
    c.unet.channel_mult = u.at("channel_mult").get<std::vector<int64_t>>();
    c.unet.res_blocks = u.at("res_blocks");
    c.unet.attn_resolutions = u.at("attn_resolutions").get<std::vector<int64_t>>();
    c.unet.attn_heads = u.at("attn_heads");
    c.unet.norm_groups = u.at("norm_groups");
    c.unet.dropout = u.at("dropout");
  } catch (const json::exception& e) {
    fail("{}: bad DDPM run config: {}", file, e.what());
  }
  return c;
}

bool is_ddpm_run(const std::string& dir) {
  std::string p = (fs::path(dir) / "config.json").string();
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return false;
  try {
    return json::parse(io::read_file(p)).value("method", "") == "ddpm";
  } catch (const std::exception&) {
    return false;
  }
}

namespace {

void validate(const DdpmRunConfig& c) {
  FX_CHECK(c.steps >= 1, "--steps must be >= 1, got {}", c.steps);
  FX_CHECK(c.batch >= 1, "--batch must be >= 1, got {}", c.batch);
  FX_CHECK(c.lr > 0, "--lr must be positive, got {}", c.lr);
  FX_CHECK(c.ema >= 0 && c.ema < 1, "--ema must be in [0, 1), got {}", c.ema);
  FX_CHECK(c.checkpoint_every >= 1, "checkpoint_every must be >= 1, got {}", c.checkpoint_every);
  FX_CHECK(c.lr_decay == "cosine" || c.lr_decay == "constant",
           "unknown --lr-decay '{}' (available: cosine, constant)", c.lr_decay);
  amp::precision_from_name(c.precision);
  if (c.loss_scale != "auto") amp::loss_scaling_from_string(c.loss_scale);
  gen::prediction_from_name(c.prediction);
  gen::make_schedule(c.schedule, c.timesteps);
  nn::validate(c.unet);
}

Tensor load_training_images(const DdpmRunConfig& c) {
  if (c.data == "fashion-mnist") {
    FX_CHECK(c.unet.image_size == 28 && c.unet.in_channels == 1,
             "Fashion-MNIST images are 1x28x28; the U-Net is configured for {}x{}x{}",
             c.unet.in_channels, c.unet.image_size, c.unet.image_size);
    std::string dir = c.data_dir.empty() ? data::default_fashion_mnist_dir() : c.data_dir;
    return data::load_fashion_mnist(dir, true, c.limit).images;
  }
  std::error_code ec;
  FX_CHECK(fs::is_directory(c.data, ec),
           "--data '{}' is neither 'fashion-mnist' nor a folder of PNG images", c.data);
  Tensor t = data::load_png_folder(c.data, c.unet.image_size, c.unet.in_channels, c.crop);
  if (c.limit > 0 && c.limit < t.dim(0)) {
    Tensor s({c.limit, t.dim(1), t.dim(2), t.dim(3)}, DType::f32);
    std::memcpy(s.raw(), t.raw(), s.nbytes());
    t = s;
  }
  return t;
}

std::map<std::string, std::string> metadata(const DdpmRunConfig& c, int64_t step) {
  return {{"format", "fluxion-checkpoint"},
          {"fluxion_version", FLUXION_VERSION},
          {"method", "ddpm"},
          {"config", c.to_json().dump()},
          {"step", std::to_string(step)}};
}

int64_t step_of(const io::SafetensorsFile& f, const std::string& path) {
  auto it = f.metadata.find("step");
  FX_CHECK(it != f.metadata.end(), "{}: no 'step' in the metadata", path);
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    fail("{}: bad step '{}' in the metadata", path, it->second);
  }
}

void save_checkpoint(const std::string& dir, DdpmRun& r, const optim::Trainer& tr) {
  auto meta = metadata(r.cfg, r.step);
  io::save_safetensors((fs::path(dir) / "model.safetensors").string(),
                       nn::parameter_tensors(*r.model), meta);
  r.ema = tr.ema_weights();
  if (!r.ema.empty())
    io::save_safetensors((fs::path(dir) / "ema.safetensors").string(), r.ema, meta);
  io::save_safetensors((fs::path(dir) / "train_state.safetensors").string(), tr.state(), meta);
}

void write_loss(const std::string& dir, const std::vector<DdpmLossRow>& rows) {
  std::string csv = "step,loss,loss_scale,skipped_steps\n";
  std::vector<double> xs, ys;
  for (const DdpmLossRow& r : rows) {
    csv += fmt::format("{},{},{},{}\n", r.step, r.loss, r.loss_scale, r.skipped_steps);
    xs.push_back((double)r.step);
    ys.push_back(r.loss);
  }
  io::write_file_atomic((fs::path(dir) / "loss.csv").string(), csv);
  io::LinePanel p{"DDPM training loss", "step", "loss (mean over 50 steps)", {}, true};
  p.curves.push_back({ys, xs, "loss"});
  io::save_figure((fs::path(dir) / "loss.png").string(), {p}, 640, 360);
}

}  // namespace

std::vector<DdpmLossRow> read_ddpm_loss(const std::string& dir) {
  std::vector<DdpmLossRow> rows;
  const std::string path = (fs::path(dir) / "loss.csv").string();
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  for (int n = 2; std::getline(in, line); ++n) {
    std::vector<std::string> cells;
    for (size_t from = 0;;) {
      size_t comma = line.find(',', from);
      cells.push_back(line.substr(from, comma - from));
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
    FX_CHECK(cells.size() == 2 || cells.size() == 4, "{}: line {} has {} fields, not 2 or 4", path,
             n, cells.size());
    DdpmLossRow r;
    try {
      r.step = std::stoll(cells[0]);
      r.loss = std::stod(cells[1]);
      if (cells.size() == 4) {
        r.loss_scale = std::stod(cells[2]);
        r.skipped_steps = std::stoll(cells[3]);
      }
    } catch (const std::exception&) {
      fail("{}: line {} is not numbers: '{}'", path, n, line);
    }
    rows.push_back(r);
  }
  return rows;
}

DdpmRun train_ddpm(const DdpmRunConfig& cfg, const std::string& dir, bool resume) {
  validate(cfg);
  data::ImageBatches data(load_training_images(cfg));
  std::fprintf(stderr, "ddpm: %lld training images %s\n", (long long)data.size(),
               shape_str(data.images().shape()).c_str());
  DdpmRun r;
  r.cfg = cfg;
  nn::InitRng rng(cfg.seed);
  r.model = std::make_unique<nn::UNet>(cfg.unet, rng);
  gen::DdpmSchedule sched = gen::make_schedule(cfg.schedule, cfg.timesteps);
  gen::Prediction pred = gen::prediction_from_name(cfg.prediction);
  optim::TrainerOptions opts;
  opts.schedule = {cfg.lr, cfg.warmup, cfg.lr_decay == "cosine" ? cfg.steps : 0, 0.0};
  opts.max_grad_norm = cfg.clip;
  opts.ema_decay = cfg.ema;
  opts.seed = cfg.seed;
  opts.compile = cfg.compile;
  opts.precision.precision = amp::precision_from_name(cfg.precision);
  opts.precision.measure = cfg.precision_measure;
  opts.loss_scaling = amp::loss_scaling_for(cfg.loss_scale, opts.precision.precision);
  const nn::UNetConfig& u = cfg.unet;
  optim::Trainer tr(
      *r.model, optim::adam(),
      [&](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
        return gen::ddpm_loss(*r.model, sched, b.at("x"), key, pred);
      },
      {{"x", {cfg.batch, u.in_channels, u.image_size, u.image_size}}}, opts);

  std::string cfg_path = (fs::path(dir) / "config.json").string();
  std::vector<DdpmLossRow> losses;
  if (resume) {
    DdpmRunConfig saved = DdpmRunConfig::from_json(json::parse(io::read_file(cfg_path)), cfg_path);
    json a = saved.to_json(), b = cfg.to_json();
    for (const char* free_key : {"steps", "compile"}) {  // compiled steps are bit-identical
      a.erase(free_key);
      b.erase(free_key);
    }
    FX_CHECK(a == b, "--resume: the options differ from {} (only --steps and --compile may change)",
             cfg_path);
    FX_CHECK(saved.steps == cfg.steps || cfg.lr_decay != "cosine",
             "--resume: --steps changed from {} to {}, but the cosine LR decay was planned for {}",
             saved.steps, cfg.steps, saved.steps);
    std::string mp = (fs::path(dir) / "model.safetensors").string();
    std::string sp = (fs::path(dir) / "train_state.safetensors").string();
    auto mf = io::load_safetensors(mp);
    auto sf = io::load_safetensors(sp);
    nn::load_parameters(*r.model, mf, mp);
    r.step = step_of(mf, mp);
    FX_CHECK(step_of(sf, sp) == r.step, "{} is at step {} but {} at step {}", mp, r.step, sp,
             step_of(sf, sp));
    tr.set_state(sf.tensors);
    tr.set_steps_done(r.step);
    losses = read_ddpm_loss(dir);
  }
  io::write_file_atomic(cfg_path, cfg.to_json().dump(2) + "\n");
  std::fprintf(stderr, "ddpm: U-Net with %lld parameters, batch %lld, %lld steps\n",
               (long long)r.model->parameter_count(), (long long)cfg.batch, (long long)cfg.steps);
  util::Progress bar("train ddpm", cfg.steps);
  double sum = 0;
  int64_t since = 0;
  std::vector<double> step_ms;
  while (r.step < cfg.steps) {
    int64_t s = r.step + 1;
    Tensor batch = data.batch(cfg.batch, cfg.seed ^ 0x5eedULL, s, cfg.flip);
    auto t0 = std::chrono::steady_clock::now();
    double loss = tr.step({{"x", batch}});
    step_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    r.step = s;
    sum += loss;
    ++since;
    const amp::LossScaler& scaler = tr.loss_scaler();
    if (s % 50 == 0 || s == cfg.steps) {
      losses.push_back({s, sum / since, scaler.scale(), scaler.skipped_steps()});
      sum = 0;
      since = 0;
    }
    if (scaler.enabled())
      bar.update(
          s,
          {{"loss", loss}, {"scale", scaler.scale()}, {"skipped", double(scaler.skipped_steps())}});
    else
      bar.update(s, {{"loss", loss}});
    if (s % cfg.checkpoint_every == 0 || s == cfg.steps) {
      save_checkpoint(dir, r, tr);
      write_loss(dir, losses);
    }
  }
  bar.finish();
  if (step_ms.size() > 5) {  // the first steps pay for tracing and oneDNN's primitive setup
    std::vector<double> t(step_ms.begin() + 5, step_ms.end());
    std::sort(t.begin(), t.end());
    std::fprintf(stderr, "ddpm: train step median %.1f ms (p10 %.1f, p90 %.1f) over %zu steps\n",
                 t[t.size() / 2], t[t.size() / 10], t[t.size() * 9 / 10], t.size());
  }
  if (tr.loss_scaler().enabled())
    std::fprintf(stderr, "ddpm: loss scale %g, %lld steps skipped for Inf/NaN gradients\n",
                 tr.loss_scaler().scale(), (long long)tr.loss_scaler().skipped_steps());
  r.precision_report = tr.precision_report();
  if (!r.precision_report.empty())  // one line per product: dtype chosen and why
    io::write_file_atomic((fs::path(dir) / "precision.txt").string(), r.precision_report);
  if (r.ema.empty()) r.ema = tr.ema_weights();
  return r;
}

DdpmRun load_ddpm(const std::string& dir) {
  std::string cfg_path = (fs::path(dir) / "config.json").string();
  std::error_code ec;
  FX_CHECK(fs::is_regular_file(cfg_path, ec), "'{}' holds no run (no config.json)", dir);
  DdpmRun r;
  r.cfg = DdpmRunConfig::from_json(json::parse(io::read_file(cfg_path)), cfg_path);
  nn::InitRng rng(r.cfg.seed);
  r.model = std::make_unique<nn::UNet>(r.cfg.unet, rng);
  std::string mp = (fs::path(dir) / "model.safetensors").string();
  auto mf = io::load_safetensors(mp);
  nn::load_parameters(*r.model, mf, mp);
  r.step = step_of(mf, mp);
  std::string ep = (fs::path(dir) / "ema.safetensors").string();
  if (fs::is_regular_file(ep, ec)) {
    auto ef = io::load_safetensors(ep);
    for (auto& [name, p] : r.model->named_parameters()) {
      auto it = ef.tensors.find(name);
      FX_CHECK(it != ef.tensors.end() && it->second.shape() == p->value.shape(),
               "{}: tensor '{}' missing or not shaped {}", ep, name, shape_str(p->value.shape()));
      r.ema[name] = it->second.to(DType::f32);
    }
  }
  return r;
}

bool uses_ema(const DdpmRun& r, bool raw) {
  return !raw && !r.ema.empty() && double(r.step) * (1.0 - r.cfg.ema) >= 5.0;
}

Tensor sample_ddpm(DdpmRun& r, int64_t n, const gen::SamplerOptions& o, bool raw,
                   gen::SampleStats* stats) {
  gen::DdpmSchedule sched = gen::make_schedule(r.cfg.schedule, r.cfg.timesteps);
  std::map<std::string, Tensor> w = uses_ema(r, raw) ? r.ema : nn::parameter_tensors(*r.model);
  std::unique_ptr<util::Progress> bar;
  return gen::ddpm_sample(
      *r.model, w, sched, gen::prediction_from_name(r.cfg.prediction), n, o,
      [&](int64_t done, int64_t total) {
        if (!bar) bar = std::make_unique<util::Progress>("sample", total);
        bar->update(done);
        if (done == total) bar->finish();
      },
      stats);
}

}  // namespace fx::run
