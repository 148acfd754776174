// The main job (`fluxion demo`): train 1-rectified flow on a built-in 2-D task, reflow it to
// 2-rectified flow, sample both with one Euler step and with RK45, and write pictures and a
// report with sliced-W2, MMD (with their data floors) and straightness.
#pragma once
#include <cstdint>
#include <string>

namespace fx::experiments {

struct DemoOptions {
  std::string out = "runs/demo";
  int64_t steps = 3000;
  std::string data = "moons";
  uint64_t seed = 0;
};

void run_demo(const DemoOptions& o);

}  // namespace fx::experiments
