// CPU kernel table: one entry per op, filled by the kernels_*.cpp files.
#pragma once
#include <array>
#include <memory>
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
// With addends (the compiler's matmul epilogue): out = A·B + addends[0] + addends[1], each a
// row vector ([N], [1, N], ...) or a tensor of the product's shape, added in that order to the
// f32 product (oneDNN binary post-ops on the accumulator), and stored as out's dtype (f32,
// or bf16 rounded to nearest even): the same roundings as separate adds and a cast.
void dot_into(const Node& node, std::span<const Tensor> in, Tensor& out,
              std::span<const Tensor> addends = {});
// K when the dot kernel computes this product (operand shapes a and b) with its loop for a
// handful of contracted values (f32, one batch, 1 <= K <= 4): every element as
// 0 + a0 b0 + a1 b1 + ..., in that order (kernels_matmul.cpp); 0 otherwise. The compiler
// expands such products into elementwise ops of the same order (expand_small_dots).
int64_t small_k_dot(const Node& node, const Shape& a, const Shape& b);
void register_conv(KernelTable&);
// The compiler's layout assignment for convolutions: an activation that several f32
// convolutions read (the input of a forward convolution and of its weight gradient; the
// output gradient of backward-data and of the weight gradient) is converted once into the
// layout oneDNN's primitive wants (nChw8c on AVX2) and shared, instead of being reordered
// by every call. The first convolution that reads it fills it; it keeps the plain shape,
// so the plain tensor may be freed after that.
class ConvOperandCopy {
 public:
  bool filled() const { return impl_ != nullptr; }
  size_t owned_bytes() const;  // allocated by the copy itself (no large enough buffer given)
  const Shape& shape() const;
  void reset() { impl_.reset(); }
  // For a producer that writes the copy itself (a fused kernel storing a convolution's input
  // in nChw<block>c, f32 or bf16): the buffer to write, `buffer` when large enough; the copy
  // counts as filled from here on.
  void* prepare_blocked(const Shape& activation, int block, DType dtype);
  // Where to make the copy (the executor's planned buffer); used when large enough.
  void* buffer = nullptr;
  size_t capacity = 0;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};
// Bytes a shared copy of an activation of this shape and dtype may need: channels padded to
// a multiple of 16 (oneDNN's widest blocking).
size_t conv_copy_bytes(const Shape& activation, DType dtype);
// Whether oneDNN runs this convolution in its own dtype (f32 off the direct loops, bf16
// where the CPU has a bf16 kernel), so its activations may be shared blocked copies.
// in0 and in1 are its inputs' shapes.
bool conv_runs_onednn(const Node& conv, const Shape& in0, const Shape& in1);
// The channel block B when such a convolution wants its activation input k (0 or 1; see
// conv_into) in the plain blocked layout nChw<B>c (B 16 on AVX-512, 8 on AVX2) with no
// channel padding; 0 otherwise.
int conv_activation_block(const Node& conv, const Shape& in0, const Shape& in1, int k);

// The channel block B when such a convolution (forward or backward-data) writes its result
// in nChw<B>c with no channel padding; 0 otherwise.
int conv_result_block(const Node& conv, const Shape& in0, const Shape& in1);

// conv2d, conv2d_backward_data or conv2d_backward_weights (by node.op) into a caller's buffer.
// shared[k], when given (conv_runs_onednn only), is input k's converted copy, filled here if
// empty; once it is filled, in[k] may be an undefined tensor. out_block: the result stays
// in the primitive's nChw<B>c (conv_result_block's B; the layout assignment's blocked reads),
// 0: plain NCHW.
void conv_into(const Node& node, std::span<const Tensor> in, Tensor& out,
               std::array<ConvOperandCopy*, 2> shared = {}, int out_block = 0);

// Row sums (reduce_sum over a last axis) of at least this many values add 16 partial sums
// in f64, shorter rows 4 (kernels_reduce.cpp, which has the whole order); the compiler's
// fused row sums keep the same rule, so the bits agree.
constexpr int64_t kWideRowSum = 64;

// Runs fn(lo, hi) over [0, n) split across OpenMP threads when n is large enough to pay
// for it. The split depends only on n and the thread count, so results are reproducible.
void parallel_for(int64_t n, int64_t grain, void (*fn)(int64_t, int64_t, void*), void* ctx);
template <typename F>
void parallel_range(int64_t n, int64_t grain, F&& f) {
  parallel_for(
      n, grain, [](int64_t lo, int64_t hi, void* c) { (*static_cast<F*>(c))(lo, hi); }, &f);
}

}  // namespace fx::cpu
