// Times one MonoFlow training iteration (one discriminator + one generator Adam step, MLPs
// 2→128×3→1 and 2→128×3→2, ReLU, batch 256) and one unadjusted Langevin step (5,000 particles
// on the 8-Gaussian mixture) — the 2-D workloads of bench/peer_flows.py. Prints the median
// ms per step over --steps after 20 warm-up steps, as RESULT_JSON.
//   OMP_NUM_THREADS=2 build/bench/bench_flows --steps 300
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fluxion/core/philox.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/gen/langevin.h"
#include "fluxion/gen/mixture_target.h"
#include "fluxion/gen/monoflow.h"

namespace {
template <typename F>
double median_ms(int steps, F&& f) {
  std::vector<double> t;
  for (int s = 1; s <= steps + 20; ++s) {
    auto a = std::chrono::steady_clock::now();
    f(s);
    auto b = std::chrono::steady_clock::now();
    if (s > 20) t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  int steps = 300;
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
  using namespace fx;
  gen::MonoFlowGAN gan({.h = gen::MonoH::ns, .batch = 256, .seed = 0},
                       [](int64_t n, uint64_t s) { return data::sample_toy("8gaussians", n, s); });
  double mono = median_ms(steps, [&](int s) { gan.step(s); });
  gen::GaussianMixture p = gen::GaussianMixture::by_name("8gaussians");
  Tensor x({5000, 2}, DType::f32);
  philox_normal(3, 0, x.data<float>(), x.numel());
  double lang = median_ms(steps, [&](int s) {
    gen::langevin_step(
        x, [&](const Tensor& y) { return p.score(y); }, 0.01, 1, s);
  });
  std::printf("RESULT_JSON {\"monoflow_ms\": %.4f, \"langevin_ms\": %.4f, \"steps\": %d}\n", mono,
              lang, steps);
}
