// linear_scan: h_t = a_t * h_{t-1} + b_t over one axis, complex values as (re, im) pairs
// in a trailing axis of size 2. A single output tensor keeps the IR single-output; the
// pair axis makes conj/complex products plain slices and keeps re and im of one element
// adjacent for the kernel.
//
// VJP (real loss, cotangents as dL/dRe + i dL/dIm): multiplying by a is, on (re, im), the
// matrix [[ar, -ai], [ai, ar]], whose transpose multiplies by conj(a). So the adjoint
// d_t = g_t + conj(a_{t+1}) d_{t+1} is the same scan run the other way with the
// coefficients shifted by one step, db = d, and da_t = d_t * conj(h_{t-1}).
//
// da is its own primitive, scan_coefficient_grad: composed of shifts, strided re/im slices
// and a sum it made ~10 passes over the largest tensor of an LRU step; the kernel reads d
// and h once. Its VJP (bilinear in d and h) is written with those composites, so grad of
// grad still works and costs what it did.
#include "fluxion/api/complex.h"
#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

namespace {
using In = std::vector<const Node*>;
using V = std::vector<Var>;

Shape shared_coefficient_shape(const Shape& b, int axis) {
  return Shape(b.begin() + axis + 1, b.end());
}

// What both scan ops check: (re, im) pairs of f32/f64 values over one time axis, and
// coefficients of the values' shape or of the shape after the time axis. `values` and
// `coeffs` name the operands in the messages.
void check_scan_layout(const char* op, const Node& n, const Node& v, const char* values,
                       const Shape& coeffs, const char* coeffs_name) {
  FX_CHECK(v.dtype == DType::f32 || v.dtype == DType::f64, "{}: needs f32 or f64 operands, got {}",
           op, dtype_name(v.dtype));
  FX_CHECK(v.shape.size() >= 2 && v.shape.back() == 2,
           "{}: {} must be [..., T, ..., 2] ((re, im) pairs in a trailing axis), got {}", op,
           values, shape_str(v.shape));
  FX_CHECK(n.attrs.axes.size() == 1, "{}: needs exactly one time axis", op);
  int64_t axis = n.attrs.axes[0];
  FX_CHECK(axis >= 0 && axis < (int64_t)v.shape.size() - 1,
           "{}: time axis {} out of range for {} {} (the last axis holds (re, im))", op, axis,
           values, shape_str(v.shape));
  const Shape shared = shared_coefficient_shape(v.shape, (int)axis);
  FX_CHECK(coeffs == v.shape || coeffs == shared,
           "{}: {} {} must equal {} {} or its shape after the time axis {}", op, coeffs_name,
           shape_str(coeffs), values, shape_str(v.shape), shape_str(shared));
}

void scan_rule(Node& n, const In& in) {
  const Node &a = *in[0], &b = *in[1];
  FX_CHECK(a.dtype == b.dtype, "linear_scan: dtypes differ: a {} vs b {}", dtype_name(a.dtype),
           dtype_name(b.dtype));
  check_scan_layout("linear_scan", n, b, "b", a.shape, "a");
  n.shape = b.shape;
  n.dtype = b.dtype;
}

// by = +1: out_t = x_{t-1} (zero at t = 0); by = -1: out_t = x_{t+1} (zero at the end).
// Done on an [outer, T, rest] view so the copies move whole rows.
Var shift(Var x, int axis, int by) {
  Shape s = x.shape();
  int64_t T = s[axis], outer = 1, rest = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < (int)s.size(); ++i) rest *= s[i];
  Var v = reshape(x, {outer, T, rest});
  Axes low(3, 0), high(3, 0);
  if (by > 0) {
    low[1] = 1;
    v = slice_axis(pad(v, low, high), 1, 0, T);
  } else {
    high[1] = 1;
    v = pad(slice_axis(v, 1, 1, T), low, high);
  }
  return reshape(v, s);
}

V scan_vjp(const VjpArgs& x) {
  Var a = x.in[0], b = x.in[1], h = x.out, g = x.g;
  int axis = (int)x.node.attrs.axes[0];
  bool rev = x.node.attrs.reverse;
  bool per_step = a.shape() == b.shape();
  // The adjoint runs the other way; at step t it carries d from the step the forward
  // scan reaches next (t+1 forward, t-1 reverse), whose coefficient is a there.
  Var carry = conj(per_step ? shift(a, axis, rev ? +1 : -1) : a);
  Var d = linear_scan(carry, g, axis, !rev);
  return {scan_coefficient_grad(d, h, a.shape(), axis, rev), d};
}

void coefficient_grad_rule(Node& n, const In& in) {
  const Node &d = *in[0], &h = *in[1];
  FX_CHECK(d.shape == h.shape && d.dtype == h.dtype,
           "scan_coefficient_grad: d {}{} and h {}{} must have one shape and dtype",
           dtype_name(d.dtype), shape_str(d.shape), dtype_name(h.dtype), shape_str(h.shape));
  check_scan_layout("scan_coefficient_grad", n, d, "d", n.attrs.shape, "coefficient shape");
  n.shape = n.attrs.shape;
  n.dtype = d.dtype;
}

// da = sum d * conj(hp) with hp the shifted h. With cotangent G (a's shape):
// dd = G * hp, and dhp = d * conj(G), which lands on h shifted back by one step.
V coefficient_grad_vjp(const VjpArgs& x) {
  Var d = x.in[0], h = x.in[1], G = x.g;
  int axis = (int)x.node.attrs.axes[0];
  bool rev = x.node.attrs.reverse;
  Var dd = complex_mul(G, shift(h, axis, rev ? -1 : +1));
  Var dh = shift(complex_mul(d, conj(G)), axis, rev ? +1 : -1);
  return {dd, dh};
}
}  // namespace

Var linear_scan(Var a, Var b, int64_t axis, bool reverse) {
  Attrs at;
  at.axes = {normalize_axis(axis, b.rank(), "linear_scan")};
  at.reverse = reverse;
  return b.graph->add(Op::linear_scan, {a, b}, std::move(at));
}

Var scan_coefficient_grad(Var d, Var h, const Shape& a_shape, int64_t axis, bool reverse) {
  Attrs at;
  at.axes = {normalize_axis(axis, d.rank(), "scan_coefficient_grad")};
  at.reverse = reverse;
  at.shape = a_shape;
  return d.graph->add(Op::scan_coefficient_grad, {d, h}, std::move(at));
}

void register_scan_op(OpTable& t) {
  t[(int)Op::linear_scan] = {"linear_scan", 2, scan_rule, scan_vjp};
  t[(int)Op::scan_coefficient_grad] = {"scan_coefficient_grad", 2, coefficient_grad_rule,
                                       coefficient_grad_vjp};
}

}  // namespace fx
