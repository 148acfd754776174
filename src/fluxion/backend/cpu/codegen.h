// C++ code generation for fused kernels. Each kernel is one extern "C" function
//   void fx_kN(int64_t lo, int64_t hi, void* const* buffers)
// over a flat range of its domain (or of the columns, for kernels with column sums), so
// the executor splits it over the cores with parallel_for. Buffers: the kernel's inputs,
// then its outputs. The math is the reference kernels' math, line for line (the same
// vector_math.h polynomials, no FMA contraction, f64 accumulation for sums), so fused and
// interpreted results are bit-identical.
#pragma once
#include <string>
#include <vector>

#include "fluxion/compiler/fusion.h"

namespace fx::cpu {

struct KernelInfo {
  std::string symbol;
  int64_t range = 0;  // the [0, range) the kernel is called over
  int64_t grain = 0;  // minimum work per thread, for parallel_for
};

// One translation unit with every kernel of the plan; info[i] describes plan.kernels[i].
std::string generate_source(const compiler::Program& p, const compiler::FusionPlan& plan,
                            std::vector<KernelInfo>* info);

}  // namespace fx::cpu
