// Instruction-rate peaks: the ceiling that bench_gemm's "% of peak" is measured against.
//
// Unlike ../shared/peer/peak_fma.c (which issues zmm/AVX-512 unconditionally and dies with
// SIGILL on AVX2-only CPUs such as AMD Zen 3), every kernel here is gated by a run-time CPUID
// check, so one binary runs anywhere and reports only what the CPU executes natively:
//   avx2_fp32_fma     vfmadd231ps ymm     8 lanes x 2 flop         (needs AVX2+FMA)
//   avx512_fp32_fma   vfmadd231ps zmm    16 lanes x 2 flop         (needs AVX512F)
//   avx512_bf16_dot   vdpbf16ps zmm      16 lanes x 2 pairs x 2    (needs AVX512_BF16)
//   avx512_fp16_fma   vfmadd231ph zmm    32 lanes x 2 flop         (needs AVX512_FP16)
// F16C alone only converts fp16<->fp32, so it has no arithmetic peak of its own.
//
// 12 independent accumulators per thread: FMA latency (4 cycles on Zen 3 and Intel P-cores)
// x 2 FMA pipes = 8 in flight needed, so 12 keeps both pipes busy without register spills.
//
// Build: c++ -O2 -fopenmp peak_fma.cpp -o peak_fma   (no -march needed; the asm names the ISA)
// Run:   ./peak_fma [threads] [reps]
// Output lines "PEAK kernel=NAME threads=T gflops=BEST median=MED" are parsed by run_all.sh.
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

static double now() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

// Effective core clock: a dependent imul chain retires one imul per 3 cycles on both Zen
// and Intel cores, so GHz = 3 * count / seconds. Tells turbo/throttling apart from a bad kernel.
static double clock_ghz(long iters) {
  long x = 1, m = 1;
  double t0 = now();
  for (long i = 0; i < iters; i++) {
    __asm__ volatile(
        "imul %1,%0\n\timul %1,%0\n\timul %1,%0\n\timul %1,%0\n\t"
        "imul %1,%0\n\timul %1,%0\n\timul %1,%0\n\timul %1,%0\n\t"
        : "+r"(x)
        : "r"(m));
  }
  return (double)iters * 8 * 3 / (now() - t0) / 1e9;
}

// One "op src0, src1, acc<d>" line; ACC12 chains 12 of them on independent accumulators 4..15.
#define FMA1(op, r, d) op " %%" r "0,%%" r "1,%%" r #d "\n\t"
#define ACC12(op, r)                                                                         \
  FMA1(op, r, 4)                                                                             \
  FMA1(op, r, 5) FMA1(op, r, 6) FMA1(op, r, 7) FMA1(op, r, 8) FMA1(op, r, 9) FMA1(op, r, 10) \
      FMA1(op, r, 11) FMA1(op, r, 12) FMA1(op, r, 13) FMA1(op, r, 14) FMA1(op, r, 15)
#define CLOBBERS                                                                             \
  "xmm0", "xmm1", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
      "xmm13", "xmm14", "xmm15"

// Each kernel returns the flops it executed. Zeroed inputs avoid denormal slow paths.
static double k_avx2_fp32(long n) {
  __asm__ volatile("vpxor %%ymm0,%%ymm0,%%ymm0\n\tvpxor %%ymm1,%%ymm1,%%ymm1\n\t" ::: CLOBBERS);
  for (long i = 0; i < n; i++) __asm__ volatile(ACC12("vfmadd231ps", "ymm")::: CLOBBERS);
  return (double)n * 12 * 8 * 2;
}
static double k_avx512_fp32(long n) {
  __asm__ volatile("vpxord %%zmm0,%%zmm0,%%zmm0\n\tvpxord %%zmm1,%%zmm1,%%zmm1\n\t" ::: CLOBBERS);
  for (long i = 0; i < n; i++) __asm__ volatile(ACC12("vfmadd231ps", "zmm")::: CLOBBERS);
  return (double)n * 12 * 16 * 2;
}
static double k_avx512_bf16(long n) {
  __asm__ volatile("vpxord %%zmm0,%%zmm0,%%zmm0\n\tvpxord %%zmm1,%%zmm1,%%zmm1\n\t" ::: CLOBBERS);
  for (long i = 0; i < n; i++) __asm__ volatile(ACC12("vdpbf16ps", "zmm")::: CLOBBERS);
  return (double)n * 12 * 16 * 2 * 2;
}
static double k_avx512_fp16(long n) {
  __asm__ volatile("vpxord %%zmm0,%%zmm0,%%zmm0\n\tvpxord %%zmm1,%%zmm1,%%zmm1\n\t" ::: CLOBBERS);
  for (long i = 0; i < n; i++) __asm__ volatile(ACC12("vfmadd231ph", "zmm")::: CLOBBERS);
  return (double)n * 12 * 32 * 2;
}

struct Kernel {
  const char* name;
  bool supported;
  double (*fn)(long);
};

int main(int argc, char** argv) {
  int nt = argc > 1 ? atoi(argv[1]) : 1;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (nt < 1 || nt > 256 || reps < 1 || reps > 100) {
    fprintf(stderr, "usage: %s [threads 1..256] [reps 1..100]\n", argv[0]);
    return 2;
  }
  omp_set_num_threads(nt);
  __builtin_cpu_init();
  // avx512bf16/avx512fp16 names need GCC >= 12; Debian 12 ships 12.2.
  Kernel ks[] = {
      {"avx2_fp32_fma", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") != 0,
       k_avx2_fp32},
      {"avx512_fp32_fma", __builtin_cpu_supports("avx512f") != 0, k_avx512_fp32},
      {"avx512_bf16_dot", __builtin_cpu_supports("avx512bf16") != 0, k_avx512_bf16},
      {"avx512_fp16_fma", __builtin_cpu_supports("avx512fp16") != 0, k_avx512_fp16},
  };

  double ghz[256] = {0};
#pragma omp parallel
  ghz[omp_get_thread_num()] = clock_ghz(50000000);
  printf("threads=%d clock (imul chain) GHz:", nt);
  for (int i = 0; i < nt; i++) printf(" %.3f", ghz[i]);
  printf("\n");

  // ~0.1-0.2 s per rep at 3 GHz: long enough to reach steady-state clocks.
  const long iters = 50000000;
  for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]); k++) {
    if (!ks[k].supported) {
      printf("SKIP kernel=%s (not supported by this CPU)\n", ks[k].name);
      continue;
    }
    double g[100];
    for (int r = 0; r < reps; r++) {
      double fl = 0, t0 = now();
#pragma omp parallel reduction(+ : fl)
      fl += ks[k].fn(iters);
      g[r] = fl / (now() - t0) / 1e9;
    }
    std::sort(g, g + reps);
    printf("PEAK kernel=%s threads=%d gflops=%.1f median=%.1f\n", ks[k].name, nt, g[reps - 1],
           g[reps / 2]);
  }
  return 0;
}
