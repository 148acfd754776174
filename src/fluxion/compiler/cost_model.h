// What a program costs, read off its graph: the FLOPs of its matmuls and convolutions (from
// their shapes), one FLOP per element for every other arithmetic op, and the bytes its
// steps move to and from memory. The roofline tables in bench/RESULTS.md divide a measured
// step time into these; nothing here is hand-entered per workload.
#pragma once
#include <string>

#include "fluxion/compiler/fusion.h"

namespace fx::compiler {

struct Cost {
  double matmul_flops = 0;  // dot: 2·M·N·K per product
  double conv_flops = 0;    // conv2d and both its gradients: 2·(output elements)·(C/g·KH·KW)
  double other_flops = 0;   // elementwise ops, reductions, scans: one per element written
  double bytes = 0;         // read and written by the steps (views and leaves move nothing)
  double gemm_flops() const { return matmul_flops + conv_flops; }
  double flops() const { return gemm_flops() + other_flops; }
  Cost& operator+=(const Cost& o);
  Cost operator*(double k) const;
};

// The FLOPs of one node; which field they belong to follows its op.
Cost node_flops(const Program& p, int id);

// The whole schedule: a fused kernel moves its inputs and outputs once (its members in
// between stay in registers), a library step its operands and result.
Cost plan_cost(const Program& p, const FusionPlan& plan);

// As the interpreter runs it: every live node its own step.
Cost unfused_cost(const Program& p);

// "12.3 GFLOP (GEMM 11.9), 1.25 GB" for logs.
std::string cost_str(const Cost& c);

}  // namespace fx::compiler
