// Rectified-flow MLP training step (shared/peer/rectified_flow_2d.py: MLP [x, t] -> 3x256
// SiLU -> 2, batch 1024, Adam 1e-3), interpreter vs compiled, in one process with the
// same initial weights and batches. Steps alternate between the two executors in blocks,
// so machine noise hits both alike. Prints per-executor median ms/step, the losses'
// agreement, peak intermediate memory and the compile statistics, then one JSON line.
//
//   build/bench/bench_compiler [--steps 300] [--warmup 20] [--batch 1024] [--hidden 256]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fluxion/compiler/compiler.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/gen/rectified_flow.h"
#include "fluxion/optim/trainer.h"

using namespace fx;

namespace {

struct Setup {
  std::unique_ptr<gen::VelocityMLP> model;
  std::unique_ptr<optim::Trainer> trainer;
};

Setup make(int64_t B, int64_t H, bool compiled) {
  Setup s;
  nn::InitRng rng(0);
  gen::VelocityConfig cfg;
  cfg.hidden = H;
  s.model = std::make_unique<gen::VelocityMLP>(cfg, rng);
  optim::TrainerOptions o;
  o.schedule.base_lr = 1e-3;
  o.compile = compiled;
  gen::VelocityMLP* m = s.model.get();
  s.trainer = std::make_unique<optim::Trainer>(
      *m, optim::adam(),
      [m](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
        return gen::rectified_flow_loss(*m, b.at("x0"), b.at("x1"), key);
      },
      std::vector<optim::BatchInput>{{"x0", {B, 2}}, {"x1", {B, 2}}}, o);
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 300, warmup = 20, B = 1024, H = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int64_t v = std::atoll(argv[i + 1]);
    if (a == "--steps")
      steps = v;
    else if (a == "--warmup")
      warmup = v;
    else if (a == "--batch")
      B = v;
    else if (a == "--hidden")
      H = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  Setup interp = make(B, H, false);
  auto t1 = std::chrono::steady_clock::now();
  Setup comp = make(B, H, true);
  auto t2 = std::chrono::steady_clock::now();
  double setup_interp_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  double setup_comp_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();

  int64_t total = warmup + steps;
  std::vector<double> ti, tc;
  double max_rel = 0.0;
  int64_t identical = 0;
  const int64_t block = 10;
  for (int64_t s0 = 0; s0 < total; s0 += block) {
    int64_t s1 = std::min(total, s0 + block);
    std::vector<double> li, lc;
    for (int pass = 0; pass < 2; ++pass) {
      Setup& st = pass == 0 ? interp : comp;
      for (int64_t s = s0; s < s1; ++s) {
        Tensor x0 = data::sample_toy("8gaussians", B, 2 * s + 1);
        Tensor x1 = data::sample_toy("moons", B, 2 * s + 2);
        auto a = std::chrono::steady_clock::now();
        double loss = st.trainer->step({{"x0", x0}, {"x1", x1}});
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
        (pass == 0 ? li : lc).push_back(loss);
        if (s >= warmup) (pass == 0 ? ti : tc).push_back(ms);
      }
    }
    for (size_t k = 0; k < li.size(); ++k) {
      identical += li[k] == lc[k];
      max_rel = std::max(max_rel, std::fabs(li[k] - lc[k]) / std::max(1e-30, std::fabs(li[k])));
    }
  }
  double mi = median(ti), mc = median(tc);
  const compiler::CompileStats& cs = comp.trainer->executable()->stats();
  std::printf(
      "rectified-flow MLP step (batch %lld, 3x%lld SiLU, Adam), %lld timed steps after %lld "
      "warm-up\n",
      (long long)B, (long long)H, (long long)steps, (long long)warmup);
  std::printf("  interpreter: %.3f ms/step (median)\n", mi);
  std::printf("  compiled:    %.3f ms/step (median)  speed-up %.2fx\n", mc, mi / mc);
  std::printf("  losses bit-identical in %lld of %lld steps; max relative difference %.3g\n",
              (long long)identical, (long long)total, max_rel);
  std::printf("  peak intermediate bytes: interpreter %.2f MB, compiled %.2f MB\n",
              interp.trainer->peak_bytes() / 1048576.0, comp.trainer->peak_bytes() / 1048576.0);
  std::printf("  setup: interpreter %.0f ms, compiled %.0f ms (%s)\n", setup_interp_ms,
              setup_comp_ms, cs.cache_hit ? "kernels from the disk cache" : "kernels compiled");
  std::printf("  %s\n", cs.summary().c_str());
  std::printf(
      "RESULT_JSON {\"interp_ms\": %.4f, \"compiled_ms\": %.4f, \"speedup\": %.4f, "
      "\"identical_losses\": %lld, \"steps\": %lld, \"max_rel_loss_diff\": %.3g, "
      "\"interp_peak_bytes\": %zu, \"compiled_peak_bytes\": %zu, \"kernel_compile_ms\": %.1f, "
      "\"cache_hit\": %s, \"compile_total_ms\": %.1f, \"kernels\": %d, \"fused_nodes\": %d, "
      "\"library_calls\": %d}\n",
      mi, mc, mi / mc, (long long)identical, (long long)total, max_rel,
      interp.trainer->peak_bytes(), comp.trainer->peak_bytes(), cs.compile_ms,
      cs.cache_hit ? "true" : "false", cs.total_ms, cs.kernels, cs.fused_nodes, cs.library_calls);
  return 0;
}
