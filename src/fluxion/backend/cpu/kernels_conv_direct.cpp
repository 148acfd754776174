// Direct f32 convolution loops for few output channels (conv_geometry.h: conv_runs_direct).
// oneDNN blocks output channels by 16: a 32 -> 1 channel 3x3 convolution (the last layer of
// an image U-Net) ran at ~21 GFLOP/s there (U-Net step, 2026-12-07, Zen 5: forward 1.9 ms,
// backward-data 1.7 ms with the copies into and out of its blocked layout).
//
// Stride 1 only. Each input plane is copied into a zero-padded one of width Wp, and the
// output is computed Wp wide (the columns past OW are dropped): then the term of one kernel
// tap, out[oh, ow] += in[oh + kh*dh, ow + kw*dw] * w, is one contiguous loop over the whole
// plane, in[i + kh*dh*Wp + kw*dw] for i < OH*Wp, which vectorises. Backward-data is the
// same correlation of the output gradient with the flipped kernel.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fluxion/backend/cpu/conv_geometry.h"
#include "fluxion/backend/cpu/kernels.h"

namespace fx::cpu {

namespace {

// One correlation problem: planes of `in` ([N, Cin, Hi, Wi]) padded by ph/pw, a kernel tap
// grid KH x KW with dilation dh/dw, planes of `out` ([N, Cout, Ho, Wo]).
struct Correlation {
  int64_t N, Cin, Hi, Wi, Cout, Ho, Wo, KH, KW, ph, pw, dh, dw;
  int64_t Wp() const { return Wi + 2 * pw; }
  // Padded plane, with room for the last taps' overrun of the Wp-wide output rows.
  int64_t padded_size() const { return (Hi + 2 * ph) * Wp() + (KW - 1) * dw; }
};

// Copies a [rows, cols] plane into one `width` wide, starting `top` rows and `left` columns
// in, zero everywhere else (size floats in all). Plain loops: rows are short (28 floats), and
// a library call per row cost more than the copy.
__attribute__((target_clones("avx512f", "avx2", "default"))) void pad_into(
    const float* __restrict src, int64_t rows, int64_t cols, float* __restrict dst, int64_t top,
    int64_t left, int64_t width, int64_t size) {
  int64_t k = 0;
  for (; k < top * width + left; ++k) dst[k] = 0.0f;
  for (int64_t r = 0; r < rows; ++r) {
    float* d = dst + (top + r) * width + left;
    const float* s = src + r * cols;
    for (int64_t j = 0; j < cols; ++j) d[j] = s[j];
    const int64_t gap_end = r + 1 < rows ? (top + r + 1) * width + left : size;
    for (int64_t j = (top + r) * width + left + cols; j < gap_end; ++j) dst[j] = 0.0f;
  }
  if (rows == 0)
    for (; k < size; ++k) dst[k] = 0.0f;
}

void pad_plane(const Correlation& c, const float* src, float* dst) {
  pad_into(src, c.Hi, c.Wi, dst, c.ph, c.pw, c.Wp(), c.padded_size());
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void add_scaled(
    float* __restrict out, const float* __restrict in, int64_t n, float w) {
  for (int64_t i = 0; i < n; ++i) out[i] += in[i] * w;
}

// All taps of a 3x3 kernel in one pass: out[i] += in[i + off[t]] * w[t] for t = 0..8, in
// that order, so out is loaded and stored once instead of nine times.
__attribute__((target_clones("avx512f", "avx2", "default"))) void add_scaled_taps9(
    float* __restrict out, const float* __restrict in, const int64_t* off, const float* w,
    int64_t n) {
  const float *p0 = in + off[0], *p1 = in + off[1], *p2 = in + off[2], *p3 = in + off[3],
              *p4 = in + off[4], *p5 = in + off[5], *p6 = in + off[6], *p7 = in + off[7],
              *p8 = in + off[8];
  for (int64_t i = 0; i < n; ++i) {
    float s = out[i];
    s += p0[i] * w[0];
    s += p1[i] * w[1];
    s += p2[i] * w[2];
    s += p3[i] * w[3];
    s += p4[i] * w[4];
    s += p5[i] * w[5];
    s += p6[i] * w[6];
    s += p7[i] * w[7];
    s += p8[i] * w[8];
    out[i] = s;
  }
}

// sum_i a[i] * b[i]: four vectors of 16 float partial sums (so the adds overlap), added up
// in double.
__attribute__((target_clones("avx512f", "avx2", "default"))) double dot_in_lanes(
    const float* __restrict a, const float* __restrict b, int64_t n) {
  float l0[16] = {}, l1[16] = {}, l2[16] = {}, l3[16] = {};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int l = 0; l < 16; ++l) {
      l0[l] += a[i + l] * b[i + l];
      l1[l] += a[i + 16 + l] * b[i + 16 + l];
      l2[l] += a[i + 32 + l] * b[i + 32 + l];
      l3[l] += a[i + 48 + l] * b[i + 48 + l];
    }
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l) l0[l] += a[i + l] * b[i + l];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  double s = tail;
  for (int l = 0; l < 16; ++l) s += (double)(l0[l] + l1[l]) + (double)(l2[l] + l3[l]);
  return s;
}

// out[n, co] = sum over ci, kh, kw of tap(co, ci, kh, kw) * shifted in[n, ci], in that order.
template <typename Tap>
void correlate(const Correlation& c, const float* in, float* out, Tap tap) {
  const int64_t Wp = c.Wp(), span = c.Ho * Wp;
  parallel_range(c.N * c.Cout, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> padded((size_t)c.padded_size()), acc((size_t)span);
    for (int64_t nco = lo; nco < hi; ++nco) {
      const int64_t n = nco / c.Cout, co = nco % c.Cout;
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t ci = 0; ci < c.Cin; ++ci) {
        pad_plane(c, in + (n * c.Cin + ci) * c.Hi * c.Wi, padded.data());
        if (c.KH * c.KW == 9) {
          int64_t off[9];
          float w[9];
          for (int64_t t = 0; t < 9; ++t) {
            off[t] = t / c.KW * c.dh * Wp + t % c.KW * c.dw;
            w[t] = tap(co, ci, t / c.KW, t % c.KW);
          }
          add_scaled_taps9(acc.data(), padded.data(), off, w, span);
          continue;
        }
        for (int64_t kh = 0; kh < c.KH; ++kh)
          for (int64_t kw = 0; kw < c.KW; ++kw)
            add_scaled(acc.data(), padded.data() + kh * c.dh * Wp + kw * c.dw, span,
                       tap(co, ci, kh, kw));
      }
      float* o = out + nco * c.Ho * c.Wo;
      for (int64_t h = 0; h < c.Ho; ++h)
        std::memcpy(o + h * c.Wo, acc.data() + h * Wp, sizeof(float) * c.Wo);
    }
  });
}

}  // namespace

bool direct_conv_loops_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("FLUXION_CONV_DIRECT_LOOPS");
    return !(e && std::string(e) == "0");
  }();
  return on;
}

void direct_conv_forward(const ConvGeom& g, const float* x, const float* w, float* y) {
  Correlation c{g.N, g.C, g.H, g.W, g.O, g.OH, g.OW, g.KH, g.KW, g.ph, g.pw, g.dh, g.dw};
  correlate(c, x, y, [&](int64_t o, int64_t ci, int64_t kh, int64_t kw) {
    return w[((o * g.C + ci) * g.KH + kh) * g.KW + kw];
  });
}

void direct_conv_backward_data(const ConvGeom& g, const float* gy, const float* w, float* dx) {
  // dx = gy correlated with the flipped kernel, padded by the kernel's extent minus the
  // forward padding (conv_runs_direct keeps that >= 0).
  Correlation c{g.N,
                g.O,
                g.OH,
                g.OW,
                g.C,
                g.H,
                g.W,
                g.KH,
                g.KW,
                (g.KH - 1) * g.dh - g.ph,
                (g.KW - 1) * g.dw - g.pw,
                g.dh,
                g.dw};
  correlate(c, gy, dx, [&](int64_t ci, int64_t o, int64_t kh, int64_t kw) {
    return w[((o * g.C + ci) * g.KH + (g.KH - 1 - kh)) * g.KW + (g.KW - 1 - kw)];
  });
}

void direct_conv_backward_weights(const ConvGeom& g, const float* x, const float* gy, float* dw) {
  // dw[o, c, kh, kw] = sum over n of (padded x[n, c] shifted by the tap) . gy[n, o], the
  // output gradient laid out Wp wide with zeros past OW.
  Correlation c{g.N, g.C, g.H, g.W, g.O, g.OH, g.OW, g.KH, g.KW, g.ph, g.pw, g.dh, g.dw};
  const int64_t Wp = c.Wp(), span = g.OH * Wp;
  parallel_range(g.O * g.C, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> padded((size_t)c.padded_size()), wide((size_t)span);
    std::vector<double> total((size_t)(g.KH * g.KW));
    for (int64_t oc = lo; oc < hi; ++oc) {
      const int64_t o = oc / g.C, ci = oc % g.C;
      std::fill(total.begin(), total.end(), 0.0);
      for (int64_t n = 0; n < g.N; ++n) {
        pad_plane(c, x + (n * g.C + ci) * g.H * g.W, padded.data());
        const float* gp = gy + (n * g.O + o) * g.OH * g.OW;
        pad_into(gp, g.OH, g.OW, wide.data(), 0, 0, Wp, span);
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw)
            total[kh * g.KW + kw] +=
                dot_in_lanes(padded.data() + kh * g.dh * Wp + kw * g.dw, wide.data(), span);
      }
      for (int64_t t = 0; t < g.KH * g.KW; ++t) dw[oc * g.KH * g.KW + t] = (float)total[t];
    }
  });
}

}  // namespace fx::cpu
