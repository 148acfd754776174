// Reduction splitting: reduce_sum over several axes that include the last one becomes a
// sum over the last axis (keepdims) followed by a sum over the others; a sum over axes 0
// and 1 of a rank-3 value becomes a sum over axis 1, then over axis 0. The reference
// kernel already reduces the highest axis first and rounds to the element type between
// axes (kernels_reduce.cpp), so the split is bit-exact; what it buys is that the big
// first pass is a row sum, which fusion folds into the kernel producing its input. A
// conv bias gradient, sum over [N, H, W] of a [N, C, H, W] gradient, then no longer
// rereads the whole tensor: only the [N, C, H, 1] row sums are left for a standalone sum.
#include "fluxion/api/fx.h"
#include "fluxion/compiler/passes.h"

namespace fx::compiler {

namespace {

// The split of n (inputs already rewritten), or an invalid Var to keep it.
Var split(const Node& n, const std::vector<Var>& in) {
  if (n.op != Op::reduce_sum || n.attrs.axes.size() < 2) return Var{};
  if (n.dtype != DType::f32 && n.dtype != DType::f64) return Var{};
  const Shape& x = in[0].shape();
  // A sum over batch and time of [A, B, C]: over B first (keepdims), then over A. The
  // first pass fuses into its producer as per-segment column sums; the second is small.
  if (x.size() == 3 && n.attrs.axes == Axes{0, 1} && x[2] > 1) {
    Var total = sum(sum(in[0], {1}, /*keepdims=*/true), {0}, /*keepdims=*/true);
    return total.shape() == n.shape ? total : reshape(total, n.shape);
  }
  int64_t last = (int64_t)x.size() - 1;
  // Axes are sorted and unique (sum() normalises them).
  if (last < 1 || n.attrs.axes.back() != last || x[last] <= 1) return Var{};
  Axes rest(n.attrs.axes.begin(), n.attrs.axes.end() - 1);
  Var rows = sum(in[0], {last}, /*keepdims=*/true);
  Var total = sum(rows, rest, /*keepdims=*/true);
  return total.shape() == n.shape ? total : reshape(total, n.shape);
}

}  // namespace

Program split_reductions(const Program& p) { return rewrite_nodes(p, split); }

}  // namespace fx::compiler
