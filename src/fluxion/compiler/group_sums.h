// Group sums: a GroupNorm's statistics over x, taken by the blocked fused kernel that
// produces x instead of by a library reduction and a row-sum kernel that read x back from
// memory. A blocked kernel's unit is B whole channels of one image, B * H * W consecutive
// values of the NCHW tensor; when each row of the statistics (C/G * H * W values) lies
// inside one unit, the kernel goes over the row again right after storing it, from cache:
//   - the mean's sum, sum(reshape(x, [N, G, C/G * H * W]), last axis), in the library's
//     order (16 f64 lanes, j mod 16: kernels_reduce.cpp);
//   - and, when the graph then divides that sum by a constant count and one row-sum kernel
//     sums (x - mean)^2 over the same rows, that sum too, with the same expressions and
//     lanes as that kernel.
// So the bits are the interpreter's. The absorbed steps stay in the schedule, marked
// (Step::absorbed), so the layout plan's per-step arrays stay aligned; the sums become
// outputs of the kernel. (The "reductions fused with their elementwise producers":
// in a DDIM call of the bench U-Net, 13 of its 16 GroupNorms; the other 3 read a concat.)
#pragma once
#include "fluxion/compiler/fusion.h"
#include "fluxion/compiler/program.h"

namespace fx::compiler {

// Moves each such reduction into its producer (after the layout assignment, which decides
// which kernels are blocked); returns how many sums moved (means and variance sums).
// FLUXION_NO_GROUP_SUMS=1: none.
int fuse_group_sums(const Program& p, FusionPlan& plan);

}  // namespace fx::compiler
