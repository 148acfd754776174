// Image composites (NCHW), built from primitives and differentiated through them:
// nearest up-sampling (reshape + broadcast, so its VJP is a sum over each block),
// average pooling (a depthwise conv2d with constant weights), dropout (Philox mask),
// group norm and multi-head self-attention over positions.
#include <cmath>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"

namespace fx {

Var upsample_nearest(Var x, int64_t f) {
  FX_CHECK(x.rank() == 4, "upsample_nearest: input must be [N, C, H, W], got {}",
           shape_str(x.shape()));
  FX_CHECK(f >= 1, "upsample_nearest: factor {} must be >= 1", f);
  if (f == 1) return x;
  int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Var b = broadcast_to(reshape(x, {N, C, H, 1, W, 1}), {N, C, H, f, W, f});
  return reshape(b, {N, C, H * f, W * f});
}

Var avg_pool2d(Var x, int64_t kernel, int64_t stride, int64_t padding) {
  FX_CHECK(x.rank() == 4, "avg_pool2d: input must be [N, C, H, W], got {}", shape_str(x.shape()));
  FX_CHECK(kernel >= 1 && stride >= 0 && padding >= 0 && 2 * padding <= kernel,
           "avg_pool2d: kernel {} stride {} padding {} (need kernel >= 1, padding <= kernel/2)",
           kernel, stride, padding);
  if (stride == 0) stride = kernel;
  int64_t C = x.dim(1);
  Var w = full(*x.graph, {C, 1, kernel, kernel}, 1.0 / double(kernel * kernel), x.dtype());
  ConvParams p;
  p.stride = {stride, stride};
  p.padding = {padding, padding};
  p.groups = C;
  return conv2d(x, w, p);
}

Var dropout(Var x, double p, Var key) {
  FX_CHECK(p >= 0.0 && p < 1.0, "dropout: probability {} must be in [0, 1)", p);
  if (p == 0.0) return x;
  Var keep = ge(random_uniform(key, x.shape(), x.dtype()), scalar_like(x, p));
  return where(keep, x * (1.0 / (1.0 - p)), zeros_like(x));
}

Var group_norm(Var x, int64_t groups, std::optional<Var> weight, std::optional<Var> bias,
               double eps) {
  FX_CHECK(x.rank() >= 2, "group_norm: input must be [N, C, ...], got {}", shape_str(x.shape()));
  int64_t N = x.dim(0), C = x.dim(1);
  FX_CHECK(groups >= 1 && C % groups == 0, "group_norm: {} channels do not divide into {} groups",
           C, groups);
  Shape s = x.shape();
  for (auto* p : {&weight, &bias})
    if (*p)
      FX_CHECK((*p)->shape() == Shape{C}, "group_norm: affine parameter {} must be [{}]",
               shape_str((*p)->shape()), C);
  // The statistics over [N, G, C/G * H * W] rows; the normalisation and the affine map over
  // [N, G, C/G, H * W], where the per-group statistics and the per-channel parameters both
  // broadcast, so the compiler fuses them with what follows (a SiLU) into one kernel.
  // The same operations in the same order as over [N, C, H, W]: the same values.
  int64_t positions = 1;  // H * W
  for (size_t i = 2; i < s.size(); ++i) positions *= s[i];
  const int64_t per_group = C / groups;
  Var h = reshape(x, {N, groups, -1});
  Var mu = mean(h, {-1}, true);
  Var c = h - mu;
  Var r = rsqrt(mean(square(c), {-1}, true) + eps);
  Shape grouped{N, groups, per_group, positions}, per_channel{1, groups, per_group, 1};
  Var y = (reshape(x, grouped) - reshape(mu, {N, groups, 1, 1})) * reshape(r, {N, groups, 1, 1});
  if (weight) y = y * reshape(*weight, per_channel);
  if (bias) y = y + reshape(*bias, per_channel);
  return reshape(y, s);
}

Var spatial_attention(Var q, Var k, Var v, int64_t heads) {
  FX_CHECK(q.rank() == 3 && q.shape() == k.shape() && q.shape() == v.shape(),
           "spatial_attention: q, k, v must be equal [B, C, P], got {}, {}, {}",
           shape_str(q.shape()), shape_str(k.shape()), shape_str(v.shape()));
  int64_t B = q.dim(0), C = q.dim(1), P = q.dim(2);
  FX_CHECK(heads >= 1 && C % heads == 0,
           "spatial_attention: {} channels do not split into {} heads", C, heads);
  int64_t d = C / heads;
  Shape hs = {B * heads, d, P};
  q = reshape(q, hs);
  k = reshape(k, hs);
  v = reshape(v, hs);
  Var w = softmax(dot(q, k, true, false) * (1.0 / std::sqrt((double)d)), -1);  // [BH, P, P]
  return reshape(dot(v, w, false, true), {B, C, P});
}

}  // namespace fx
