// Composite ops: functions of primitives. They need no VJP of their own; grad()
// differentiates through their parts, and the compiler fuses their elementwise chains.
#include <cmath>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"

namespace fx {

Var square(Var x) { return x * x; }

// where(x > 0, x, 0) rather than maximum(x, 0): gradient 0 at x == 0, as in PyTorch.
Var relu(Var x) { return where(gt(x, scalar_like(x, 0.0)), x, zeros_like(x)); }

Var silu(Var x) { return x * sigmoid(x); }

Var gelu(Var x, bool tanh_approximation) {
  if (tanh_approximation) {
    Var inner = (x + x * x * x * 0.044715) * std::sqrt(2.0 / M_PI);
    return 0.5 * x * (1.0 + tanh(inner));
  }
  return 0.5 * x * (1.0 + erf(x * M_SQRT1_2));
}

// max(x, 0) + log(1 + exp(-|x|)): no overflow for large |x|.
Var softplus(Var x) { return maximum(x, zeros_like(x)) + log(1.0 + exp(-abs(x))); }

namespace {
int64_t reduced_count(Var x, const Axes& axes) {
  if (axes.empty()) return x.numel();
  int64_t n = 1;
  for (int64_t a : axes) n *= x.dim((int)a);
  return n;
}
}  // namespace

Var mean(Var x, Axes axes, bool keepdims) {
  int64_t n = reduced_count(x, axes);
  return sum(x, axes, keepdims) / (double)n;
}

Var variance(Var x, Axes axes, bool keepdims) {
  Var centred = x - mean(x, axes, true);
  return mean(square(centred), axes, keepdims);
}

// The max is a constant shift: stop_gradient keeps the VJP exact and cheap.
Var logsumexp(Var x, int64_t axis, bool keepdims) {
  Var m = stop_gradient(max(x, {axis}, true));
  Var s = log(sum(exp(x - m), {axis}, true)) + m;
  if (keepdims) return s;
  Shape out;
  int a = normalize_axis(axis, x.rank(), "logsumexp");
  for (int i = 0; i < x.rank(); ++i)
    if (i != a) out.push_back(x.dim(i));
  return reshape(s, out);
}

Var softmax(Var x, int64_t axis) {
  Var e = exp(x - stop_gradient(max(x, {axis}, true)));
  return e / sum(e, {axis}, true);
}

Var log_softmax(Var x, int64_t axis) { return x - logsumexp(x, axis, true); }

Var layer_norm(Var x, std::optional<Var> weight, std::optional<Var> bias, double eps) {
  Var mu = mean(x, {-1}, true);
  Var c = x - mu;
  Var var = mean(square(c), {-1}, true);
  Var y = c * rsqrt(var + eps);
  if (weight) y = y * *weight;
  if (bias) y = y + *bias;
  return y;
}

Var linear(Var x, Var w, std::optional<Var> bias) {
  Var y = dot(x, w);
  return bias ? y + *bias : y;
}

Var one_hot(Var labels, int64_t classes, DType dtype) {
  FX_CHECK(is_integer(labels.dtype()), "one_hot: labels must be integer, got {}",
           dtype_name(labels.dtype()));
  Shape s = labels.shape();
  s.push_back(classes);
  Var ids = iota(*labels.graph, s, (int64_t)s.size() - 1, labels.dtype());
  Shape ls = labels.shape();
  ls.push_back(1);
  return cast(eq(ids, reshape(labels, ls)), dtype);
}

Var mse_loss(Var pred, Var target) {
  FX_CHECK(pred.shape() == target.shape(), "mse_loss: prediction {} vs target {}",
           shape_str(pred.shape()), shape_str(target.shape()));
  return mean(square(pred - target));
}

Var cross_entropy(Var logits, Var labels) {
  FX_CHECK(logits.rank() == 2 && labels.rank() == 1 && labels.dim(0) == logits.dim(0),
           "cross_entropy: logits {} and labels {} (expected [N, C] and [N])",
           shape_str(logits.shape()), shape_str(labels.shape()));
  Var lp = log_softmax(logits, 1);
  Var picked = sum(lp * one_hot(labels, logits.dim(1), logits.dtype()), {1});
  return -mean(picked);
}

Var sum_to(Var x, const Shape& shape) {
  if (x.shape() == shape) return x;
  int lead = x.rank() - (int)shape.size();
  FX_CHECK(lead >= 0, "sum_to: cannot reduce {} to {}", shape_str(x.shape()), shape_str(shape));
  Axes axes;
  for (int i = 0; i < x.rank(); ++i)
    if (i < lead || (shape[i - lead] == 1 && x.dim(i) != 1)) axes.push_back(i);
  Var r = axes.empty() ? x : sum(x, axes, true);
  return reshape(r, shape);
}

}  // namespace fx
