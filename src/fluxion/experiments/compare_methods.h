// `fluxion compare-methods`: PFGM, rectified flow and DDPM on the same 2-D (or N-D) data,
// each trained through the spine into <out>/<method> (or loaded when a checkpoint is there),
// then scored at equal network calls: first-order (Euler; DDIM for DDPM; for PFGM also Euler with
// steps in z) and second-order (Heun;
// the probability-flow ODE with Heun for DDPM) at NFE 10, 20, 50, 100, and adaptive RK45.
// Writes <out>/report.md (sliced-W2 and MMD² with their floors), <out>/results.jsonl and
// <out>/compare.png.
#pragma once
#include <cstdint>
#include <string>

namespace fx::experiments {

struct CompareMethodsOptions {
  std::string out = "runs/compare-methods";
  std::string data = "moons";
  int64_t steps = 3000;              // training steps per method
  int64_t hidden = 256, layers = 3;  // every method's MLP (their common default)
  int64_t n = 2000;                  // samples scored per row
  uint64_t seed = 0;
  std::string nfe = "10,20,50,100";
};

void run_compare_methods(const CompareMethodsOptions& o);

}  // namespace fx::experiments
