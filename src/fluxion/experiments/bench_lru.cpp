#include "fluxion/experiments/bench_lru.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/api/fx.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/core/error.h"
#include "fluxion/data/sequence_set.h"
#include "fluxion/io/plot.h"
#include "fluxion/nn/lru.h"
#include "fluxion/optim/trainer.h"

namespace fx::experiments {

namespace {
std::vector<int64_t> parse_int_list(const std::string& s, const char* what) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      v.push_back(std::stoll(item, &used));
      FX_CHECK(used == item.size() && v.back() > 0, "");
    } catch (...) {
      fail("{}: '{}' is not a comma-separated list of positive integers", what, s);
    }
  }
  FX_CHECK(!v.empty(), "{}: empty list", what);
  return v;
}

}  // namespace

// "fluxion", "fluxion compiled", "fluxion bf16", "fluxion compiled bf16": the row label.
std::string bench_impl_name(const BenchOptions& o) {
  std::string s = "fluxion";
  if (o.compile) s += " compiled";
  if (o.recompute_scans) s += " checkpointed";
  if (o.precision != "fp32") s += " " + o.precision;
  return s;
}

// The peer's synthetic task (lru_seq.py --task synth): d_in 2, 2 classes, Adam step.
void bench_lru(const BenchOptions& o) {
  for (int64_t L : parse_int_list(o.seq_lens, "--seq-len")) {
    nn::SequenceModelConfig m;
    m.d_in = 2;
    m.n_classes = 2;
    m.layers = o.layers;
    m.lru.d_model = o.d_model;
    m.lru.d_state = o.d_state;
    nn::InitRng rng(o.seed);
    nn::LRUClassifier model(m, rng);
    nn::LRUClassifier& mr = model;
    optim::LossFn loss_fn = [&mr](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
      return cross_entropy(mr(b.at("x")), b.at("y"));
    };
    optim::TrainerOptions topts;
    topts.compile = o.compile;
    topts.recompute_scans = o.recompute_scans;
    topts.precision.precision = amp::precision_from_name(o.precision);
    topts.precision.measure = o.precision_measure;
    topts.loss_scaling = amp::loss_scaling_for("auto", topts.precision.precision);
    optim::Trainer tr(model, optim::adam(), loss_fn,
                      {{"x", {o.batch, L, 2}}, {"y", {o.batch}, DType::i64}}, topts);
    if (tr.executable()) std::fprintf(stderr, "  %s\n", tr.executable()->stats().summary().c_str());
    if (!tr.precision_report().empty()) std::fprintf(stderr, "%s\n", tr.precision_report().c_str());
    data::SeqRng r(o.seed + 1);
    std::vector<double> times;
    for (int64_t s = 0; s < o.warmup + o.steps; ++s) {
      // adding-problem batch, as the peer: values U(0,1), one mark in each half
      Tensor x({o.batch, L, 2}, DType::f32), y({o.batch}, DType::i64);
      float* xp = x.data<float>();
      for (int64_t b = 0; b < o.batch; ++b) {
        int64_t i1 = r.below(L / 2), i2 = L / 2 + r.below(L - L / 2);
        for (int64_t t = 0; t < L; ++t) {
          xp[(b * L + t) * 2] = (float)r.uniform();
          xp[(b * L + t) * 2 + 1] = (t == i1 || t == i2) ? 1.f : 0.f;
        }
        y.data<int64_t>()[b] = xp[(b * L + i1) * 2] + xp[(b * L + i2) * 2] > 1.f;
      }
      auto t0 = std::chrono::steady_clock::now();
      double loss = tr.step({{"x", x}, {"y", y}});
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (s >= o.warmup) times.push_back(ms);
      std::fprintf(stderr, "  L=%lld step %lld: %.1f ms loss %.4f\n", (long long)L, (long long)s,
                   ms, loss);
    }
    std::sort(times.begin(), times.end());
    double med = times[times.size() / 2];
    if (times.size() % 2 == 0) med = 0.5 * (times[times.size() / 2 - 1] + med);
    nlohmann::json j = {{"impl", bench_impl_name(o)},
                        {"compile", o.compile},
                        {"recompute_scans", o.recompute_scans},
                        {"precision", o.precision},
                        {"seq_len", L},
                        {"batch", o.batch},
                        {"layers", o.layers},
                        {"d_model", o.d_model},
                        {"d_state", o.d_state},
                        {"steps", o.steps},
                        {"ms_per_step_median", med},
                        {"ms_min", times.front()},
                        {"ms_max", times.back()},
                        {"peak_bytes", tr.peak_bytes()}};
    std::printf("RESULT_JSON %s\n", j.dump().c_str());
    std::fflush(stdout);
  }
}

// Lines {"impl": ..., "seq_len": ..., "ms_per_step_median": ...} -> log-log step time plot.
void plot_bench(const std::string& in, const std::string& out) {
  std::ifstream f(in);
  FX_CHECK(f.good(), "plot-bench: cannot open '{}'", in);
  std::map<std::string, io::Curve> curves;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
      io::Curve& c = curves[j.at("impl").get<std::string>()];
      c.label = j.at("impl").get<std::string>();
      c.x.push_back(std::log2(j.at("seq_len").get<double>()));
      c.y.push_back(j.at("ms_per_step_median").get<double>() / 1000.0);
    } catch (const nlohmann::json::exception& e) {
      fail("plot-bench: {} line {}: {}", in, lineno, e.what());
    }
  }
  io::LinePanel p{"LRU training step (batch 32, 4 layers, H 128, N 256)",
                  "log2(sequence length)",
                  "seconds per step (log)",
                  {},
                  true};
  for (auto& [name, c] : curves) p.curves.push_back(c);
  io::save_figure(out, {p}, 640, 480);
}

}  // namespace fx::experiments
