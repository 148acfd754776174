#include "fluxion/gen/pfgm_field.h"

#include <dnnl.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "fluxion/core/error.h"
#include "fluxion/core/vector_math.h"

namespace fx::gen {

namespace {

struct Dims {
  int64_t B, L, N, D;
};

Dims check_inputs(const Tensor& at, const Tensor& data) {
  FX_CHECK(data.rank() == 2 && data.dtype() == DType::f32 && data.dim(0) > 0,
           "pfgm field: data must be f32 [L, N] with L > 0, got {}", shape_str(data.shape()));
  const int64_t L = data.dim(0), N = data.dim(1), D = N + 1;
  FX_CHECK(at.rank() == 2 && at.dtype() == DType::f32 && at.dim(1) == D,
           "pfgm field: points must be f32 [B, {}] (data dimension + 1), got {}", D,
           shape_str(at.shape()));
  return {at.dim(0), L, N, D};
}

EmpiricalField empty_field(const Dims& d) {
  EmpiricalField f;
  f.rows = d.B;
  f.cols = d.D;
  f.E.assign(d.B * d.D, 0.0);
  f.log_norm.assign(d.B, 0.0);
  return f;
}

// ‖(p, z) − (q, 0)‖² in double, clamped away from 0 (a point on a charge is an infinitely
// heavy weight: the reference's 1e-7 on the distance).
double exact_d2(const float* p, const float* q, int64_t N) {
  double s = double(p[N]) * p[N];
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < N; ++i) {
    double t = double(q[i]) - p[i];
    s += t * t;
  }
  return std::max(s, 1e-28);
}

}  // namespace

EmpiricalField pfgm_empirical_field(const Tensor& at, const Tensor& data) {
  return data.rank() == 2 && data.dim(1) >= kPfgmGemmMinDim ? pfgm_empirical_field_gemm(at, data)
                                                            : pfgm_empirical_field_direct(at, data);
}

namespace {

// One row of the direct form: the field at point p (N + 1 floats) of the charges qt, stored
// coordinate-major in double ([N][L]), so every loop runs over the charges and vectorises for
// any N (a 2-D row is a few passes of L lanes, not L calls of a length-2 loop). Writes the
// N + 1 field components to e and returns log Σ_j dist_j^{-(N+1)}. d2 and w: L doubles of
// scratch. Cloned per ISA: AVX-512 and AVX2 give 8 and 4 double lanes, the baseline 2.
__attribute__((target_clones("avx512f", "avx2", "default"))) double direct_row(
    const float* p, const double* qt, int64_t L, int64_t N, double* e, double* d2, double* w) {
  const int64_t k = N + 1;  // w_j = (d2_min / d2_j)^{k/2}
  // Pass 1: squared distances and their minimum; the weights relative to the nearest charge
  // then lie in (0, 1], so nothing overflows for any N (the reference's min_dist/dist form).
  // A point on a charge is an infinitely heavy weight: clamped like the reference's 1e-7 on
  // the distance.
  const double z2 = double(p[N]) * p[N];
  for (int64_t j = 0; j < L; ++j) d2[j] = z2;
  for (int64_t i = 0; i < N; ++i) {
    const double pi = p[i];
    const double* q = qt + i * L;
#pragma omp simd
    for (int64_t j = 0; j < L; ++j) d2[j] += (q[j] - pi) * (q[j] - pi);
  }
  double d2min = std::numeric_limits<double>::infinity();
#pragma omp simd reduction(min : d2min)
  for (int64_t j = 0; j < L; ++j) {
    d2[j] = std::max(d2[j], 1e-28);
    d2min = std::min(d2min, d2[j]);
  }
  // Pass 2: w_j = r^{k/2}, r = d2min/d2_j: for small k by repeated squaring (sqrt for an odd
  // k), one vector pass per bit of k/2; else exp(k/2·log r). Weights below e^{-60} (1e-26)
  // cannot change a double sum and are dropped, as in the GEMM form.
  if (k <= 64) {
#pragma omp simd
    for (int64_t j = 0; j < L; ++j) {
      d2[j] = d2min / d2[j];  // from here on r, the base of the powers
      w[j] = k % 2 ? std::sqrt(d2[j]) : 1.0;
    }
    for (int64_t bits = k / 2; bits > 0; bits >>= 1) {
      if (bits & 1) {
#pragma omp simd
        for (int64_t j = 0; j < L; ++j) w[j] *= d2[j];
      }
#pragma omp simd
      for (int64_t j = 0; j < L; ++j) d2[j] *= d2[j];
    }
  } else {
    for (int64_t j = 0; j < L; ++j) {
      const double lw = 0.5 * double(k) * std::log(d2min / d2[j]);
      w[j] = lw < -60 ? 0.0 : std::exp(lw);
    }
  }
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < L; ++j) {
    w[j] = w[j] < 1e-26 ? 0.0 : w[j];
    sum += w[j];
  }
  for (int64_t i = 0; i < N; ++i) {
    const double* q = qt + i * L;
    double acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < L; ++j) acc += w[j] * q[j];
    e[i] = acc / sum - p[i];
  }
  e[N] = -double(p[N]);  // every charge is at z = 0
  return std::log(sum) - 0.5 * double(k) * std::log(d2min);
}

}  // namespace

EmpiricalField pfgm_empirical_field_direct(const Tensor& at, const Tensor& data) {
  const Dims dims = check_inputs(at, data);
  const int64_t B = dims.B, L = dims.L, N = dims.N, D = dims.D;
  EmpiricalField f = empty_field(dims);
  const float* ap = at.data<float>();
  const float* dp = data.data<float>();
  std::vector<double> qt(N * L);  // the charges coordinate-major
  for (int64_t j = 0; j < L; ++j)
    for (int64_t i = 0; i < N; ++i) qt[i * L + j] = dp[j * N + i];
#pragma omp parallel if (B * L * N > (1 << 16))
  {
    std::vector<double> d2(L), w(L);  // per-thread scratch: no [B, L] matrix
#pragma omp for schedule(static)
    for (int64_t b = 0; b < B; ++b)
      f.log_norm[b] =
          direct_row(ap + b * D, qt.data(), L, N, f.E.data() + b * D, d2.data(), w.data());
  }
  return f;
}

namespace {

// C[M, N] = A[M, K] · op(B) in f32 through oneDNN (row-major; op(B) = Bᵀ for B [N, K]).
void sgemm(bool b_transposed, int64_t M, int64_t Ncols, int64_t K, const float* A, const float* Bm,
           float* C) {
  dnnl_status_t s = dnnl_sgemm('N', b_transposed ? 'T' : 'N', M, Ncols, K, 1.0f, A, K, Bm,
                               b_transposed ? K : Ncols, 0.0f, C, Ncols);
  FX_CHECK(s == dnnl_success, "pfgm field: oneDNN sgemm failed (status {})", int(s));
}

// One row of the GEMM form: from the cross terms in `row` (f32, [L]) to the weights relative
// to the row's largest, written back to `row`; returns their sum and sets *lw_max.
struct GemmRow {
  float* row;
  int64_t L;
  const double *ny, *sy;  // ‖y_j‖², ‖y_j‖ of the centred charges
  double np, z2, sp;      // ‖p‖², z², ‖p‖ of the centred point
  double kh, cross_err;
  const float *p, *dp;  // the point and the charges, for the exact recomputation
  int64_t N;
};

// Cloned per ISA, with vlog/vexp (core/vector_math.h) so the passes over the L charges
// vectorise: with libm's log and exp, called per charge, this pass was most of the target's
// time at 784-D (2.3x slower than torch.cdist + softmax at 128 x 4096).
__attribute__((target_clones("avx512f", "avx2", "default"))) double gemm_row_weights(
    const GemmRow& g, double* lw, double* delta, double* lw_max_out) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const int64_t L = g.L;
  const double kh = g.kh;
  float* row = g.row;
  // Per charge: the log weight lw = −kh·log d² and its relative uncertainty δ = err/d²: the
  // true lw lies in [lw − kh·δ, lw + kh·δ/(1−δ)] (log1p bounds).
  double best_low = -kInf;
#pragma omp simd reduction(max : best_low)
  for (int64_t j = 0; j < L; ++j) {
    const double d2 = std::max(g.np + g.ny[j] - 2.0 * double(row[j]) + g.z2, 1e-28);
    delta[j] = g.cross_err * g.sp * g.sy[j] / d2;
    lw[j] = -kh * vlog(d2);
    best_low = std::max(best_low, lw[j] - kh * delta[j]);
  }
  // Keep the charges whose weight can be within e^-60 of the largest. Recompute in double
  // those that can weigh more than e^-20 of it and whose log weight the f32 cross term leaves
  // uncertain by more than 0.05 by the bound (≥ 10x the typical error): points near a
  // charge (marked δ = −1 here, recomputed below). Far from all charges d² ≫ the cancellation
  // and nothing is recomputed; smaller weights cannot move the sums by more than
  // 4096·e^-20 ≈ 8e-6 of the largest.
  int64_t recompute = 0;
#pragma omp simd reduction(+ : recompute)
  for (int64_t j = 0; j < L; ++j) {
    const double dj = delta[j];
    const double hi = dj < 1 ? lw[j] + kh * dj / (1 - dj) : kInf;
    const bool dropped = hi < best_low - 60;
    const bool exact = !dropped && hi - (lw[j] - kh * dj) > 0.05 && hi >= best_low - 20;
    lw[j] = dropped ? -kInf : lw[j];
    delta[j] = exact ? -1.0 : dj;
    recompute += exact;
  }
  for (int64_t j = 0; recompute > 0 && j < L; ++j)
    if (delta[j] == -1.0) lw[j] = -kh * std::log(exact_d2(g.p, g.dp + j * g.N, g.N));
  double lw_max = -kInf;
#pragma omp simd reduction(max : lw_max)
  for (int64_t j = 0; j < L; ++j) lw_max = std::max(lw_max, lw[j]);
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < L; ++j) {
    const double r = lw[j] - lw_max;
    const float w = r < -60 ? 0.0f : float(vexp(std::max(r, -61.0)));
    row[j] = w;
    s += w;
  }
  *lw_max_out = lw_max;
  return s;
}

}  // namespace

EmpiricalField pfgm_empirical_field_gemm(const Tensor& at, const Tensor& data) {
  const Dims dims = check_inputs(at, data);
  const int64_t B = dims.B, L = dims.L, N = dims.N, D = dims.D;
  EmpiricalField f = empty_field(dims);
  const float* ap = at.data<float>();
  const float* dp = data.data<float>();
  // Centring on the data mean shrinks the norms the cross term cancels against.
  std::vector<double> centre(N, 0.0);
  for (int64_t j = 0; j < L; ++j)
    for (int64_t i = 0; i < N; ++i) centre[i] += dp[j * N + i];
  for (double& c : centre) c /= double(L);
  std::vector<float> yc(L * N), pc(B * N);
  std::vector<double> ny(L), np(B);
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < L; ++j) {
    double s = 0;
    for (int64_t i = 0; i < N; ++i) {
      float v = float(dp[j * N + i] - centre[i]);
      yc[j * N + i] = v;
      s += double(v) * v;
    }
    ny[j] = s;
  }
  for (int64_t b = 0; b < B; ++b) {
    double s = 0;
    for (int64_t i = 0; i < N; ++i) {
      float v = float(ap[b * D + i] - centre[i]);
      pc[b * N + i] = v;
      s += double(v) * v;
    }
    np[b] = s;
  }
  std::vector<float> W(B * L);  // the cross terms, then the weights relative to each row's max
  sgemm(true, B, L, N, pc.data(), yc.data(), W.data());

  const double kh = 0.5 * double(N + 1);  // log w = −kh·log d²
  // Error of an f32 dot product of length N: ~sqrt(N)·2^-24·‖a‖‖b‖ (probabilistic bound,
  // Higham & Mary 2019), doubled for the factor 2 and doubled again as margin.
  const double cross_err = 4.0 * std::sqrt(double(N)) * std::ldexp(1.0, -24);
  std::vector<double> sum(B), sy(L);
  for (int64_t j = 0; j < L; ++j) sy[j] = std::sqrt(ny[j]);
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    const float* p = ap + b * D;
    const double z2 = double(p[N]) * p[N], sp = std::sqrt(np[b]);
    float* row = W.data() + b * L;
    std::vector<double> lw(L), delta(L);
    double lw_max = 0;
    const double s =
        gemm_row_weights({row, L, ny.data(), sy.data(), np[b], z2, sp, kh, cross_err, p, dp, N},
                         lw.data(), delta.data(), &lw_max);
    sum[b] = s;
    f.log_norm[b] = std::log(s) + lw_max;
  }
  std::vector<float> wy(B * N);
  sgemm(false, B, N, L, W.data(), yc.data(), wy.data());
  for (int64_t b = 0; b < B; ++b) {
    double* e = f.E.data() + b * D;
    const float* p = ap + b * D;
    for (int64_t i = 0; i < N; ++i) e[i] = wy[b * N + i] / sum[b] - (double(p[i]) - centre[i]);
    e[N] = -double(p[N]);  // every charge is at z = 0
  }
  return f;
}

}  // namespace fx::gen
