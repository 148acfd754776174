// Group sums: a GroupNorm's mean, sum(reshape(x, [N, G, C/G * H * W]), last axis), taken
// by the blocked fused kernel that produces x instead of by a library reduction that reads
// x back from memory. A blocked kernel's unit is B whole channels of one image, B * H * W
// consecutive values of the NCHW tensor; when each sum's row (C/G * H * W values) lies
// inside one unit, the kernel adds the row up right after storing it, from cache, in the
// library's order (16 f64 lanes, j mod 16: kernels_reduce.cpp), so the bits are the same.
// The reduction's own step leaves the schedule; the sum becomes an output of the kernel.
// (The "reductions fused with their elementwise producers": in a DDIM call of the
// bench U-Net, 13 of its 16 GroupNorm means; the other 3 read a concat.)
#pragma once
#include "fluxion/compiler/fusion.h"
#include "fluxion/compiler/program.h"

namespace fx::compiler {

// Moves each such reduction into its producer (after the layout assignment, which decides
// which kernels are blocked); returns how many moved. FLUXION_NO_GROUP_SUMS=1: none.
int fuse_group_sums(const Program& p, FusionPlan& plan);

}  // namespace fx::compiler
