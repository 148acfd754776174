// Time of the PFGM field target on random data: gen::pfgm_field_target (the GEMM form from
// N >= 16: cross term and weighted sum as oneDNN f32 GEMMs, log-weights in double) and the
// direct form (every distance a double loop, per row).
// Usage: bench_pfgm_target B L N [repeats]. Prints the median ms and RESULT_JSON lines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "fluxion/core/philox.h"
#include "fluxion/gen/pfgm.h"

using namespace fx;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_pfgm_target B L N [repeats]\n");
    return 2;
  }
  int64_t B = atoll(argv[1]), L = atoll(argv[2]), N = atoll(argv[3]);
  int reps = argc > 4 ? atoi(argv[4]) : 20;
  Tensor data({L, N}, DType::f32), at({B, N + 1}, DType::f32);
  philox_normal(1, 0, data.data<float>(), L * N);
  philox_normal(2, 0, at.data<float>(), B * (N + 1));
  for (int64_t b = 0; b < B; ++b) {
    float& z = at.data<float>()[b * (N + 1) + N];
    z = std::abs(z) + 0.01f;
  }
  struct Impl {
    const char* name;
    std::function<Tensor()> run;
  };
  std::vector<Impl> impls = {
      {"fluxion", [&] { return gen::pfgm_field_target(at, data, 5.0); }},
      {"fluxion-direct",
       [&] {
         return gen::pfgm_target_from_field(gen::pfgm_empirical_field_direct(at, data), 5.0);
       }},
  };
  for (const Impl& impl : impls) {
    std::vector<double> ms;
    double sink = 0;
    for (int r = 0; r < reps + 2; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      Tensor t = impl.run();
      auto t1 = std::chrono::steady_clock::now();
      sink += t.data<float>()[0];
      if (r >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    double med = ms[ms.size() / 2];
    std::printf("%s pfgm_field_target B=%lld L=%lld N=%lld: %.3f ms (median of %d)\n", impl.name,
                (long long)B, (long long)L, (long long)N, med, reps);
    std::printf(
        "RESULT_JSON {\"impl\": \"%s\", \"B\": %lld, \"L\": %lld, \"N\": %lld, "
        "\"ms\": %.4f, \"check\": %.6g}\n",
        impl.name, (long long)B, (long long)L, (long long)N, med, sink);
  }
}
