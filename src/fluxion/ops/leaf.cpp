// Leaves: graph inputs, constants, iota and counter-based random numbers.
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

void register_leaf_ops(OpTable& t) {
  t[(int)Op::input] = {"input", 0, [](Node& n, auto&) {
                         n.shape = n.attrs.shape;
                         n.dtype = n.attrs.dtype;
                       }};
  t[(int)Op::constant] = {"constant", 0, [](Node& n, auto&) {
                            FX_CHECK(n.attrs.literal.defined(), "constant: no value");
                            n.shape = n.attrs.literal.shape();
                            n.dtype = n.attrs.literal.dtype();
                          }};
  t[(int)Op::iota] = {"iota", 0,
                      [](Node& n, auto&) {
                        FX_CHECK(n.attrs.axes.size() == 1, "iota: needs one axis");
                        n.attrs.axes[0] =
                            normalize_axis(n.attrs.axes[0], (int)n.attrs.shape.size(), "iota");
                        n.shape = n.attrs.shape;
                        n.dtype = n.attrs.dtype;
                      },
                      nullptr, true};
  auto random_rule = [](Node& n, const std::vector<const Node*>& in) {
    const Node& key = *in[0];
    FX_CHECK(key.dtype == DType::i64 && key.shape == Shape{2},
             "{}: key must be i64[2] (seed, offset), got {}{}", op_name(n.op),
             dtype_name(key.dtype), shape_str(key.shape));
    FX_CHECK(is_float(n.attrs.dtype), "{}: dtype must be floating, got {}", op_name(n.op),
             dtype_name(n.attrs.dtype));
    n.shape = n.attrs.shape;
    n.dtype = n.attrs.dtype;
  };
  t[(int)Op::random_uniform] = {"random_uniform", 1, random_rule, nullptr, true};
  t[(int)Op::random_normal] = {"random_normal", 1, random_rule, nullptr, true};
}

}  // namespace fx
