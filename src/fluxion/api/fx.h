// fluxion's front end: build graphs the way one writes PyTorch or jax.numpy,
//   auto h = fx::silu(fx::matmul(x, w) + b);
// Every function appends nodes to the graph its arguments live in; nothing runs until
// an executor runs the graph. Shape and dtype errors are raised here, at trace time.
#pragma once
#include <array>
#include <optional>
#include <vector>

#include "fluxion/ir/graph.h"

namespace fx {

using Axes = std::vector<int64_t>;

// ---- primitives (one node each; rules and VJPs in ops/) ----
Var neg(Var x);
Var exp(Var x);
Var log(Var x);
Var sin(Var x);
Var cos(Var x);
Var tanh(Var x);
Var sqrt(Var x);
Var rsqrt(Var x);
Var abs(Var x);
Var sign(Var x);
Var sigmoid(Var x);
Var erf(Var x);
Var floor(Var x);
Var logical_not(Var x);

Var add(Var a, Var b);
Var sub(Var a, Var b);
Var mul(Var a, Var b);
Var div(Var a, Var b);
Var pow(Var a, Var b);
Var maximum(Var a, Var b);
Var minimum(Var a, Var b);
Var lt(Var a, Var b);
Var le(Var a, Var b);
Var gt(Var a, Var b);
Var ge(Var a, Var b);
Var eq(Var a, Var b);
Var ne(Var a, Var b);
Var logical_and(Var a, Var b);
Var logical_or(Var a, Var b);
Var where(Var cond, Var a, Var b);

Var cast(Var x, DType dtype);
Var stop_gradient(Var x);

Var sum(Var x, Axes axes = {}, bool keepdims = false);  // empty axes: all
Var max(Var x, Axes axes = {}, bool keepdims = false);

Var broadcast_to(Var x, Shape shape);
Var reshape(Var x, Shape shape);  // one extent may be -1
Var permute(Var x, Axes order);
Var transpose(Var x);  // swaps the last two axes
Var slice(Var x, Axes starts, Axes limits, Axes steps = {});
Var slice_axis(Var x, int64_t axis, int64_t start, int64_t limit, int64_t step = 1);
Var pad(Var x, Axes low, Axes high, Axes interior = {}, double value = 0.0);
Var concat(const std::vector<Var>& xs, int64_t axis);

// Batched matrix product: a [..., M, K] (or [..., K, M] with transpose_a), b [..., K, N]
// (or [..., N, K] with transpose_b); b may be 2-D and is then shared by every batch.
Var dot(Var a, Var b, bool transpose_a = false, bool transpose_b = false);
Var matmul(Var a, Var b);

// index_select: out = x.shape[:axis] + idx.shape + x.shape[axis+1:]
Var gather(Var x, Var indices, int64_t axis = 0);
// out = operand; out[..., idx[j], ...] += updates[..., j, ...]
Var scatter_add(Var operand, Var indices, Var updates, int64_t axis = 0);

// Complex first-order linear recurrence along `axis`, values as (re, im) pairs in a
// trailing axis of size 2: h_t = a_t * h_{t-1} + b_t with h_{-1} = 0 (reverse: h_t =
// a_t * h_{t+1} + b_t, h_T = 0). b is [..., T, ..., 2]; a is b's shape (per-step
// coefficients) or b.shape[axis+1:] (one coefficient per channel, as the LRU's λ).
Var linear_scan(Var a, Var b, int64_t axis, bool reverse = false);
// The gradient of linear_scan's coefficients in one pass: sum of d_t * conj(h_prev(t))
// reduced to a_shape (b's shape, or b.shape[axis+1:] for shared coefficients), where h is
// the scan's output, d its adjoint (the cotangent of b) and h_prev(t) the state a_t
// multiplied: h_{t-1} (h_{t+1} when reverse), zero before the first step.
Var scan_coefficient_grad(Var d, Var h, const Shape& a_shape, int64_t axis, bool reverse);

Var iota(Graph& g, Shape shape, int64_t axis, DType dtype = DType::i64);
// key: i64[2] = (seed, offset). Counter-based (Philox): value i depends only on key and i.
Var random_uniform(Var key, Shape shape, DType dtype = DType::f32);
Var random_normal(Var key, Shape shape, DType dtype = DType::f32);

// ---- scalars adopt the dtype of the tensor they meet (as in JAX) ----
Var scalar_like(Var like, double value);
Var zeros_like(Var x);
Var ones_like(Var x);
Var full(Graph& g, Shape shape, double value, DType dtype = DType::f32);

Var operator+(Var a, Var b);
Var operator-(Var a, Var b);
Var operator*(Var a, Var b);
Var operator/(Var a, Var b);
Var operator-(Var a);
Var operator+(Var a, double b);
Var operator-(Var a, double b);
Var operator*(Var a, double b);
Var operator/(Var a, double b);
Var operator+(double a, Var b);
Var operator-(double a, Var b);
Var operator*(double a, Var b);
Var operator/(double a, Var b);

// ---- composites (built from primitives; differentiated through them) ----
Var square(Var x);
Var relu(Var x);
Var silu(Var x);
Var gelu(Var x, bool tanh_approximation = false);
Var softplus(Var x);
Var mean(Var x, Axes axes = {}, bool keepdims = false);
Var variance(Var x, Axes axes = {}, bool keepdims = false);  // biased (divides by n)
Var logsumexp(Var x, int64_t axis = -1, bool keepdims = false);
Var softmax(Var x, int64_t axis = -1);
Var log_softmax(Var x, int64_t axis = -1);
Var layer_norm(Var x, std::optional<Var> weight, std::optional<Var> bias, double eps = 1e-5);
Var linear(Var x, Var weight_in_out, std::optional<Var> bias);  // x @ W + b, W [in, out]
Var one_hot(Var labels, int64_t classes, DType dtype = DType::f32);
Var mse_loss(Var pred, Var target);         // mean over all elements
Var cross_entropy(Var logits, Var labels);  // logits [N, C], labels i64 [N]; mean
Var sum_to(Var x, const Shape& shape);      // reduces broadcast axes back

// ---- images (NCHW): convolution primitives (ops/conv.cpp) and composites (api/image.cpp) ----
struct ConvParams {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};  // zeros on both sides
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
};
// x [N, C, H, W], w [O, C/groups, KH, KW] (torch.nn.Conv2d layout) -> [N, O, OH, OW].
Var conv2d(Var x, Var w, const ConvParams& p = {});
Var conv2d_backward_data(Var g, Var w, const Shape& x_shape, const ConvParams& p);
Var conv2d_backward_weights(Var x, Var g, const Shape& w_shape, const ConvParams& p);
Shape conv2d_output_shape(const Shape& x, const Shape& w, const ConvParams& p);  // or throws
Var upsample_nearest(Var x, int64_t factor);  // [N,C,H,W] -> [N,C,H*f,W*f]
// Average over k x k windows (count_include_pad, as torch's default); stride defaults to k.
Var avg_pool2d(Var x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);
// Inverted dropout: zero with probability p, scale survivors by 1/(1-p); key i64[2].
Var dropout(Var x, double p, Var key);
// x [N, C, ...] normalised over (C/groups, ...) per group; weight/bias [C].
Var group_norm(Var x, int64_t groups, std::optional<Var> weight, std::optional<Var> bias,
               double eps = 1e-5);
// Multi-head self-attention over positions: q, k, v [B, C, P] (channels first, as a 1x1
// conv gives them), heads split C; softmax(qᵀk / sqrt(C/heads)) per head -> [B, C, P].
Var spatial_attention(Var q, Var k, Var v, int64_t heads = 1);

}  // namespace fx
