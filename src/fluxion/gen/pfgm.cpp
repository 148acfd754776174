#include "fluxion/gen/pfgm.h"

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::gen {

void PfgmConfig::validate() const {
  auto positive = [](const char* name, double v) {
    FX_CHECK(std::isfinite(v) && v > 0, "pfgm: --{} must be positive, got {}", name, v);
  };
  positive("sigma", sigma);
  positive("tau", tau);
  positive("gamma", gamma);
  positive("z-max", z_max);
  positive("z-exp", z_exp);
  positive("eps", eps);
  FX_CHECK(std::isfinite(M) && M >= 0, "pfgm: --m must be >= 0 (0: automatic), got {}", M);
  FX_CHECK(small_batch > 0, "pfgm: the batch size (--batch) must be positive, got {}", small_batch);
  FX_CHECK(large_batch > 0, "pfgm: --large-batch must be positive, got {}", large_batch);
  FX_CHECK(large_batch >= small_batch,
           "pfgm: --large-batch ({}) must be at least the batch size (--batch, {})", large_batch,
           small_batch);
  FX_CHECK(std::isfinite(upper_norm) && upper_norm >= 1, "pfgm: --upper-norm must be >= 1, got {}",
           upper_norm);
  FX_CHECK(eps < z_max, "pfgm: --eps ({}) must be below --z-max ({})", eps, z_max);
}

double PfgmConfig::resolved_M() const {
  return M > 0 ? M : std::log(z_max / sigma) / std::log1p(tau);
}

double PfgmConfig::largest_radius(int64_t N) const {
  return sigma * std::sqrt(double(N)) * std::pow(1 + tau, resolved_M());
}

Tensor pfgm_perturb(const Tensor& x0, const PfgmConfig& c, uint64_t seed) {
  FX_CHECK(x0.rank() == 2 && x0.dtype() == DType::f32,
           "pfgm_perturb: x0 must be f32 [B, N], got {}", shape_str(x0.shape()));
  const int64_t B = x0.dim(0), N = x0.dim(1);
  const double M = c.resolved_M();
  // Streams: 0 m, 1 ε_z, 2 ε_x, 3 direction, 4 the restricted m.
  std::vector<double> m(B), ez(B), ex(B * N), dir(B * N), m2(B);
  philox_uniform(seed, 0, m.data(), B);
  philox_normal(seed, 1, ez.data(), B);
  philox_normal(seed, 2, ex.data(), B * N);
  philox_normal(seed, 3, dir.data(), B * N);
  philox_uniform(seed, 4, m2.data(), B);
  const double restricted = std::floor(0.7 * M);  // the reference's int(M * 0.7)
  Tensor out({B, N + 1}, DType::f32);
  const float* xp = x0.data<float>();
  float* op = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    double z = std::fabs(ez[b] * c.sigma);
    // The reference tests z after abs(): the rule fires for small |ε_z| only.
    double mb = (c.restrict_M && z < 0.005) ? m2[b] * restricted : m[b] * M;
    double mult = std::pow(1.0 + c.tau, mb);
    double nx = 0, nd = 0;
    for (int64_t i = 0; i < N; ++i) {
      nx += ex[b * N + i] * ex[b * N + i];
      nd += dir[b * N + i] * dir[b * N + i];
    }
    double radius = std::sqrt(nx) * c.sigma * mult / std::sqrt(nd);
    for (int64_t i = 0; i < N; ++i)
      op[b * (N + 1) + i] = float(xp[b * N + i] + radius * dir[b * N + i]);
    // z > 0 for the network's log z (the reference clamps it at 1e-10).
    op[b * (N + 1) + N] = float(std::max(z * mult, 1e-10));
  }
  return out;
}

Tensor pfgm_target_from_field(const EmpiricalField& f, double gamma) {
  const int64_t B = f.rows, D = f.cols;
  const double scale = std::sqrt(double(D - 1));
  Tensor out({B, D}, DType::f32);
  float* op = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    const double* e = f.E.data() + b * D;
    double n2 = 0;
    for (int64_t i = 0; i < D; ++i) n2 += e[i] * e[i];
    double k = scale / (std::sqrt(n2) + gamma);
    for (int64_t i = 0; i < D; ++i) op[b * D + i] = float(e[i] * k);
  }
  return out;
}

Tensor pfgm_field_target(const Tensor& at, const Tensor& data, double gamma) {
  FX_CHECK(std::isfinite(gamma) && gamma > 0, "pfgm: --gamma must be positive, got {}", gamma);
  return pfgm_target_from_field(pfgm_empirical_field(at, data), gamma);
}

PoissonMLP::PoissonMLP(const PoissonMLPConfig& cfg, nn::InitRng& rng) : cfg_(cfg) {
  FX_CHECK(cfg.dim > 0 && cfg.hidden > 0 && cfg.layers > 0,
           "pfgm model: dim, hidden and layers must be positive (got {}, {}, {})", cfg.dim,
           cfg.hidden, cfg.layers);
  std::vector<int64_t> hidden(cfg.layers, cfg.hidden);
  net_ = register_module(
      "net", std::make_shared<nn::MLP>(cfg.dim + 1, hidden, cfg.dim + 1, rng, cfg.activation));
}

Var PoissonMLP::operator()(Var x, Var z) const { return (*net_)(concat({x, log(z)}, 1)); }

Var pfgm_loss(Var net_out, Var target) {
  FX_CHECK(net_out.shape() == target.shape(), "pfgm loss: output {} and target {} differ",
           shape_str(net_out.shape()), shape_str(target.shape()));
  return mean(sum(square(net_out - target), {1}));
}

Var pfgm_loss(const PoissonNet& net, Var xz, Var target) {
  int64_t N = net.dim();
  FX_CHECK(xz.rank() == 2 && xz.dim(1) == N + 1,
           "pfgm loss: points {} do not match the model's dimension {} + 1", shape_str(xz.shape()),
           N);
  Var x = slice_axis(xz, 1, 0, N);
  Var z = slice_axis(xz, 1, N, N + 1);
  return pfgm_loss(net(x, z), target);
}

}  // namespace fx::gen
