// Thin front-end wrappers: each appends one primitive node.
#include "fluxion/api/fx.h"
#include "fluxion/api/row_shard.h"
#include "fluxion/core/error.h"

namespace fx {

namespace {
Var unary(Op op, Var x) { return x.graph->add(op, {x}); }
Var binary(Op op, Var a, Var b) {
  FX_CHECK(a.valid() && b.valid(), "{}: undefined operand", op_name(op));
  return a.graph->add(op, {a, b});
}
}  // namespace

Var neg(Var x) { return unary(Op::neg, x); }
Var exp(Var x) { return unary(Op::exp, x); }
Var log(Var x) { return unary(Op::log, x); }
Var sin(Var x) { return unary(Op::sin, x); }
Var cos(Var x) { return unary(Op::cos, x); }
Var tanh(Var x) { return unary(Op::tanh, x); }
Var sqrt(Var x) { return unary(Op::sqrt, x); }
Var rsqrt(Var x) { return unary(Op::rsqrt, x); }
Var abs(Var x) { return unary(Op::abs, x); }
Var sign(Var x) { return unary(Op::sign, x); }
Var sigmoid(Var x) { return unary(Op::sigmoid, x); }
Var erf(Var x) { return unary(Op::erf, x); }
Var floor(Var x) { return unary(Op::floor, x); }
Var logical_not(Var x) { return unary(Op::logical_not, x); }

Var add(Var a, Var b) { return binary(Op::add, a, b); }
Var sub(Var a, Var b) { return binary(Op::sub, a, b); }
Var mul(Var a, Var b) { return binary(Op::mul, a, b); }
Var div(Var a, Var b) { return binary(Op::div, a, b); }
Var pow(Var a, Var b) { return binary(Op::pow, a, b); }
Var maximum(Var a, Var b) { return binary(Op::maximum, a, b); }
Var minimum(Var a, Var b) { return binary(Op::minimum, a, b); }
Var lt(Var a, Var b) { return binary(Op::lt, a, b); }
Var le(Var a, Var b) { return binary(Op::le, a, b); }
Var gt(Var a, Var b) { return binary(Op::gt, a, b); }
Var ge(Var a, Var b) { return binary(Op::ge, a, b); }
Var eq(Var a, Var b) { return binary(Op::eq, a, b); }
Var ne(Var a, Var b) { return binary(Op::ne, a, b); }
Var logical_and(Var a, Var b) { return binary(Op::logical_and, a, b); }
Var logical_or(Var a, Var b) { return binary(Op::logical_or, a, b); }
Var where(Var c, Var a, Var b) { return c.graph->add(Op::where, {c, a, b}); }

Var cast(Var x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Attrs at;
  at.dtype = dtype;
  return x.graph->add(Op::cast, {x}, std::move(at));
}
Var stop_gradient(Var x) { return unary(Op::stop_gradient, x); }

namespace {
Var reduce(Op op, Var x, Axes axes, bool keepdims) {
  if (axes.empty())
    for (int i = 0; i < x.rank(); ++i) axes.push_back(i);
  Attrs at;
  at.axes = std::move(axes);
  at.keepdims = keepdims;
  return x.graph->add(op, {x}, std::move(at));
}
}  // namespace
Var sum(Var x, Axes axes, bool keepdims) { return reduce(Op::reduce_sum, x, axes, keepdims); }
Var max(Var x, Axes axes, bool keepdims) { return reduce(Op::reduce_max, x, axes, keepdims); }

Var broadcast_to(Var x, Shape shape) {
  if (x.shape() == shape) return x;
  Attrs at;
  at.shape = std::move(shape);
  return x.graph->add(Op::broadcast_to, {x}, std::move(at));
}

Var reshape(Var x, Shape shape) {
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      FX_CHECK(infer < 0, "reshape: more than one -1 in {}", shape_str(shape));
      infer = (int)i;
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    FX_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot reshape {} into {}",
             shape_str(x.shape()), shape_str(shape));
    shape[infer] = x.numel() / known;
  }
  if (x.shape() == shape) return x;
  Attrs at;
  at.shape = std::move(shape);
  return x.graph->add(Op::reshape, {x}, std::move(at));
}

Var permute(Var x, Axes order) {
  Attrs at;
  at.axes = std::move(order);
  return x.graph->add(Op::permute, {x}, std::move(at));
}

Var transpose(Var x) {
  FX_CHECK(x.rank() >= 2, "transpose: needs rank >= 2, got {}", shape_str(x.shape()));
  Axes order;
  for (int i = 0; i < x.rank(); ++i) order.push_back(i);
  std::swap(order[x.rank() - 1], order[x.rank() - 2]);
  return permute(x, order);
}

Var slice(Var x, Axes starts, Axes limits, Axes steps) {
  if (steps.empty()) steps.assign(starts.size(), 1);
  Attrs at;
  at.starts = std::move(starts);
  at.limits = std::move(limits);
  at.steps = std::move(steps);
  return x.graph->add(Op::slice, {x}, std::move(at));
}

Var slice_axis(Var x, int64_t axis, int64_t start, int64_t limit, int64_t step) {
  int a = normalize_axis(axis, x.rank(), "slice_axis");
  Axes s(x.rank(), 0), l = x.shape(), st(x.rank(), 1);
  s[a] = start;
  l[a] = limit;
  st[a] = step;
  return slice(x, s, l, st);
}

Var pad(Var x, Axes low, Axes high, Axes interior, double value) {
  if (interior.empty()) interior.assign(low.size(), 0);
  Attrs at;
  at.starts = std::move(low);
  at.limits = std::move(high);
  at.steps = std::move(interior);
  at.value = value;
  return x.graph->add(Op::pad, {x}, std::move(at));
}

Var concat(const std::vector<Var>& xs, int64_t axis) {
  FX_CHECK(!xs.empty(), "concat: no inputs");
  if (xs.size() == 1) return xs[0];
  Attrs at;
  at.axes = {axis};
  return xs[0].graph->add(Op::concat, xs, std::move(at));
}

Var dot(Var a, Var b, bool ta, bool tb) {
  Attrs at;
  at.transpose_a = ta;
  at.transpose_b = tb;
  return a.graph->add(Op::dot, {a, b}, std::move(at));
}
Var matmul(Var a, Var b) { return dot(a, b); }

Var gather(Var x, Var idx, int64_t axis) {
  Attrs at;
  at.axes = {axis};
  return x.graph->add(Op::gather, {x, idx}, std::move(at));
}

Var scatter_add(Var operand, Var idx, Var updates, int64_t axis) {
  Attrs at;
  at.axes = {axis};
  return operand.graph->add(Op::scatter_add, {operand, idx, updates}, std::move(at));
}

Var iota(Graph& g, Shape shape, int64_t axis, DType dtype) {
  Attrs at;
  at.shape = std::move(shape);
  at.axes = {axis};
  at.dtype = dtype;
  return g.add(Op::iota, {}, std::move(at));
}

namespace {
Var random(Op op, Var key, Shape shape, DType dtype) {
  Attrs at;
  at.shape = std::move(shape);
  at.dtype = dtype;
  const RowShard* rs = active_row_shard(*key.graph);
  if (!rs || at.shape.empty() || at.shape[0] != rs->rows)
    return key.graph->add(op, {key}, std::move(at));
  at.shape[0] = rs->total;  // this rank's rows of the global draw (row_shard.h)
  return slice_axis(key.graph->add(op, {key}, std::move(at)), 0, rs->start, rs->start + rs->rows);
}
}  // namespace
Var random_uniform(Var key, Shape shape, DType dt) {
  return random(Op::random_uniform, key, shape, dt);
}
Var random_normal(Var key, Shape shape, DType dt) {
  return random(Op::random_normal, key, shape, dt);
}

Var scalar_like(Var like, double value) { return like.graph->scalar(value, like.dtype()); }
Var zeros_like(Var x) { return broadcast_to(scalar_like(x, 0.0), x.shape()); }
Var ones_like(Var x) { return broadcast_to(scalar_like(x, 1.0), x.shape()); }
Var full(Graph& g, Shape shape, double value, DType dtype) {
  return broadcast_to(g.scalar(value, dtype), std::move(shape));
}

Var operator+(Var a, Var b) { return add(a, b); }
Var operator-(Var a, Var b) { return sub(a, b); }
Var operator*(Var a, Var b) { return mul(a, b); }
Var operator/(Var a, Var b) { return div(a, b); }
Var operator-(Var a) { return neg(a); }
Var operator+(Var a, double b) { return add(a, scalar_like(a, b)); }
Var operator-(Var a, double b) { return sub(a, scalar_like(a, b)); }
Var operator*(Var a, double b) { return mul(a, scalar_like(a, b)); }
Var operator/(Var a, double b) { return div(a, scalar_like(a, b)); }
Var operator+(double a, Var b) { return add(scalar_like(b, a), b); }
Var operator-(double a, Var b) { return sub(scalar_like(b, a), b); }
Var operator*(double a, Var b) { return mul(scalar_like(b, a), b); }
Var operator/(double a, Var b) { return div(scalar_like(b, a), b); }

}  // namespace fx
