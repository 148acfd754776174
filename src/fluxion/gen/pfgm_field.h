// The empirical Poisson field of a large batch of charges at a small batch of points: the
// training target's inner computation in PFGM (losses.py's `gt_direction`).
#pragma once
#include <cstdint>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::gen {

// The empirical field of charges `data` (f32 [L, N], at z = 0) at points `at` (f32 [B, N+1]):
//   E(p) = Σ_j w_j (x̃_j − p),  w_j = dist_j^{−(N+1)} / Σ_k dist_k^{−(N+1)},
// with the weights formed in log space relative to the row's nearest charge (the reference's
// (min_dist/dist)^{N+1}, stable for any N). log_norm[b] = log Σ_j dist_j^{−(N+1)}, so the
// unnormalised Poisson field is E·exp(log_norm) (magnitude ∝ 1/dist^N for a single charge).
// Weights below e^{−60} of the largest are dropped (they cannot change a double sum).
struct EmpiricalField {
  std::vector<double> E;         // [B, N+1] row-major
  std::vector<double> log_norm;  // [B]
  int64_t rows = 0, cols = 0;
};

// Picks the implementation: the GEMM form from N >= kPfgmGemmMinDim, the direct one below.
EmpiricalField pfgm_empirical_field(const Tensor& at, const Tensor& data);
inline constexpr int64_t kPfgmGemmMinDim = 16;

// Direct: every distance as a double loop over the coordinates, one row at a time (no [B, L]
// matrix). Exact to double rounding; O(B·L·N) scalar work, the reference for the GEMM form.
EmpiricalField pfgm_empirical_field_direct(const Tensor& at, const Tensor& data);

// GEMM form for large N (images): ‖p − x_j‖² = ‖p‖² + ‖x_j‖² − 2 p·x_j with the cross term
// an f32 GEMM (oneDNN) on data centred at their mean and the norms in double; the weighted
// sum Σ w_j x_j is a second GEMM. Where cancellation makes a distance's f32 error matter
// (bounded log-weight error > 0.05 on a weight above e^-20 of the largest, i.e. points close to
// a charge), that distance is recomputed directly in double. Materialises the [B, L] weights (2 MB
// at 128 × 4096). Agrees with the direct form to ~1e-5 of sqrt(N) in the target
// (tests/test_gen_pfgm.cpp).
EmpiricalField pfgm_empirical_field_gemm(const Tensor& at, const Tensor& data);

}  // namespace fx::gen
