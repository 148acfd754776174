// Reduction splitting: reduce_sum over several axes that include the last one becomes a
// sum over the last axis (keepdims) followed by a sum over the others. The reference
// kernel already reduces the highest axis first and rounds to the element type between
// axes (kernels_reduce.cpp), so the split is bit-exact; what it buys is that the big
// first pass is a row sum, which fusion folds into the kernel producing its input. A
// conv bias gradient, sum over [N, H, W] of a [N, C, H, W] gradient, then no longer
// rereads the whole tensor: only the [N, C, H, 1] row sums are left for a standalone sum.
#include "fluxion/api/fx.h"
#include "fluxion/compiler/passes.h"

namespace fx::compiler {

namespace {

bool splittable(const Program& p, const Node& n) {
  if (n.op != Op::reduce_sum || n.attrs.axes.size() < 2) return false;
  if (n.dtype != DType::f32 && n.dtype != DType::f64) return false;
  const Node& x = p.node(n.inputs[0]);
  int64_t last = (int64_t)x.shape.size() - 1;
  // Axes are sorted and unique (sum() normalises them).
  return last >= 1 && n.attrs.axes.back() == last && x.shape[last] > 1;
}

}  // namespace

Program split_reductions(const Program& p) {
  std::vector<char> live = live_nodes(p);
  Rebuilder rb(p);
  for (int i = 0; i < p.size(); ++i) {
    if (!live[i]) continue;
    const Node& n = p.node(i);
    if (!splittable(p, n)) {
      rb.copy(i);
      continue;
    }
    Var x = rb.var(n.inputs[0]);
    Axes rest(n.attrs.axes.begin(), n.attrs.axes.end() - 1);
    Var rows = sum(x, {n.attrs.axes.back()}, /*keepdims=*/true);
    Var total = sum(rows, rest, /*keepdims=*/true);
    rb.set(i, total.shape() == n.shape ? total : reshape(total, n.shape));
  }
  return rb.finish();
}

}  // namespace fx::compiler
