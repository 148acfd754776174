// CPU kernels of linear_scan (see ops/scan.cpp): a plain sequential scan, the oracle,
// and a chunked scan that is parallel over time. Both also split channels across threads.
#pragma once
#include <cstdint>
#include <span>

#include "fluxion/core/tensor.h"
#include "fluxion/ir/graph.h"

namespace fx::cpu {

// Time split used by the linear_scan kernel: 0 = automatic (time-parallel only when
// there are too few channels to keep the threads busy), < 0 = always sequential in time,
// > 0 = always chunked with chunks of this many steps. Tests pin it to compare the two.
void set_scan_chunk(int64_t chunk);
int64_t scan_chunk();

// b viewed as [outer, T, inner, 2]; a is the same shape or [inner, 2].
Tensor linear_scan_sequential(const Tensor& a, const Tensor& b, int axis, bool reverse);
// Per-chunk local scans from zero, a sequential pass over the chunk carries, then a
// fix-up that adds each chunk's carried-in state propagated by the chunk's coefficients.
Tensor linear_scan_chunked(const Tensor& a, const Tensor& b, int axis, bool reverse, int64_t chunk);

// The linear_scan kernel (automatic split) into a caller's buffer of b's shape and dtype:
// the compiled executor's planned memory, so a fresh state-sized tensor is not allocated
// (and page-faulted in) on every run. The kernel is this plus an allocation.
void linear_scan_into(const Node& node, std::span<const Tensor> in, Tensor& out);

}  // namespace fx::cpu
