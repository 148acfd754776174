#include "fluxion/loop/self_consuming_loop.h"

#include <chrono>
#include <filesystem>
#include <map>

#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/gen/flow_metrics.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/json_limits.h"
#include "fluxion/loop/image_data.h"
#include "fluxion/loop/loop_data.h"
#include "fluxion/loop/loop_report.h"
#include "fluxion/metrics/knn_precision_recall.h"
#include "fluxion/metrics/sliced_wasserstein.h"

namespace fx::loop {

namespace fs = std::filesystem;

namespace {

constexpr int kProjections = 256;
constexpr uint64_t kProjectionSeed = 0;  // the same directions for every generation and floor

std::string gen_dir(const std::string& dir, int64_t t) {
  return fmt::format("{}/gen-{:03}", dir, t);
}

nlohmann::json read_json_file(const std::string& path) {
  nlohmann::json j = io::parse_json_bounded(io::read_file(path), io::kMaxJsonDepth, path);
  FX_CHECK(j.is_object(), "{}: not a JSON object", path);
  return j;
}

void write_jsonl(const std::string& path, const std::vector<nlohmann::json>& lines) {
  std::string text;
  for (const nlohmann::json& l : lines) text += l.dump() + "\n";
  io::write_file_atomic(path, text);
}

// Sample moments: trace of the covariance and squared distance of the mean from the real one.
std::pair<double, double> moments(const Tensor& x, const metrics::GaussianFit& real) {
  metrics::GaussianFit g = metrics::fit_gaussian(x);
  double tr = 0, shift = 0;
  for (int64_t a = 0; a < g.dim; ++a) {
    tr += g.cov[a * g.dim + a];
    shift += (g.mean[a] - real.mean[a]) * (g.mean[a] - real.mean[a]);
  }
  return {tr, shift};
}

}  // namespace

namespace {

EvalReference make_image_reference(const LoopConfig& cfg) {
  EvalReference r;
  r.features = std::make_shared<run::FmnistFeatures>();
  r.heldout =
      data::load_fashion_mnist(data::default_fashion_mnist_dir(), /*train=*/false, cfg.eval_n)
          .images;
  r.heldout_features = r.features->features(r.heldout);
  r.train_images = std::make_shared<FmnistTrainSplit>();
  Tensor other =
      r.features->features(r.train_images->draw(draw_seed(cfg.seed, Draw::floor), cfg.eval_n));
  r.fd_floor = metrics::frechet_distance(r.heldout_features, other);
  metrics::PrecisionRecall pr = metrics::knn_precision_recall(r.heldout_features, other, cfg.k);
  r.precision_floor = pr.precision;
  r.recall_floor = pr.recall;
  return r;
}

// The scores of one generation's samples.
nlohmann::json score_samples(const LoopConfig& cfg, const EvalReference& ref,
                             const Tensor& samples) {
  if (ref.images()) {
    Tensor f = ref.features->features(samples);
    metrics::PrecisionRecall pr = metrics::knn_precision_recall(ref.heldout_features, f, cfg.k);
    return {{"precision", pr.precision},
            {"recall", pr.recall},
            {"fd", metrics::frechet_distance(ref.heldout_features, f)},
            {"fd_floor", ref.fd_floor},
            {"precision_floor", ref.precision_floor},
            {"recall_floor", ref.recall_floor}};
  }
  metrics::PrecisionRecall pr = metrics::knn_precision_recall(ref.heldout, samples, cfg.k);
  auto [tr, shift] = moments(samples, ref.real);
  nlohmann::json j = {
      {"precision", pr.precision},
      {"recall", pr.recall},
      {"sliced_w2",
       metrics::sliced_wasserstein(ref.heldout, samples, kProjections, kProjectionSeed)},
      {"sliced_w2_floor", ref.sliced_w2_floor},
      {"precision_floor", ref.precision_floor},
      {"recall_floor", ref.recall_floor},
      {"sample_trace_cov", tr},
      {"sample_mean_shift2", shift},
  };
  // A mixture's modes: diversity that a wide blur of samples cannot fake, unlike k-NN recall.
  if (gen::GaussianMixture::is_builtin(cfg.data) && cfg.data != "gaussian") {
    gen::ModeCoverage mc = gen::mode_coverage(samples, gen::GaussianMixture::by_name(cfg.data));
    j["modes_covered"] = mc.covered;
    j["modes"] = mc.modes;
    j["high_quality"] = mc.high_quality;
  }
  return j;
}

}  // namespace

EvalReference make_eval_reference(const LoopConfig& cfg) {
  if (is_image_data(cfg.data)) return make_image_reference(cfg);
  EvalReference r;
  r.heldout = data::sample_toy(cfg.data, cfg.eval_n, draw_seed(cfg.seed, Draw::heldout), cfg.dim);
  Tensor other = data::sample_toy(cfg.data, cfg.eval_n, draw_seed(cfg.seed, Draw::floor), cfg.dim);
  r.sliced_w2_floor = metrics::sliced_wasserstein(r.heldout, other, kProjections, kProjectionSeed);
  metrics::PrecisionRecall pr = metrics::knn_precision_recall(r.heldout, other, cfg.k);
  r.precision_floor = pr.precision;
  r.recall_floor = pr.recall;
  if (cfg.data == "gaussian") {  // N(0, I): exact
    r.real.dim = cfg.dim;
    r.real.mean.assign(cfg.dim, 0.0);
    r.real.cov.assign(cfg.dim * cfg.dim, 0.0);
    for (int64_t a = 0; a < cfg.dim; ++a) r.real.cov[a * cfg.dim + a] = 1;
  } else {
    r.real = metrics::fit_gaussian(
        data::sample_toy(cfg.data, 50000, draw_seed(cfg.seed, Draw::floor, 1), cfg.dim));
  }
  return r;
}

LoopResult run_loop(const LoopConfig& cfg, Family family, double lambda, const std::string& dir,
                    const EvalReference& ref, const ModelFactory& make, const LoopRunOptions& opts,
                    int64_t* budget) {
  fs::create_directories(dir);
  LoopResult r{loop_name(family, lambda), dir, family, lambda, {}, false};
  int64_t t0 = 1;  // the first generation not finished
  for (; t0 <= cfg.generations && fs::exists(gen_dir(dir, t0) + "/" + kGenerationDone); ++t0)
    r.lines.push_back(read_json_file(gen_dir(dir, t0) + "/" + kGenerationDone));

  std::map<int64_t, std::unique_ptr<LoopModel>> models;  // finished generations, loaded lazily
  auto model_of = [&](int64_t s) -> LoopModel& {
    auto it = models.find(s);
    if (it == models.end()) {
      std::unique_ptr<LoopModel> m = make();
      m->load(gen_dir(dir, s));
      it = models.emplace(s, std::move(m)).first;
    }
    return *it->second;
  };
  const std::shared_ptr<FmnistTrainSplit>& images = ref.train_images;
  RealFn real = [&](int64_t draw, int64_t count) {
    const uint64_t seed = draw_seed(cfg.seed, Draw::real, draw);
    return images ? images->draw(seed, count) : data::sample_toy(cfg.data, count, seed, cfg.dim);
  };

  for (int64_t t = t0; t <= cfg.generations; ++t) {
    if (opts.stop_after > 0 && *budget >= opts.stop_after) return r;
    auto start = std::chrono::steady_clock::now();
    // An interrupted generation starts over. Paths stay as they are (a method's run folder
    // names its data file), so metrics.json, written last, is what commits a generation.
    const std::string gdir = gen_dir(dir, t);
    fs::remove_all(gdir);
    fs::create_directories(gdir);

    SetPlan plan = plan_training_set(family, t, cfg.n, cfg.real_count(family), cfg.history);
    Tensor train = assemble_training_set(plan, real, [&](int64_t s, int64_t count) {
      return model_of(s).sample(count, draw_seed(cfg.seed, Draw::synthetic, s, t), lambda);
    });
    write_points_npy(gdir + "/train.npy", train);
    std::unique_ptr<LoopModel> model = make();
    // A warm start reads generation t−1's finished folder, which a resume keeps.
    model->fit(train, draw_seed(cfg.seed, Draw::fit, t), gdir,
               cfg.warm_start && t > 1 ? gen_dir(dir, t - 1) : "");

    Tensor samples = model->sample(cfg.eval_n, draw_seed(cfg.seed, Draw::eval, t), lambda);
    write_points_npy(gdir + "/samples.npy", samples);
    nlohmann::json line = {
        {"generation", t},     {"family", family_name(family)},          {"lambda", lambda},
        {"n_real", plan.real}, {"n_synthetic", plan.size() - plan.real},
    };
    line.update(score_samples(cfg, ref, samples));
    if (!ref.images()) line.update(model->model_metrics(ref.real, lambda));
    line["seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    io::write_file_atomic(gdir + "/" + kGenerationDone, line.dump(1) + "\n");

    r.lines.push_back(line);
    write_jsonl(dir + "/loop.jsonl", r.lines);
    ++*budget;
    // Only the last `history` generations are sampled again.
    if (cfg.history > 0)
      for (auto it = models.begin(); it != models.end();)
        it = it->first <= t - cfg.history ? models.erase(it) : std::next(it);
    if (!opts.quiet) {
      const bool img = ref.images();
      fmt::print(
          "{} generation {}/{}: precision {:.3f} recall {:.3f} {} {:.4f} (floor {:.4f}), "
          "{:.1f} s\n",
          r.name, t, cfg.generations, line["precision"].get<double>(), line["recall"].get<double>(),
          img ? "FD-FMNIST" : "sliced-W2", line[img ? "fd" : "sliced_w2"].get<double>(),
          img ? ref.fd_floor : ref.sliced_w2_floor, line["seconds"].get<double>());
    }
  }
  write_jsonl(dir + "/loop.jsonl", r.lines);  // also after a resume that found all finished
  r.finished = true;
  return r;
}

void check_study_folder(const LoopConfig& cfg) {
  FX_CHECK(!cfg.out.empty(), "--out: no study folder given");
  const fs::path out(cfg.out), file = out / kStudyFile;
  if (!fs::exists(out)) return;
  FX_CHECK(fs::is_directory(out), "--out: {} exists and is not a folder", cfg.out);
  if (!fs::exists(file)) {
    FX_CHECK(fs::is_empty(out),
             "--out: {} is not empty and has no {}: not a loop study folder (choose a new --out)",
             cfg.out, kStudyFile);
    return;
  }
  nlohmann::json there = read_json_file(file.string());
  FX_CHECK(there.value("kind", "") == "self-consuming-loop" && there.contains("config") &&
               there["config"].is_object(),
           "{}: not a self-consuming loop study", file.string());
  nlohmann::json here = cfg.to_json(), defaults = LoopConfig{}.to_json();
  std::vector<std::string> diffs;
  for (auto& [key, value] : here.items()) {
    if (key == "generations") continue;  // a finished study may be extended
    const nlohmann::json& c = there["config"];
    // A study written before an option existed ran with its default.
    if (!c.contains(key) && defaults.contains(key) && defaults[key] == value) continue;
    if (!c.contains(key))
      diffs.push_back(fmt::format("{} (absent there, {} here)", key, value.dump()));
    else if (c[key] != value)
      diffs.push_back(fmt::format("{} ({} there, {} here)", key, c[key].dump(), value.dump()));
  }
  FX_CHECK(diffs.empty(), "{} holds another study: {} (choose a new --out)", file.string(),
           fmt::join(diffs, ", "));
}

std::vector<LoopResult> run_study(const LoopConfig& cfg, const ModelFactory& make,
                                  const LoopRunOptions& opts) {
  cfg.validate();
  check_study_folder(cfg);
  fs::create_directories(cfg.out);
  io::write_file_atomic(
      cfg.out + "/" + kStudyFile,
      nlohmann::json{{"kind", "self-consuming-loop"}, {"config", cfg.to_json()}}.dump(1) + "\n");
  EvalReference ref = make_eval_reference(cfg);
  std::vector<LoopResult> results;
  int64_t budget = 0;
  for (Family f : cfg.family_list())
    for (double lambda : cfg.lambda_list()) {
      results.push_back(
          run_loop(cfg, f, lambda, cfg.out + "/" + loop_name(f, lambda), ref, make, opts, &budget));
      if (!results.back().finished) {
        write_study_report(cfg, ref, results);
        return results;
      }
    }
  write_study_report(cfg, ref, results);
  return results;
}

}  // namespace fx::loop
