// Sampling runs the network forward only. There, a 1x1 convolution whose input no other
// convolution reads (no weight gradient in the graph) gains nothing from oneDNN's blocked
// layout: its input comes plain (a skip connection's concat, a library op) and would be
// reordered to nChw16c for this one call. oneDNN's plain-layout kernel for it (a GEMM per
// image) reads NCHW as it is. Measured 2026-12-07 (Zen 5, 2 threads, in isolation): [64, 96,
// 28, 28] -> 32 channels 0.80 ms plain against 0.74 ms blocked + 0.30-0.44 ms of reorder
// (1.18 ms in a DDIM call); at 7x7 the plain kernel is slower (0.18 against 0.15 ms), so only
// maps of at least kMinPositions positions qualify. Training graphs keep the blocked kernel:
// the weight gradient reads the same input blocked, so its copy is shared anyway.
//
// The mark is a node attribute (Attrs::plain_layout) set on the graph both executors run,
// so the interpreter and the compiled executor call the same kernel and agree bit for bit.
#pragma once
#include <vector>

#include "fluxion/ir/graph.h"

namespace fx::runtime {

constexpr int64_t kPlainPointwiseMinPositions = 196;  // 14 x 14

// Whether conv2d node `id` of `g` qualifies (see above): f32, 1x1 kernel, stride 1, no
// padding or dilation, one group, >= kPlainPointwiseMinPositions output positions, and its
// input read by no other convolution of the graph.
bool plain_pointwise_conv(const Graph& g, int id);

// False when FLUXION_NO_PLAIN_POINTWISE=1 (every convolution blocked, for comparisons).
bool plain_pointwise_enabled();

// The qualifying convolutions of `g` not marked yet (none when disabled).
std::vector<int> plain_pointwise_convs(const Graph& g);

// Marks every qualifying convolution of `g` (none when disabled); returns how many.
int mark_plain_pointwise_convs(Graph& g);

}  // namespace fx::runtime
