// CPU kernel table: one entry per op, filled by the kernels_*.cpp files.
#pragma once
#include <array>
#include <span>

#include "fluxion/ir/graph.h"

namespace fx::cpu {

using Kernel = Tensor (*)(const Node& node, std::span<const Tensor> in);
using KernelTable = std::array<Kernel, (size_t)Op::count>;

void register_elementwise(KernelTable&);
void register_reduce(KernelTable&);
void register_layout(KernelTable&);
void register_matmul(KernelTable&);
void register_indexing(KernelTable&);
void register_leaves(KernelTable&);
void register_scan(KernelTable&);

// dot into a caller's buffer (shape and dtype of node): the compiled executor's planned
// memory. The dot kernel is this plus an allocation.
void dot_into(const Node& node, std::span<const Tensor> in, Tensor& out);
void register_conv(KernelTable&);
// conv2d, conv2d_backward_data or conv2d_backward_weights (by node.op) into a caller's buffer.
void conv_into(const Node& node, std::span<const Tensor> in, Tensor& out);

// Runs fn(lo, hi) over [0, n) split across OpenMP threads when n is large enough to pay
// for it. The split depends only on n and the thread count, so results are reproducible.
void parallel_for(int64_t n, int64_t grain, void (*fn)(int64_t, int64_t, void*), void* ctx);
template <typename F>
void parallel_range(int64_t n, int64_t grain, F&& f) {
  parallel_for(
      n, grain, [](int64_t lo, int64_t hi, void* c) { (*static_cast<F*>(c))(lo, hi); }, &f);
}

}  // namespace fx::cpu
