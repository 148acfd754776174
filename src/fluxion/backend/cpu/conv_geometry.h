// The shape of one 2-D convolution problem, as the conv kernels see it: input [N, C, H, W],
// weights [O, C/G, KH, KW], output [N, O, OH, OW], strides, padding, dilation, groups.
#pragma once
#include <array>
#include <cstdint>

#include "fluxion/core/shape.h"
#include "fluxion/ir/op.h"

namespace fx::cpu {

struct ConvGeom {
  int64_t N, C, H, W, O, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, G;
  int64_t plain = 0;  // Attrs::plain_layout: plain-layout arguments, f32 forward only
  std::array<int64_t, 17> key() const {  // by value: a cache key must not hold references
    return {N, C, H, W, O, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, G, plain};
  }
};

inline ConvGeom conv_geometry(const Shape& x, const Shape& w, const Shape& y, const Attrs& a) {
  return {x[0],        x[1],        x[2],        x[3],       w[0],          w[2],
          w[3],        y[2],        y[3],        a.steps[0], a.steps[1],    a.starts[0],
          a.starts[1], a.limits[0], a.limits[1], a.groups,   a.plain_layout};
}

// f32 convolutions with at most this many output channels (an image generator's last layer)
// run fluxion's direct loops: oneDNN pads the output channels to a block of 16 and spends
// 16x the arithmetic (kernels_conv_direct.cpp).
// Stride 1, no groups, and padding no wider than the kernel's reach (backward-data pads by
// the difference). FLUXION_CONV_DIRECT_LOOPS=0 sends these to oneDNN too (the arithmetic of
// before 2026-12-07, which tests/test_methods_parity.cpp compares against).
constexpr int64_t kDirectConvMaxOutputs = 4;
bool direct_conv_loops_enabled();
// w: the weights' shape [O, C/G, KH, KW].
inline bool conv_runs_direct(const Shape& w, const Attrs& a) {
  return a.groups == 1 && w[0] <= kDirectConvMaxOutputs && direct_conv_loops_enabled() &&
         a.steps[0] == 1 && a.steps[1] == 1 && a.starts[0] <= (w[2] - 1) * a.limits[0] &&
         a.starts[1] <= (w[3] - 1) * a.limits[1];
}

// The direct loops, f32, plain NCHW / OIHW.
void direct_conv_forward(const ConvGeom& g, const float* x, const float* w, float* y);
void direct_conv_backward_data(const ConvGeom& g, const float* gy, const float* w, float* dx);
void direct_conv_backward_weights(const ConvGeom& g, const float* x, const float* gy, float* dw);

}  // namespace fx::cpu
