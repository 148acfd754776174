// Square GEMM C = A * B (row-major, plain layouts, as torch.mm sees them) through the two
// libraries fluxion could build on: oneDNN's matmul primitive and OpenBLAS cblas_sgemm.
// run_all.sh runs this beside ../shared/peer/bench_gemm.py and writes bench/RESULTS.md.
//
// Extra flags (taken out before Google Benchmark parses the rest):
//   --threads=N        threads for oneDNN (OpenMP) and OpenBLAS (its own pool); default 2
//   --sizes=a,b,...    square sizes; default 256,512,1024,2048
//   --peak_gflops=X    measured fp32 peak (peak_fma) for the peak_frac counter
//
// Benchmarks are named gemm/<lib>/<dtype>/<n>. A combination the library refuses on this CPU
// (e.g. oneDNN 2.6 bf16 matmul without AVX-512) is still registered and reports the refusal
// as its error message, so the refusal lands in the JSON and in RESULTS.md instead of vanishing.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#ifdef FLUXION_BENCH_HAVE_OPENBLAS
#include <cblas.h>
// OpenBLAS extensions; declared here because not every cblas.h variant carries them.
extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}
#endif

namespace {

int g_threads = 2;
double g_peak_gflops = 0;
std::vector<int> g_sizes = {256, 512, 1024, 2048};

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine& Engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

void SetCounters(benchmark::State& state, int n, bool float_peak) {
  const double flop = 2.0 * n * n * n;
  state.counters["GFLOPs"] =
      benchmark::Counter(flop * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
  // Fraction of the fp32 FMA peak; meaningless for integer ops, so those leave it out.
  if (float_peak && g_peak_gflops > 0) {
    state.counters["peak_frac"] = benchmark::Counter(
        flop * 1e-9 / g_peak_gflops * state.iterations(), benchmark::Counter::kIsRate);
  }
}

// Fills a dnnl memory from f32 values in [lo, hi) through a reorder, so every dtype gets the
// same kind of data and the conversion is oneDNN's own (round to nearest even for bf16).
// Integer types get whole numbers, small enough that s32 accumulation cannot overflow.
void FillRandom(dnnl::memory& m, unsigned seed, float lo = -1.f, float hi = 1.f) {
  const bool integer = m.get_desc().data_type() != dt::f32 && m.get_desc().data_type() != dt::bf16;
  dnnl::memory::desc f32_md(m.get_desc().dims(), dt::f32, tag::ab);
  dnnl::memory f32_mem(f32_md, Engine());
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  auto* p = static_cast<float*>(f32_mem.get_data_handle());
  const size_t count = f32_md.get_size() / sizeof(float);
  for (size_t i = 0; i < count; ++i) p[i] = integer ? std::floor(u(rng)) : u(rng);
  dnnl::stream s(Engine());
  dnnl::reorder(f32_mem, m).execute(s, f32_mem, m);
  s.wait();
}

struct OnednnCase {
  dt a, b, c;
};

// oneDNN matmul: the primitive is created once, outside the timed loop, as fluxion will cache
// it per shape. Throws dnnl::error when the CPU lacks an implementation.
void BM_Onednn(benchmark::State& state, OnednnCase cs) {
  const int n = static_cast<int>(state.range(0));
  const dnnl::memory::dims dims = {n, n};
  dnnl::memory::desc a_md(dims, cs.a, tag::ab), b_md(dims, cs.b, tag::ab),
      c_md(dims, cs.c, tag::ab);
  dnnl::matmul::primitive_desc pd;
  try {
    pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), Engine());
  } catch (const dnnl::error& e) {
    std::string msg = std::string("unimplemented: ") + e.what();
    state.SkipWithError(msg.c_str());
    return;
  }
  dnnl::matmul prim(pd);
  dnnl::memory a(a_md, Engine()), b(b_md, Engine()), c(c_md, Engine());
  const bool int8 = cs.a == dt::u8;
  FillRandom(a, 1, int8 ? 0.f : -1.f, int8 ? 64.f : 1.f);
  FillRandom(b, 2, int8 ? -64.f : -1.f, int8 ? 64.f : 1.f);
  dnnl::stream s(Engine());
  std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
  prim.execute(s, args);  // first call pays one-time JIT/scratchpad costs
  s.wait();
  for (auto _ : state) {
    prim.execute(s, args);
    s.wait();
  }
  state.SetLabel(pd.impl_info_str());
  SetCounters(state, n, cs.c != dt::s32);
}

// bf16 storage on a CPU without bf16 math: upconvert A and B to f32 inside the timed loop,
// then f32 matmul. This is what fluxion would pay for bf16 tensors on AVX2-only machines.
void BM_OnednnBf16ViaF32(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const dnnl::memory::dims dims = {n, n};
  dnnl::memory::desc bf_md(dims, dt::bf16, tag::ab), f_md(dims, dt::f32, tag::ab);
  dnnl::memory a16(bf_md, Engine()), b16(bf_md, Engine());
  dnnl::memory a32(f_md, Engine()), b32(f_md, Engine()), c32(f_md, Engine());
  FillRandom(a16, 1);
  FillRandom(b16, 2);
  dnnl::reorder::primitive_desc up_pd(a16, a32);
  dnnl::reorder up_a(up_pd), up_b(up_pd);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(f_md, f_md, f_md), Engine());
  dnnl::matmul prim(pd);
  dnnl::stream s(Engine());
  std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC, a32}, {DNNL_ARG_WEIGHTS, b32}, {DNNL_ARG_DST, c32}};
  auto step = [&] {
    up_a.execute(s, a16, a32);
    up_b.execute(s, b16, b32);
    prim.execute(s, args);
    s.wait();
  };
  step();
  for (auto _ : state) step();
  state.SetLabel(std::string("reorder:") + up_pd.impl_info_str() + "+" + pd.impl_info_str());
  SetCounters(state, n, true);
}

#ifdef FLUXION_BENCH_HAVE_OPENBLAS
void BM_OpenblasSgemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data(), n, b.data(), n,
                0.f, c.data(), n);
  };
  gemm();
  for (auto _ : state) gemm();
  state.SetLabel(std::string("core=") + openblas_get_corename());
  SetCounters(state, n, true);
}
#endif

// Both libraries must compute the same product, or the timings compare different work.
bool CrossCheck() {
#ifdef FLUXION_BENCH_HAVE_OPENBLAS
  const int n = 128;
  dnnl::memory::desc md({n, n}, dt::f32, tag::ab);
  dnnl::memory a(md, Engine()), b(md, Engine()), c(md, Engine());
  FillRandom(a, 1);
  FillRandom(b, 2);
  dnnl::stream s(Engine());
  dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), Engine()))
      .execute(s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
  s.wait();
  std::vector<float> ref(size_t(n) * n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f,
              static_cast<float*>(a.get_data_handle()), n, static_cast<float*>(b.get_data_handle()),
              n, 0.f, ref.data(), n);
  const float* got = static_cast<float*>(c.get_data_handle());
  float max_err = 0;
  for (size_t i = 0; i < ref.size(); ++i) max_err = std::max(max_err, std::abs(got[i] - ref[i]));
  std::printf("cross-check n=%d oneDNN vs OpenBLAS max |diff| = %.2e\n", n, max_err);
  return max_err < 1e-3f;
#else
  return true;
#endif
}

// Removes our own --flags from argv so Google Benchmark does not reject them.
void ParseOwnFlags(int* argc, char** argv) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--threads=", 0) == 0) {
      g_threads = std::atoi(arg.c_str() + 10);
    } else if (arg.rfind("--peak_gflops=", 0) == 0) {
      g_peak_gflops = std::atof(arg.c_str() + 14);
    } else if (arg.rfind("--sizes=", 0) == 0) {
      g_sizes.clear();
      for (const char* p = arg.c_str() + 8; *p;) {
        g_sizes.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
}

const char* IsaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other";
  }
}

}  // namespace

int main(int argc, char** argv) {
  ParseOwnFlags(&argc, argv);
  omp_set_num_threads(g_threads);
  const dnnl::version_t* v = dnnl::version();
  benchmark::AddCustomContext("threads", std::to_string(g_threads));
  benchmark::AddCustomContext("peak_gflops", std::to_string(g_peak_gflops));
  benchmark::AddCustomContext("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) +
                                            "." + std::to_string(v->patch));
  benchmark::AddCustomContext("onednn_isa", IsaName(dnnl::get_effective_cpu_isa()));
#ifdef FLUXION_BENCH_HAVE_OPENBLAS
  openblas_set_num_threads(g_threads);
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
#endif
  if (!CrossCheck()) {
    std::fprintf(stderr, "oneDNN and OpenBLAS disagree: refusing to time them\n");
    return 1;
  }

  struct Entry {
    const char* name;
    std::function<void(benchmark::State&)> fn;
  };
  std::vector<Entry> entries = {
      {"gemm/onednn/f32",
       [](auto& s) {
         BM_Onednn(s, {dt::f32, dt::f32, dt::f32});
       }},
#ifdef FLUXION_BENCH_HAVE_OPENBLAS
      {"gemm/openblas/f32", BM_OpenblasSgemm},
#endif
      {"gemm/onednn/bf16",
       [](auto& s) {
         BM_Onednn(s, {dt::bf16, dt::bf16, dt::bf16});
       }},
      {"gemm/onednn/bf16_f32out",
       [](auto& s) {
         BM_Onednn(s, {dt::bf16, dt::bf16, dt::f32});
       }},
      {"gemm/onednn/bf16_via_f32", BM_OnednnBf16ViaF32},
      // int8 is the low-precision matmul oneDNN does implement on plain AVX2.
      {"gemm/onednn/u8s8s32",
       [](auto& s) {
         BM_Onednn(s, {dt::u8, dt::s8, dt::s32});
       }},
  };
  for (const auto& e : entries) {
    auto* b = benchmark::RegisterBenchmark(e.name, e.fn);
    for (int n : g_sizes) b->Arg(n);
    // The work runs on library threads, so CPU time of the main thread would mislead.
    b->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
