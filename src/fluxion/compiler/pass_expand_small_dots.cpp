// Small-K dot expansion (passes.h): a product that contracts 1 to 4 values (an MLP's [x, t]
// input layer, its output layer's input gradient, a sequence model's encoder of one or two
// features) becomes the elementwise sum the dot kernel computes for it,
//   C = 0 + a0 b0 + a1 b1 + ...,  a_p = op(A)[:, p] as [.., M, 1], b_p = op(B)[p, :] as [1, N],
// so the fused kernel that reads C (the bias add and the activation) computes it in its
// own loop instead of reading it from memory. The order is the kernel's
// (cpu::small_k_dot), so the bits are the interpreter's.
#include "fluxion/api/fx.h"
#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/compiler/passes.h"

namespace fx::compiler {

namespace {

// The column p of op(A) as [.., M, 1]: A is [.., M, K], or [K, M] transposed.
Var column_of_a(Var a, bool transposed, int64_t p, int64_t K) {
  const int64_t last = a.rank() - 1;
  if (!transposed) return K == 1 ? a : slice_axis(a, last, p, p + 1);
  Var row = K == 1 ? a : slice_axis(a, 0, p, p + 1);  // [1, M]
  return reshape(row, {a.shape()[1], 1});
}

// The row p of op(B) as [1, N]: B is [K, N], or [N, K] transposed.
Var row_of_b(Var b, bool transposed, int64_t p, int64_t K) {
  if (!transposed) return K == 1 ? b : slice_axis(b, 0, p, p + 1);
  Var column = K == 1 ? b : slice_axis(b, 1, p, p + 1);  // [N, 1]
  return reshape(column, {1, b.shape()[0]});
}

Var expand(const Node& n, const std::vector<Var>& in) {
  if (n.op != Op::dot || in[0].dtype() != DType::f32 || in[1].dtype() != DType::f32) return Var{};
  // Shared 2-D B only, and a transposed A only unbatched: the shapes the slices below take.
  if (in[1].rank() != 2 || (n.attrs.transpose_a && in[0].rank() != 2)) return Var{};
  const int64_t K = cpu::small_k_dot(n, in[0].shape(), in[1].shape());
  if (K == 0) return Var{};
  Var sum = scalar_like(in[0], 0.0);
  for (int64_t p = 0; p < K; ++p)
    sum = sum + column_of_a(in[0], n.attrs.transpose_a, p, K) *
                    row_of_b(in[1], n.attrs.transpose_b, p, K);
  return sum;
}

}  // namespace

Program expand_small_dots(const Program& p) { return rewrite_nodes(p, expand); }

}  // namespace fx::compiler
