// Reductions over a set of axes. The VJP broadcasts the cotangent back over the
// reduced axes (reduce_max: only to the positions that hold the maximum, split evenly
// between ties as torch.amax does).
#include <algorithm>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

namespace {

void reduce_rule(Node& n, const std::vector<const Node*>& in) {
  const Shape& s = in[0]->shape;
  int r = (int)s.size();
  std::vector<int64_t> axes;
  for (int64_t a : n.attrs.axes) axes.push_back(normalize_axis(a, r, op_name(n.op)));
  std::sort(axes.begin(), axes.end());
  FX_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), "{}: repeated axis in {}",
           op_name(n.op), shape_str(n.attrs.axes));
  n.attrs.axes = axes;
  FX_CHECK(in[0]->dtype != DType::boolean, "{}: bool input", op_name(n.op));
  if (n.op == Op::reduce_max)
    for (int64_t a : axes) FX_CHECK(s[a] > 0, "reduce_max: empty axis {} of {}", a, shape_str(s));
  n.shape.clear();
  for (int i = 0; i < r; ++i) {
    bool reduced = std::binary_search(axes.begin(), axes.end(), i);
    if (!reduced)
      n.shape.push_back(s[i]);
    else if (n.attrs.keepdims)
      n.shape.push_back(1);
  }
  n.dtype = in[0]->dtype;
}

// Shape of the result with reduced axes kept as 1, for broadcasting back.
Shape kept_shape(const Node& n, const Shape& in) {
  Shape k = in;
  for (int64_t a : n.attrs.axes) k[a] = 1;
  return k;
}

}  // namespace

void register_reduce_ops(OpTable& t) {
  t[(int)Op::reduce_sum] = {"reduce_sum", 1, reduce_rule, [](const VjpArgs& a) -> std::vector<Var> {
                              const Shape& xs = a.in[0].shape();
                              Var g = reshape(a.g, kept_shape(a.node, xs));
                              return {broadcast_to(g, xs)};
                            }};
  t[(int)Op::reduce_max] = {"reduce_max", 1, reduce_rule, [](const VjpArgs& a) -> std::vector<Var> {
                              const Shape& xs = a.in[0].shape();
                              Shape k = kept_shape(a.node, xs);
                              Var m = broadcast_to(reshape(a.out, k), xs);
                              Var hit = cast(eq(a.in[0], m), a.g.dtype());
                              Var count = sum(hit, a.node.attrs.axes, true);
                              Var g = broadcast_to(reshape(a.g, k) / count, xs);
                              return {g * hit};
                            }};
  // Sums and maxima of low-precision values lose too much: the precision pass keeps f32.
  t[(int)Op::reduce_sum].precision = PrecisionClass::keep_f32;
  t[(int)Op::reduce_max].precision = PrecisionClass::keep_f32;
}

}  // namespace fx
