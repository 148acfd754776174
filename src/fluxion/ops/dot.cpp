// Batched matrix product with transpose flags, so VJPs never materialise a transpose:
// for C = op(A) op(B), dA and dB are again dots with flipped flags.
#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

namespace {
using In = std::vector<const Node*>;
using V = std::vector<Var>;

void dot_rule(Node& n, const In& in) {
  const Shape &a = in[0]->shape, &b = in[1]->shape;
  bool ta = n.attrs.transpose_a, tb = n.attrs.transpose_b;
  auto mismatch = [&] {
    fail("dot: shapes {}{} and {}{} do not contract", shape_str(a), ta ? "ᵀ" : "", shape_str(b),
         tb ? "ᵀ" : "");
  };
  FX_CHECK(in[0]->dtype == in[1]->dtype, "dot: dtypes differ: {}{} vs {}{}",
           dtype_name(in[0]->dtype), shape_str(a), dtype_name(in[1]->dtype), shape_str(b));
  FX_CHECK(is_float(in[0]->dtype), "dot: needs floating operands, got {}",
           dtype_name(in[0]->dtype));
  if (a.size() < 2 || b.size() < 2) mismatch();
  size_t ra = a.size(), rb = b.size();
  int64_t m = ta ? a[ra - 1] : a[ra - 2], ka = ta ? a[ra - 2] : a[ra - 1];
  int64_t kb = tb ? b[rb - 1] : b[rb - 2], nn = tb ? b[rb - 2] : b[rb - 1];
  if (ka != kb) mismatch();
  bool same_batch = ra == rb && std::equal(a.begin(), a.end() - 2, b.begin());
  if (!same_batch && rb != 2) mismatch();
  n.shape.assign(a.begin(), a.end() - 2);
  n.shape.push_back(m);
  n.shape.push_back(nn);
  n.dtype = in[0]->dtype;
}

V dot_vjp(const VjpArgs& x) {
  Var A = x.in[0], B = x.in[1], g = x.g;
  bool ta = x.node.attrs.transpose_a, tb = x.node.attrs.transpose_b;
  bool shared_b = B.rank() == 2 && A.rank() > 2;
  // With ta, dA = op(B) gᵀ; a shared 2-D B cannot be dot's left operand against a
  // batched g, so compute (g op(B)ᵀ)ᵀ instead.
  Var dA = !ta        ? dot(g, B, false, !tb)
           : shared_b ? transpose(dot(g, B, false, !tb))
                      : dot(B, g, tb, true);
  Var dB;
  if (shared_b && !ta && A.dim(-1) > 0 && g.dim(-1) > 0) {
    // B shared across batches: its cotangent sums over the batch axes. With A's rows
    // contiguous, that sum is one 2-D product over all rows, instead of a product per
    // batch and a reduction of the [batch, K, N] stack.
    Var A2 = reshape(A, {A.numel() / A.dim(-1), A.dim(-1)});
    Var g2 = reshape(g, {g.numel() / g.dim(-1), g.dim(-1)});
    dB = tb ? dot(g2, A2, true, false) : dot(A2, g2, true, false);
  } else {
    dB = tb ? dot(g, A, true, ta) : dot(A, g, !ta, false);
    if (shared_b) dB = sum_to(dB, B.shape());
  }
  return {dA, dB};
}
}  // namespace

void register_dot_op(OpTable& t) {
  t[(int)Op::dot] = {"dot", 2, dot_rule, dot_vjp};
  // Accumulates in f32 inside the kernel, so bf16/f16 operands are safe.
  t[(int)Op::dot].precision = PrecisionClass::low_precision_product;
}

}  // namespace fx
