// Times fluxion training steps on the workloads of the PyTorch peer scripts, and prints the
// same RESULT_JSON line they print (median ms/step after warm-up), so bench/run_all.sh can put
// the two side by side. Each timed step includes drawing the batch, as the peer's does.
//
//   bench_train_step --workload mlp --steps 300 --threads 2 [--compile | --alternate]
//                    [--precision bf16] [--json out.json]
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

#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/gen/ddpm.h"
#include "fluxion/gen/rectified_flow.h"
#include "fluxion/nn/unet.h"
#include "fluxion/optim/trainer.h"

namespace {

struct Args {
  std::string workload = "mlp";
  int steps = 300, warmup = 5, threads = 2;
  int64_t batch = 0, hidden = 256;  // batch 0: the workload's (and its peer's) default
  std::string json;
  std::string precision = "fp32";
  bool measure = true;     // the precision pass keeps f32 where it is faster here
  bool compile = false;    // run the step compiled (fused kernels) instead of interpreted
  bool alternate = false;  // both executors in turn (see the comment at the top)
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
    else if (k == "--json")
      a.json = value();
    else if (k == "--compile")
      a.compile = true;
    else if (k == "--alternate")
      a.alternate = true;
    else if (k == "--precision")
      a.precision = value();
    else if (k == "--precision-measure")
      a.measure = value() != "false";
    else
      fx::fail("unknown flag '{}' (see the comment at the top of bench_train_step.cpp)", k);
  }
  FX_CHECK(a.workload == "mlp" || a.workload == "unet", "unknown workload '{}' (known: mlp, unet)",
           a.workload);
  if (a.batch == 0) a.batch = a.workload == "mlp" ? 1024 : 64;
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

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  omp_set_num_threads(a.threads);
  const int64_t B = a.batch, H = a.hidden;
  fx::optim::TrainerOptions opts;
  opts.precision.precision = fx::amp::precision_from_name(a.precision);
  opts.precision.measure = a.measure;
  std::function<fx::Feeds(int)> batch;  // the batch of step s
  double flops = 0;                     // GEMM/conv FLOPs per step, when known
  fx::gen::DdpmSchedule sched;
  fx::data::LabeledImages images;
  if (a.workload == "mlp") {
    opts.schedule = {1e-3, 0, 0, 0.0};
    batch = [B](int s) {
      return fx::Feeds{{"x0", fx::data::sample_toy("8gaussians", B, 2 * uint64_t(s) + 1)},
                       {"x1", fx::data::sample_toy("moons", B, 2 * uint64_t(s) + 2)}};
    };
    // As the peer counts: forward, weight grads, input grads but the first layer's.
    const double fwd = 2.0 * B * (3 * H + 2 * H * H + H * 2);
    flops = 3 * fwd - 2.0 * B * 3 * H;
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
    std::unique_ptr<fx::gen::VelocityMLP> mlp;
    std::unique_ptr<fx::nn::UNet> unet;
    std::unique_ptr<fx::optim::Trainer> trainer;
  };
  auto make_run = [&](bool compile) {
    Run r;
    fx::nn::InitRng init(0);
    fx::optim::TrainerOptions o = opts;
    o.compile = compile;
    if (a.workload == "mlp") {
      r.mlp =
          std::make_unique<fx::gen::VelocityMLP>(fx::gen::VelocityConfig{2, H, 3, "silu"}, init);
      fx::gen::VelocityMLP* m = r.mlp.get();
      r.trainer = std::make_unique<fx::optim::Trainer>(
          *m, fx::optim::adam(),
          [m](fx::Graph&, const std::unordered_map<std::string, fx::Var>& b, fx::Var key) {
            return fx::gen::rectified_flow_loss(*m, b.at("x0"), b.at("x1"), key);
          },
          std::vector<fx::optim::BatchInput>{{"x0", {B, 2}}, {"x1", {B, 2}}}, o);
    } else {
      r.unet = std::make_unique<fx::nn::UNet>(fx::nn::UNetConfig{}, init);
      fx::nn::UNet* m = r.unet.get();
      r.trainer = std::make_unique<fx::optim::Trainer>(
          *m, fx::optim::adam(),
          [m, &sched](fx::Graph&, const std::unordered_map<std::string, fx::Var>& b, fx::Var key) {
            return fx::gen::ddpm_loss(*m, sched, b.at("x"), key, fx::gen::Prediction::eps);
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
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  const std::vector<double> timed(ms.begin() + a.warmup, ms.end());
  const double med = median(timed);
  nlohmann::json r = result_head(a, a.compile ? "compiled" : "interpreter");
  r.update({{"precision", a.precision},
            {"precision_measure", a.measure},
            {"ms_per_step_median", med},
            {"samples_per_s", B / med * 1e3},
            {"first_loss", losses.front()},
            {"final_loss", losses.back()},
            {"train_flops_per_step_est", flops > 0 ? nlohmann::json(flops) : nlohmann::json()},
            {"achieved_gflops", flops > 0 ? nlohmann::json(flops / med / 1e6) : nlohmann::json()},
            {"peak_bytes", trainer->peak_bytes()}});
  std::printf("[fluxion %s] median %.3f ms/step over %zu steps, %.1f GFLOP/s, loss %.4f -> %.4f\n",
              a.workload.c_str(), med, timed.size(), flops / med / 1e6, losses.front(),
              losses.back());
  return emit(a, r);
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_train_step: %s\n", e.what());
  return 1;
}
