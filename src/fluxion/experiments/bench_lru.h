// `fluxion bench-lru`: times LRU training steps at several sequence lengths in the
// configuration of the PyTorch reference LRU benchmark (its synthetic adding task), printing one
// RESULT_JSON line per length; `plot-bench` draws such lines as step time against length.
#pragma once
#include <cstdint>
#include <string>

namespace fx::experiments {

struct BenchOptions {
  std::string seq_lens = "256,1024,4096";
  int64_t batch = 32, layers = 4, d_model = 128, d_state = 256, steps = 5, warmup = 1;
  uint64_t seed = 0;
  bool compile = false;            // time the compiled step instead of the interpreted one
  bool recompute_scans = false;    // compiled: checkpoint the scans (less memory)
  std::string precision = "fp32";  // fp32 | bf16 | fp16 products (amp policy)
  bool precision_measure = true;   // keep f32 where this CPU's low-precision product is slower
};

void bench_lru(const BenchOptions& o);
void plot_bench(const std::string& in, const std::string& out);

}  // namespace fx::experiments
