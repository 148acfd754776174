#include "fluxion/experiments/compare_methods.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fluxion/core/error.h"
#include "fluxion/data/point_source.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/plot.h"
#include "fluxion/methods/registry.h"
#include "fluxion/train/checkpoint.h"
#include "fluxion/train/train_loop.h"

namespace fx::experiments {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Each method's training settings here: its own point defaults (PFGM: batch 128, large batch
// 4096; rectified flow: batch 1024), DDPM's image defaults replaced by the rectified-flow ones
// (batch 1024, Adam 1e-3 with cosine decay).
json train_options(const std::string& method, const CompareMethodsOptions& o) {
  json j = {{"steps", o.steps},
            {"seed", o.seed},
            {"data", o.data},
            {"hidden", o.hidden},
            {"layers", o.layers}};
  if (method == "ddpm") {
    j["batch"] = 1024;
    j["lr"] = 1e-3;
    j["lr_decay"] = "cosine";
  }
  return j;
}

struct Sampler {
  std::string family;  // "1st order", "2nd order", "adaptive"
  std::string label;   // e.g. "euler 20", "ddim 20", "heun 10", "rk45"
  json options;        // the method's sampling options
};

// The samplers of one method at a budget of `nfe` network calls (0: adaptive).
std::vector<Sampler> samplers(const std::string& method, int64_t nfe) {
  const bool ddpm = method == "ddpm";
  if (nfe == 0)
    return {{"adaptive", "rk45",
             ddpm ? json{{"sampler", "ode"}, {"solver", "rk45"}} : json{{"solver", "rk45"}}}};
  std::vector<Sampler> s;
  s.push_back({"1st order", (ddpm ? "ddim " : "euler ") + std::to_string(nfe),
               ddpm ? json{{"sampler", "ddim"}, {"steps", nfe}}
                    : json{{"solver", "euler"}, {"ode_steps", nfe}}});
  if (method == "pfgm")  // Euler in z, the reference's PC predictor (pfgm_sample.h)
    s.push_back({"1st order in z", "euler-z " + std::to_string(nfe),
                 json{{"solver", "euler-z"}, {"ode_steps", nfe}}});
  // Heun costs 2 calls per step; DDPM's ODE adds one call for its last (DDIM) step.
  const int64_t heun = ddpm ? (nfe - 1) / 2 : nfe / 2;
  if (heun >= 1)
    s.push_back({"2nd order", "heun " + std::to_string(heun),
                 ddpm ? json{{"sampler", "ode"}, {"solver", "heun"}, {"steps", heun}}
                      : json{{"solver", "heun"}, {"ode_steps", heun}}});
  return s;
}

struct MethodRow {
  std::string method, family, sampler;
  int64_t budget = 0, nfe = 0;
  double sw2 = 0, sw2_floor = 0, mmd = 0, mmd_floor = 0;
  std::string error;  // a sampler that diverged
};

std::vector<int64_t> parse_budgets(const std::string& s) {
  std::vector<int64_t> v;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    int64_t k = 0;
    try {
      size_t used = 0;
      k = std::stoll(item, &used);
      FX_CHECK(used == item.size(), "");
    } catch (...) {
      fail("compare-methods: --nfe must be a list of positive integers, got '{}'", s);
    }
    FX_CHECK(k > 0 && k <= 10000, "compare-methods: --nfe entries must be in [1, 10000], got {}",
             k);
    v.push_back(k);
  }
  FX_CHECK(!v.empty(), "compare-methods: --nfe is empty");
  return v;
}

// Trains the method into dir, or loads it when dir already holds a checkpoint.
std::unique_ptr<methods::Method> trained(const std::string& name, const std::string& dir,
                                         const CompareMethodsOptions& o, methods::RunContext& ctx) {
  std::unique_ptr<methods::Method> m = methods::make_method(name);
  ctx = methods::RunContext{dir, m->default_train_config()};
  if (train::has_checkpoint(dir)) {
    std::fprintf(stderr, "compare-methods: %s: loading %s\n", name.c_str(), dir.c_str());
    train::load_run(*m, ctx);
    return m;
  }
  train::OptionSet opts;
  ctx.train.declare(opts);
  m->declare(opts);
  opts.from_json(train_options(name, o), "compare-methods");
  ctx.train.validate();
  m->validate(ctx.train);
  std::fprintf(stderr, "compare-methods: %s: training %lld steps on %s into %s\n", name.c_str(),
               (long long)o.steps, o.data.c_str(), dir.c_str());
  train::train_run(*m, ctx, {});
  return m;
}

std::string fmt_sci(double v) { return fmt::format("{:.3g}", v); }

void write_report(const CompareMethodsOptions& o, const std::vector<MethodRow>& rows) {
  std::string md = fmt::format(
      "# PFGM, rectified flow and DDPM at equal network calls\n\n"
      "Data `{}`; each method trained {} steps (seed {}) by `fluxion train <method>`, an MLP of "
      "{} hidden layers of width {} (SiLU) for each, with its point defaults (PFGM: batch 128, "
      "large batch 4096, z_max 10; rectified flow: batch 1024; "
      "DDPM: MLP ε-predictor on standardised points, T = 1000 linear, batch 1024, Adam 1e-3 "
      "cosine). {} samples per row scored against fresh data; the floor is two data samples "
      "against each other. 1st order: Euler (DDIM for DDPM); 1st order in z: PFGM's Euler with "
      "steps in z (the reference's PC predictor); 2nd order: Heun (the "
      "probability-flow ODE with Heun for DDPM, one more call for its last DDIM step); adaptive: "
      "RK45 (tolerance 1e-4 for the flows, 1e-3 for DDPM's ODE).\n\n"
      "| method | sampler | budget | NFE | sliced-W2 | × floor | MMD² | MMD² floor |\n"
      "|---|---|---|---|---|---|---|---|\n",
      o.data, o.steps, o.seed, o.layers, o.hidden, o.n);
  for (const MethodRow& r : rows) {
    if (!r.error.empty()) {
      md += fmt::format("| {} | {} | {} | – | diverged: {} | | | |\n", r.method, r.sampler,
                        r.budget ? std::to_string(r.budget) : "adaptive", r.error);
      continue;
    }
    md += fmt::format("| {} | {} | {} | {} | {:.4f} | {:.2f} | {} | {} |\n", r.method, r.sampler,
                      r.budget ? std::to_string(r.budget) : "adaptive", r.nfe, r.sw2,
                      r.sw2 / r.sw2_floor, fmt_sci(r.mmd), fmt_sci(r.mmd_floor));
  }
  md += "\n![sliced-W2 against NFE, and samples at NFE 20](compare.png)\n";
  io::write_file_atomic((fs::path(o.out) / "report.md").string(), md);
}

void write_picture(const CompareMethodsOptions& o, const std::vector<MethodRow>& rows,
                   const std::map<std::string, Tensor>& samples_at_20) {
  io::LinePanel lines{"sliced-W2 / floor against NFE", "NFE", "sliced-W2 / floor", {}, true};
  std::map<std::string, io::Curve> curves;
  for (const MethodRow& r : rows) {
    if (!r.error.empty() || r.family == "adaptive") continue;
    io::Curve& c = curves[r.method + " " + r.family];
    c.label = r.method + " " + r.family;
    c.x.push_back(double(r.nfe));
    c.y.push_back(r.sw2 / r.sw2_floor);
  }
  for (auto& [k, c] : curves) lines.curves.push_back(c);
  std::vector<io::PlotPanel> panels{lines};
  data::PointSource data(o.data, 2);
  Tensor ref = data.sample(2000, data::mix_seed(o.seed, 77, 1));
  for (auto& [method, x] : samples_at_20) {
    io::ScatterPanel p{method + ", 1st order, NFE 20", {}, {}, {}};
    p.series.push_back({ref, "data", io::Color{150, 150, 150}});
    p.series.push_back({x, "samples"});
    panels.push_back(p);
  }
  io::save_figure((fs::path(o.out) / "compare.png").string(), panels, 420, 420);
}

}  // namespace

void run_compare_methods(const CompareMethodsOptions& o) {
  const std::vector<int64_t> budgets = parse_budgets(o.nfe);
  FX_CHECK(o.steps > 0, "compare-methods: --steps must be positive, got {}", o.steps);
  FX_CHECK(o.n >= 2, "compare-methods: -n must be at least 2, got {}", o.n);
  FX_CHECK(o.hidden > 0 && o.layers > 0,
           "compare-methods: --hidden and --layers must be positive, got {} and {}", o.hidden,
           o.layers);
  data::PointSource probe(o.data, 2);  // a bad --data fails before any training
  std::error_code ec;
  fs::create_directories(o.out, ec);
  FX_CHECK(!ec, "compare-methods: cannot create output folder '{}': {}", o.out, ec.message());

  std::vector<MethodRow> rows;
  std::map<std::string, Tensor> at20;
  std::string jsonl;
  for (const std::string name : {"pfgm", "rectified-flow", "ddpm"}) {
    methods::RunContext ctx;
    auto m = trained(name, (fs::path(o.out) / name).string(), o, ctx);
    ctx.quiet = true;
    std::vector<int64_t> all = budgets;
    all.push_back(0);
    for (int64_t b : all)
      for (const Sampler& s : samplers(name, b)) {
        train::OptionSet so;
        m->declare_sampling(so);
        so.from_json(s.options, "compare-methods", /*ignore_unknown=*/false);
        MethodRow r;
        r.method = name;
        r.family = s.family;
        r.sampler = s.label;
        r.budget = b;
        try {
          json q = m->evaluate(ctx, o.n, o.seed + 1);
          r.nfe = q.at("nfe").get<int64_t>();
          r.sw2 = q.at("sliced_w2");
          r.sw2_floor = q.at("sliced_w2_floor");
          r.mmd = q.at("mmd");
          r.mmd_floor = q.at("mmd_floor");
          if (b == 20 && s.family == "1st order") at20[name] = m->sample(ctx, 2000, o.seed + 2);
        } catch (const Error& e) {  // a diverging ODE is a result, not the end of the report
          r.error = e.what();
        }
        std::printf(
            "%-15s %-10s %-9s NFE %4lld  sliced-W2 %.4f (floor %.4f)  MMD %.3g (floor %.3g)%s\n",
            name.c_str(), s.family.c_str(), s.label.c_str(), (long long)r.nfe, r.sw2, r.sw2_floor,
            r.mmd, r.mmd_floor, r.error.empty() ? "" : ("  " + r.error).c_str());
        jsonl += json{{"method", r.method},
                      {"family", r.family},
                      {"sampler", r.sampler},
                      {"budget", r.budget},
                      {"nfe", r.nfe},
                      {"sliced_w2", r.sw2},
                      {"sliced_w2_floor", r.sw2_floor},
                      {"mmd", r.mmd},
                      {"mmd_floor", r.mmd_floor},
                      {"error", r.error}}
                     .dump() +
                 "\n";
        rows.push_back(r);
      }
  }
  io::write_file_atomic((fs::path(o.out) / "results.jsonl").string(), jsonl);
  write_report(o, rows);
  write_picture(o, rows, at20);
  std::printf("report: %s/report.md\n", o.out.c_str());
}

}  // namespace fx::experiments
