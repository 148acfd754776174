// Times fluxion training steps on the workloads of the PyTorch peer scripts, and prints the
// same RESULT_JSON line they print (median ms/step after warm-up), so bench/run_all.sh can put
// the two side by side. Each timed step includes drawing the batch, as the peer's does. The
// FLOPs and bytes in the line come from the step's own graph (compiler/cost_model.h): GEMM
// FLOPs from the matmul and convolution shapes, bytes from what the executed steps (fused
// kernels when compiled) read and write: the roofline table of bench/RESULTS.md.
//
//   bench_train_step --workload mlp --steps 300 --threads 2 [--compile | --alternate]
//                    [--precision bf16] [--recompute-scans] [--json out.json]
//
// --alternate: the interpreter and the compiled executor in one process, each on its own
// copy of the model (same initial weights, same batches), taking turns step by step (the
// order flips every step), so the machine's minute-to-minute drift hits both alike; prints
// both medians and the median of the per-step ratios interpreter / compiled.
//
// mlp:  rectified flow, 8 Gaussians -> moons, MLP [x,t] -> 3x256 SiLU -> 2, batch 1024, Adam
//       1e-3: shared/peer/rectified_flow_2d.py.
// unet: DDPM eps-prediction on Fashion-MNIST, U-Net base 32, mult 1,2,2, attention at 7x7,
//       batch 64 (--batch), Adam 2e-4: shared/peer/ddpm_unet.py.
// lru:  LRU classifier on the adding task, 4 layers, d_model 128, d_state 256, batch 32,
//       length --seq-len (4096), Adam: `fluxion bench-lru`'s configuration.
// ddim: DDIM sampling with the unet workload's (untrained) U-Net, --ddim-steps (50) network
//       calls per sample of --batch (64) images; a "step" is one such sample.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fluxion/compiler/compiler.h"
#include "fluxion/compiler/cost_model.h"
#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/sequence_set.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/gen/ddpm.h"
#include "fluxion/gen/rectified_flow.h"
#include "fluxion/nn/lru.h"
#include "fluxion/nn/unet.h"
#include "fluxion/optim/trainer.h"

namespace {

struct Args {
  std::string workload = "mlp";
  int steps = 300, warmup = 5, threads = 2;
  int64_t batch = 0, hidden = 256;  // batch 0: the workload's (and its peer's) default
  int64_t seq_len = 4096, ddim_steps = 50;
  std::string json;
  std::string precision = "fp32";
  bool measure = true;           // the precision pass keeps f32 where it is faster here
  bool compile = false;          // run the step compiled (fused kernels) instead of interpreted
  bool alternate = false;        // both executors in turn (see the comment at the top)
  bool recompute_scans = false;  // compiled LRU: checkpoint the scans (CompileOptions)
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fx::fail("{} needs a value", k);
      return argv[++i];
    };
    if (k == "--workload")
      a.workload = value();
    else if (k == "--steps")
      a.steps = std::stoi(value());
    else if (k == "--warmup")
      a.warmup = std::stoi(value());
    else if (k == "--threads")
      a.threads = std::stoi(value());
    else if (k == "--batch")
      a.batch = std::stoll(value());
    else if (k == "--hidden")
      a.hidden = std::stoll(value());
    else if (k == "--seq-len")
      a.seq_len = std::stoll(value());
    else if (k == "--ddim-steps")
      a.ddim_steps = std::stoll(value());
    else if (k == "--json")
      a.json = value();
    else if (k == "--compile")
      a.compile = true;
    else if (k == "--recompute-scans")
      a.recompute_scans = true;
    else if (k == "--alternate")
      a.alternate = true;
    else if (k == "--precision")
      a.precision = value();
    else if (k == "--precision-measure")
      a.measure = value() != "false";
    else
      fx::fail("unknown flag '{}' (see the comment at the top of bench_train_step.cpp)", k);
  }
  FX_CHECK(
      a.workload == "mlp" || a.workload == "unet" || a.workload == "lru" || a.workload == "ddim",
      "unknown workload '{}' (known: mlp, unet, lru, ddim)", a.workload);
  if (a.batch == 0) a.batch = a.workload == "mlp" ? 1024 : a.workload == "lru" ? 32 : 64;
  FX_CHECK(a.seq_len > 1 && a.ddim_steps > 0, "--seq-len {} / --ddim-steps {} out of range",
           a.seq_len, a.ddim_steps);
  FX_CHECK(!(a.workload == "ddim" && a.alternate), "--alternate times training steps only");
  FX_CHECK(a.batch > 0, "--batch {} must be positive", a.batch);
  FX_CHECK(a.steps > a.warmup, "--steps {} must exceed --warmup {}", a.steps, a.warmup);
  FX_CHECK(!(a.compile && a.alternate), "--compile and --alternate exclude each other");
  return a;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The fields every RESULT_JSON line starts with.
nlohmann::json result_head(const Args& a, const std::string& executor) {
  return {{"script", "fluxion_" + a.workload},
          {"executor", executor},
          {"threads", a.threads},
          {"steps", a.steps},
          {"warmup", a.warmup},
          {"batch", a.batch}};
}

// Prints the RESULT_JSON line run_all.sh reads, and writes --json when given.
int emit(const Args& a, const nlohmann::json& r) {
  std::printf("RESULT_JSON %s\n", r.dump().c_str());
  if (!a.json.empty()) std::ofstream(a.json) << r.dump(2) << "\n";
  return 0;
}

// --alternate: the two executors take turns, the order flipping every step.
int alternate(const Args& a, fx::optim::Trainer& interp, fx::optim::Trainer& compiled,
              const std::function<fx::Feeds(int)>& batch) {
  std::vector<double> ti, tc, ratio;
  int identical = 0;
  for (int s = 0; s < a.steps; ++s) {
    const fx::Feeds feeds = batch(s);
    double ms[2], loss[2];
    for (int turn = 0; turn < 2; ++turn) {
      const int which = (s + turn) % 2;  // 0: interpreter, 1: compiled
      const auto t0 = std::chrono::steady_clock::now();
      loss[which] = (which == 0 ? interp : compiled).step(feeds);
      ms[which] = ms_since(t0);
    }
    identical += loss[0] == loss[1];
    if (s < a.warmup) continue;
    ti.push_back(ms[0]);
    tc.push_back(ms[1]);
    ratio.push_back(ms[0] / ms[1]);
  }
  const double mi = median(ti), mc = median(tc), mr = median(ratio);
  std::printf(
      "[fluxion %s, alternating] interpreter %.3f ms/step, compiled %.3f ms/step (medians over "
      "%zu steps each); per-step ratio interpreter/compiled: median %.3f; losses identical in %d "
      "of %d steps\n",
      a.workload.c_str(), mi, mc, ti.size(), mr, identical, a.steps);
  nlohmann::json r = result_head(a, "alternate");
  r.update({{"interp_ms_median", mi},
            {"compiled_ms_median", mc},
            {"ratio_median", mr},
            {"identical_losses", identical},
            {"interp_peak_bytes", interp.peak_bytes()},
            {"compiled_peak_bytes", compiled.peak_bytes()}});
  return emit(a, r);
}

// The step's cost from its graph: the compiled schedule's when compiled, else every node's.
fx::compiler::Cost step_cost(const fx::optim::Trainer& t) {
  if (const fx::compiler::Executable* e = t.executable()) return e->stats().cost;
  return fx::compiler::unfused_cost(fx::compiler::Program(t.graph(), t.step_outputs()));
}

// Roofline fields: GEMM (matmul + convolution) FLOPs, all FLOPs, bytes, and the rates.
void add_cost(nlohmann::json& r, const fx::compiler::Cost& c, double ms) {
  r.update({{"gemm_flops", c.gemm_flops()},
            {"matmul_flops", c.matmul_flops},
            {"conv_flops", c.conv_flops},
            {"other_flops", c.other_flops},
            {"bytes_moved", c.bytes},
            {"train_flops_per_step_est", c.gemm_flops()},
            {"achieved_gflops", c.gemm_flops() / ms / 1e6},
            {"achieved_gbytes_per_s", c.bytes / ms / 1e6}});
}

// ddim: one "step" draws --batch images with --ddim-steps DDIM steps; the cost is the
// network's (its forward graph, compiled as the sampler compiles it) times its calls.
int sample_ddim(const Args& a, const fx::amp::PrecisionPolicy& precision) {
  fx::nn::InitRng init(0);
  fx::nn::UNet model(fx::nn::UNetConfig{}, init);
  const fx::gen::DdpmSchedule sched = fx::gen::make_schedule("linear");
  fx::gen::SamplerOptions so;
  so.method = "ddim";
  so.steps = a.ddim_steps;
  so.batch = a.batch;
  so.compile = a.compile;
  so.precision = precision;
  std::vector<double> ms;
  int64_t calls = 0;
  for (int s = 0; s < a.steps; ++s) {
    so.seed = (uint64_t)s;
    fx::gen::SampleStats st;
    const auto t0 = std::chrono::steady_clock::now();
    fx::gen::ddpm_sample(model, {}, sched, fx::gen::Prediction::eps, a.batch, so, nullptr, &st);
    ms.push_back(ms_since(t0));
    calls = st.network_calls;
  }
  fx::Graph g;
  model.bind(g);
  const fx::nn::UNetConfig& c = model.config();
  fx::Var x = g.input("x", {a.batch, c.in_channels, c.image_size, c.image_size});
  fx::Var y = model(x, g.input("t", {a.batch}));
  const fx::compiler::Cost net = a.compile ? fx::compiler::compile(g, {y})->stats().cost
                                           : fx::compiler::unfused_cost({g, {y}});
  const double med = median(std::vector<double>(ms.begin() + a.warmup, ms.end()));
  nlohmann::json r = result_head(a, a.compile ? "compiled" : "interpreter");
  r.update({{"precision", a.precision},
            {"ddim_steps", a.ddim_steps},
            {"network_calls", calls},
            {"ms_per_step_median", med},
            {"images_per_s", a.batch / med * 1e3}});
  add_cost(r, net * (double)calls, med);
  std::printf("[fluxion ddim] median %.1f ms per %lld images (%lld network calls), %.2f images/s\n",
              med, (long long)a.batch, (long long)calls, a.batch / med * 1e3);
  return emit(a, r);
}

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  omp_set_num_threads(a.threads);
  const int64_t B = a.batch, H = a.hidden;
  fx::optim::TrainerOptions opts;
  opts.precision.precision = fx::amp::precision_from_name(a.precision);
  opts.precision.measure = a.measure;
  opts.recompute_scans = a.recompute_scans;
  if (a.workload == "ddim") return sample_ddim(a, opts.precision);
  std::function<fx::Feeds(int)> batch;  // the batch of step s
  fx::gen::DdpmSchedule sched;
  fx::data::LabeledImages images;
  if (a.workload == "mlp") {
    opts.schedule = {1e-3, 0, 0, 0.0};
    batch = [B](int s) {
      return fx::Feeds{{"x0", fx::data::sample_toy("8gaussians", B, 2 * uint64_t(s) + 1)},
                       {"x1", fx::data::sample_toy("moons", B, 2 * uint64_t(s) + 2)}};
    };
  } else if (a.workload == "lru") {
    opts.schedule = {1e-3, 0, 0, 0.0};
    const int64_t L = a.seq_len;
    batch = [B, L](int s) {  // the adding task, as bench-lru draws it
      fx::data::SeqRng r(1000 + (uint64_t)s);
      fx::Tensor x({B, L, 2}, fx::DType::f32), y({B}, fx::DType::i64);
      float* xp = x.data<float>();
      for (int64_t b = 0; b < B; ++b) {
        int64_t i1 = r.below(L / 2), i2 = L / 2 + r.below(L - L / 2);
        for (int64_t t = 0; t < L; ++t) {
          xp[(b * L + t) * 2] = (float)r.uniform();
          xp[(b * L + t) * 2 + 1] = (t == i1 || t == i2) ? 1.f : 0.f;
        }
        y.data<int64_t>()[b] = xp[(b * L + i1) * 2] + xp[(b * L + i2) * 2] > 1.f;
      }
      return fx::Feeds{{"x", x}, {"y", y}};
    };
  } else {
    sched = fx::gen::make_schedule("linear");
    opts.schedule = {2e-4, 0, 0, 0.0};
    images = fx::data::load_fashion_mnist(fx::data::default_fashion_mnist_dir(), true, 64 * B);
    batch = [&images, B](int s) {
      const int64_t n = images.images.dim(0), per = 28 * 28;
      fx::Tensor x({B, 1, 28, 28}, fx::DType::f32);
      const float* src = images.images.data<float>();
      for (int64_t i = 0; i < B; ++i) {
        const int64_t row = (int64_t(s) * B + i) % n;
        for (int64_t k = 0; k < per; ++k) x.data<float>()[i * per + k] = src[row * per + k] * 2 - 1;
      }
      return fx::Feeds{{"x", x}};
    };
  }
  // A model and its trainer, from the same initial weights every time.
  struct Run {
    std::unique_ptr<fx::nn::Module> model;
    std::unique_ptr<fx::optim::Trainer> trainer;
  };
  auto make_run = [&](bool compile) {
    Run r;
    fx::nn::InitRng init(0);
    fx::optim::TrainerOptions o = opts;
    o.compile = compile;
    if (a.workload == "mlp") {
      auto m =
          std::make_unique<fx::gen::VelocityMLP>(fx::gen::VelocityConfig{2, H, 3, "silu"}, init);
      fx::gen::VelocityMLP* mp = m.get();
      r.model = std::move(m);
      r.trainer = std::make_unique<fx::optim::Trainer>(
          *mp, fx::optim::adam(),
          [mp](fx::Graph&, const std::unordered_map<std::string, fx::Var>& b, fx::Var key) {
            return fx::gen::rectified_flow_loss(*mp, b.at("x0"), b.at("x1"), key);
          },
          std::vector<fx::optim::BatchInput>{{"x0", {B, 2}}, {"x1", {B, 2}}}, o);
    } else if (a.workload == "lru") {
      fx::nn::SequenceModelConfig c;
      c.d_in = 2;
      c.n_classes = 2;
      auto m = std::make_unique<fx::nn::LRUClassifier>(c, init);
      fx::nn::LRUClassifier* mp = m.get();
      r.model = std::move(m);
      r.trainer = std::make_unique<fx::optim::Trainer>(
          *mp, fx::optim::adam(),
          [mp](fx::Graph&, const std::unordered_map<std::string, fx::Var>& b, fx::Var) {
            return fx::cross_entropy((*mp)(b.at("x")), b.at("y"));
          },
          std::vector<fx::optim::BatchInput>{{"x", {B, a.seq_len, 2}}, {"y", {B}, fx::DType::i64}},
          o);
    } else {
      auto m = std::make_unique<fx::nn::UNet>(fx::nn::UNetConfig{}, init);
      fx::nn::UNet* mp = m.get();
      r.model = std::move(m);
      r.trainer = std::make_unique<fx::optim::Trainer>(
          *mp, fx::optim::adam(),
          [mp, &sched](fx::Graph&, const std::unordered_map<std::string, fx::Var>& b, fx::Var key) {
            return fx::gen::ddpm_loss(*mp, sched, b.at("x"), key, fx::gen::Prediction::eps);
          },
          std::vector<fx::optim::BatchInput>{{"x", {B, 1, 28, 28}}}, o);
    }
    return r;
  };
  if (a.alternate) {
    Run interp = make_run(false), compiled = make_run(true);
    return alternate(a, *interp.trainer, *compiled.trainer, batch);
  }
  Run run = make_run(a.compile);
  fx::optim::Trainer* trainer = run.trainer.get();

  std::vector<double> ms, losses;
  for (int s = 0; s < a.steps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    losses.push_back(trainer->step(batch(s)));
    ms.push_back(ms_since(t0));
  }
  const std::vector<double> timed(ms.begin() + a.warmup, ms.end());
  const double med = median(timed);
  const fx::compiler::Cost cost = step_cost(*trainer);
  nlohmann::json r = result_head(a, a.compile ? "compiled" : "interpreter");
  r.update({{"precision", a.precision},
            {"precision_measure", a.measure},
            {"recompute_scans", a.recompute_scans},
            {"ms_per_step_median", med},
            {"samples_per_s", B / med * 1e3},
            {"first_loss", losses.front()},
            {"final_loss", losses.back()},
            {"peak_bytes", trainer->peak_bytes()}});
  if (a.workload == "lru") r["seq_len"] = a.seq_len;
  add_cost(r, cost, med);
  std::printf(
      "[fluxion %s] median %.3f ms/step over %zu steps, %.1f GEMM GFLOP/s (%s), loss %.4f -> "
      "%.4f\n",
      a.workload.c_str(), med, timed.size(), cost.gemm_flops() / med / 1e6,
      fx::compiler::cost_str(cost).c_str(), losses.front(), losses.back());
  return emit(a, r);
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_train_step: %s\n", e.what());
  return 1;
}
