// 2-D convolution (NCHW activations, OIHW weights as torch.nn.Conv2d) and its two
// transposes. With A_w x = conv2d(x, w) linear in each argument:
//   conv2d_backward_data(g, w)    = A_wᵀ g           (shape of x, given in attrs.shape)
//   conv2d_backward_weights(x, g) = d<g, A_w x>/dw   (shape of w, given in attrs.shape)
// Each of the three is linear in both inputs, so every VJP is again one of the three and
// grad-of-grad comes free. Attrs: steps = stride, starts = padding (both sides),
// limits = dilation, groups.
#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

namespace {
using In = std::vector<const Node*>;
using V = std::vector<Var>;

ConvParams params_of(const Attrs& a) {
  ConvParams p;
  p.stride = {a.steps[0], a.steps[1]};
  p.padding = {a.starts[0], a.starts[1]};
  p.dilation = {a.limits[0], a.limits[1]};
  p.groups = a.groups;
  return p;
}

void check_conv_attrs(const char* op, const Attrs& a) {
  FX_CHECK(a.steps.size() == 2 && a.starts.size() == 2 && a.limits.size() == 2,
           "{}: stride, padding and dilation need 2 entries each", op);
  for (int i = 0; i < 2; ++i) {
    FX_CHECK(a.steps[i] >= 1, "{}: stride {} must be >= 1", op, shape_str(a.steps));
    FX_CHECK(a.starts[i] >= 0, "{}: padding {} must be >= 0", op, shape_str(a.starts));
    FX_CHECK(a.limits[i] >= 1, "{}: dilation {} must be >= 1", op, shape_str(a.limits));
  }
  FX_CHECK(a.groups >= 1, "{}: groups {} must be >= 1", op, a.groups);
}

void check_float(const char* op, const Node& a, const Node& b) {
  FX_CHECK(a.dtype == b.dtype, "{}: dtypes differ: {}{} vs {}{}", op, dtype_name(a.dtype),
           shape_str(a.shape), dtype_name(b.dtype), shape_str(b.shape));
  FX_CHECK(is_float(a.dtype), "{}: needs floating operands, got {}", op, dtype_name(a.dtype));
}

void conv2d_rule(Node& n, const In& in) {
  check_conv_attrs("conv2d", n.attrs);
  check_float("conv2d", *in[0], *in[1]);
  n.shape = conv2d_output_shape(in[0]->shape, in[1]->shape, params_of(n.attrs));
  n.dtype = in[0]->dtype;
}

void backward_data_rule(Node& n, const In& in) {
  const char* op = "conv2d_backward_data";
  check_conv_attrs(op, n.attrs);
  check_float(op, *in[0], *in[1]);
  Shape y = conv2d_output_shape(n.attrs.shape, in[1]->shape, params_of(n.attrs));
  FX_CHECK(y == in[0]->shape, "{}: cotangent {} does not match conv2d of {} by {} (gives {})", op,
           shape_str(in[0]->shape), shape_str(n.attrs.shape), shape_str(in[1]->shape),
           shape_str(y));
  n.shape = n.attrs.shape;
  n.dtype = in[0]->dtype;
}

void backward_weights_rule(Node& n, const In& in) {
  const char* op = "conv2d_backward_weights";
  check_conv_attrs(op, n.attrs);
  check_float(op, *in[0], *in[1]);
  Shape y = conv2d_output_shape(in[0]->shape, n.attrs.shape, params_of(n.attrs));
  FX_CHECK(y == in[1]->shape, "{}: cotangent {} does not match conv2d of {} by {} (gives {})", op,
           shape_str(in[1]->shape), shape_str(in[0]->shape), shape_str(n.attrs.shape),
           shape_str(y));
  n.shape = n.attrs.shape;
  n.dtype = in[0]->dtype;
}

// y = conv(x, w): dx = A_wᵀ g, dw = backward_weights(x, g).
V conv2d_vjp(const VjpArgs& a) {
  ConvParams p = params_of(a.node.attrs);
  Var x = a.in[0], w = a.in[1];
  return {conv2d_backward_data(a.g, w, x.shape(), p),
          conv2d_backward_weights(x, a.g, w.shape(), p)};
}

// z = A_wᵀ g (x-shaped), cotangent c: <c, A_wᵀ g> = <A_w c, g>, so
// dg = conv(c, w) and dw = backward_weights(c, g).
V backward_data_vjp(const VjpArgs& a) {
  ConvParams p = params_of(a.node.attrs);
  Var g = a.in[0], w = a.in[1];
  return {conv2d(a.g, w, p), conv2d_backward_weights(a.g, g, w.shape(), p)};
}

// z = backward_weights(x, g) (w-shaped), cotangent c: <c, z> = <conv(x, c), g>, so
// dx = A_cᵀ g = backward_data(g, c) and dg = conv(x, c).
V backward_weights_vjp(const VjpArgs& a) {
  ConvParams p = params_of(a.node.attrs);
  Var x = a.in[0], g = a.in[1];
  return {conv2d_backward_data(g, a.g, x.shape(), p), conv2d(x, a.g, p)};
}
}  // namespace

Shape conv2d_output_shape(const Shape& x, const Shape& w, const ConvParams& p) {
  FX_CHECK(x.size() == 4, "conv2d: input must be [N, C, H, W], got {}", shape_str(x));
  FX_CHECK(w.size() == 4, "conv2d: weight must be [O, C/groups, KH, KW], got {}", shape_str(w));
  int64_t G = p.groups;
  FX_CHECK(G >= 1 && x[1] % G == 0 && w[0] % G == 0,
           "conv2d: {} input channels and {} output channels must divide into {} groups", x[1],
           w[0], G);
  FX_CHECK(w[1] * G == x[1],
           "conv2d: weight {} expects {} input channels ({} per group x {} groups), input {} has "
           "{}",
           shape_str(w), w[1] * G, w[1], G, shape_str(x), x[1]);
  Shape out = {x[0], w[0], 0, 0};
  for (int i = 0; i < 2; ++i) {
    int64_t span = p.dilation[i] * (w[2 + i] - 1) + 1;
    int64_t padded = x[2 + i] + 2 * p.padding[i];
    FX_CHECK(span <= padded,
             "conv2d: kernel {} (dilated span {}) is larger than the padded input {} on axis {}",
             shape_str(w), span, padded, 2 + i);
    out[2 + i] = (padded - span) / p.stride[i] + 1;
  }
  return out;
}

Attrs conv_attrs(const ConvParams& p, Shape target) {
  Attrs a;
  a.steps = {p.stride[0], p.stride[1]};
  a.starts = {p.padding[0], p.padding[1]};
  a.limits = {p.dilation[0], p.dilation[1]};
  a.groups = p.groups;
  a.shape = std::move(target);
  return a;
}

Var conv2d(Var x, Var w, const ConvParams& p) {
  FX_CHECK(x.valid() && w.valid(), "conv2d: undefined operand");
  return x.graph->add(Op::conv2d, {x, w}, conv_attrs(p, {}));
}

Var conv2d_backward_data(Var g, Var w, const Shape& x_shape, const ConvParams& p) {
  return g.graph->add(Op::conv2d_backward_data, {g, w}, conv_attrs(p, x_shape));
}

Var conv2d_backward_weights(Var x, Var g, const Shape& w_shape, const ConvParams& p) {
  return x.graph->add(Op::conv2d_backward_weights, {x, g}, conv_attrs(p, w_shape));
}

void register_conv_ops(OpTable& t) {
  t[(int)Op::conv2d] = {"conv2d", 2, conv2d_rule, conv2d_vjp};
  t[(int)Op::conv2d_backward_data] = {"conv2d_backward_data", 2, backward_data_rule,
                                      backward_data_vjp};
  t[(int)Op::conv2d_backward_weights] = {"conv2d_backward_weights", 2, backward_weights_rule,
                                         backward_weights_vjp};
  // Products accumulate in f32 inside the kernel, so bf16/f16 operands are safe.
  for (Op op : {Op::conv2d, Op::conv2d_backward_data, Op::conv2d_backward_weights})
    t[(int)op].precision = PrecisionClass::low_precision_product;
}

}  // namespace fx
