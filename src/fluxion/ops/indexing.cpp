// gather (index_select along an axis) and its transpose scatter_add.
#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

namespace {
using In = std::vector<const Node*>;
using V = std::vector<Var>;

Shape gathered_shape(const Shape& x, const Shape& idx, int axis) {
  Shape out(x.begin(), x.begin() + axis);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), x.begin() + axis + 1, x.end());
  return out;
}

void check_indices(const Node& n, const Node& idx) {
  FX_CHECK(is_integer(idx.dtype), "{}: indices must be i32 or i64, got {}", op_name(n.op),
           dtype_name(idx.dtype));
}
}  // namespace

void register_indexing_ops(OpTable& t) {
  t[(int)Op::gather] = {"gather", 2,
                        [](Node& n, const In& in) {
                          int ax = normalize_axis(n.attrs.axes.at(0), (int)in[0]->shape.size(),
                                                  "gather");
                          n.attrs.axes[0] = ax;
                          check_indices(n, *in[1]);
                          n.shape = gathered_shape(in[0]->shape, in[1]->shape, ax);
                          n.dtype = in[0]->dtype;
                        },
                        [](const VjpArgs& a) -> V {
                          int64_t ax = a.node.attrs.axes[0];
                          return {scatter_add(zeros_like(a.in[0]), a.in[1], a.g, ax), Var{}};
                        }};
  t[(int)Op::scatter_add] = {
      "scatter_add", 3,
      [](Node& n, const In& in) {
        int ax = normalize_axis(n.attrs.axes.at(0), (int)in[0]->shape.size(), "scatter_add");
        n.attrs.axes[0] = ax;
        check_indices(n, *in[1]);
        Shape want = gathered_shape(in[0]->shape, in[1]->shape, ax);
        FX_CHECK(in[2]->shape == want,
                 "scatter_add: updates {} must have shape {} for operand {} and indices {}",
                 shape_str(in[2]->shape), shape_str(want), shape_str(in[0]->shape),
                 shape_str(in[1]->shape));
        FX_CHECK(in[0]->dtype == in[2]->dtype, "scatter_add: dtypes differ: {} vs {}",
                 dtype_name(in[0]->dtype), dtype_name(in[2]->dtype));
        n.shape = in[0]->shape;
        n.dtype = in[0]->dtype;
      },
      [](const VjpArgs& a) -> V {
        return {a.g, Var{}, gather(a.g, a.in[1], a.node.attrs.axes[0])};
      }};
}

}  // namespace fx
