// Poisson flow generative models (Xu, Liu, Tian, Tegmark, Jaakkola, "Poisson Flow Generative
// Models", NeurIPS 2022; reference code Newbeeer/Poisson_flow). The N-dimensional data are
// charges on the plane z = 0 of R^(N+1); a network learns the normalised field of those
// charges, and samples follow field lines from a large hemisphere back down to z = 0.
//
// Training (losses.py, utils_poisson.py): a small batch is perturbed by forward_pz, the target
// is the field of a *large* batch of data at the perturbed points, normalised as
// sqrt(N)·E/(‖E‖ + γ), and the loss is the squared L2 distance of the network's (x, z) output
// to it. This file holds the training half; pfgm_prior.h the prior, pfgm_sample.h the ODE.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/api/fx.h"
#include "fluxion/core/tensor.h"
#include "fluxion/gen/pfgm_field.h"
#include "fluxion/nn/layers.h"

namespace fx::gen {

struct PfgmConfig {
  double sigma = 0.01;         // σ: std of the initial perturbation (sigma_end)
  double tau = 0.03;           // τ: the radius grows as (1+τ)^m
  double gamma = 5.0;          // γ in sqrt(N)·E/(‖E‖ + γ)
  double z_max = 40.0;         // the prior's plane; sampling starts there
  double M = 0.0;              // m ~ U[0, M]; 0: auto, so that σ(1+τ)^M = z_max
  bool restrict_M = true;      // |ε_z| < 0.005 draws m ~ U[0, floor(0.7 M)] instead
  int64_t small_batch = 128;   // perturbed points per step
  int64_t large_batch = 4096;  // charges for the field target (≥ small_batch)
  double upper_norm = 3000;    // prior radius clipped to [1, upper_norm]
  double z_exp = 5.0;          // below it the sampler replaces v_z by its analytic estimate
  double eps = 1e-3;           // the ODE stops at z = eps

  // Throws fx::Error naming the option and its value.
  void validate() const;
  // M itself, or the automatic value log(z_max/σ)/log(1+τ).
  double resolved_M() const;
  // The largest radius training perturbs data of dimension N to, σ·sqrt(N)·(1+τ)^M (the typical
  // ‖ε_x‖ at m = M); z_max·sqrt(N) with the automatic M.
  double largest_radius(int64_t N) const;
};

// forward_pz: x = x0 + ‖ε_x‖(1+τ)^m u, z = |ε_z|(1+τ)^m with (ε_x, ε_z) ~ N(0, σ²I), m ~ U[0,M],
// u uniform on the sphere. As the reference does, |ε_z| (after abs) < 0.005 redraws m on
// [0, floor(0.7 M)] when restrict_M. x0: f32 [B, N]; returns f32 [B, N+1] (x, z), z > 0.
// Every random number comes from Philox streams of `seed`.
Tensor pfgm_perturb(const Tensor& x0, const PfgmConfig& c, uint64_t seed);

// The training target sqrt(N)·E/(‖E‖ + γ), f32 [B, N+1].
Tensor pfgm_field_target(const Tensor& at, const Tensor& data, double gamma);
// The same from a field already computed (either form of pfgm_field.h).
Tensor pfgm_target_from_field(const EmpiricalField& f, double gamma);

// A field network: (x [B, N], z [B, 1] > 0) -> (v_x, v_z) [B, N+1]. The MLP below for points,
// PoissonUNet (pfgm_unet.h) for images.
class PoissonNet : public nn::Module {
 public:
  virtual Var operator()(Var x, Var z) const = 0;
  virtual int64_t dim() const = 0;  // N
};

struct PoissonMLPConfig {
  int64_t dim = 2;  // N
  int64_t hidden = 256;
  int64_t layers = 3;
  std::string activation = "silu";
};

// (v_x, v_z) = MLP([x, log z]): the field network for points (the architecture of
// VelocityMLP with log z as the time input and N+1 outputs).
class PoissonMLP : public PoissonNet {
 public:
  PoissonMLP(const PoissonMLPConfig& cfg, nn::InitRng& rng);
  Var operator()(Var x, Var z) const override;  // x [B, N], z [B, 1] > 0 -> [B, N+1]
  int64_t dim() const override { return cfg_.dim; }
  const PoissonMLPConfig& config() const { return cfg_; }

 private:
  PoissonMLPConfig cfg_;
  std::shared_ptr<nn::MLP> net_;
};

// mean over the batch of ‖net(x, z) − target‖² (the reference's sum over coordinates).
Var pfgm_loss(Var net_out, Var target);
// The same for the network: xz [B, N+1] perturbed points, target [B, N+1].
Var pfgm_loss(const PoissonNet& net, Var xz, Var target);

}  // namespace fx::gen
